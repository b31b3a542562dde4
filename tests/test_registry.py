"""One declaration per source: the import command, the build and the weekly workflow name the
sources the registries declare, and nothing else."""

import argparse
import re
from pathlib import Path

import pytest

from finder.cli import build_parser, main
from finder.cli.commands.build import DEFAULT_SHARED
from finder.imports.registry import IMPORTERS, shared_paths
from scrapers import refresh

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_command_offers_every_registered_source_and_only_those():
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    kind = next(a for a in commands.choices["import"]._actions if a.dest == "kind")
    assert set(kind.choices) == {importer.name for importer in IMPORTERS}
    for importer in IMPORTERS:
        assert f"{importer.name}: {importer.help}" in kind.help


def test_an_unregistered_import_kind_is_refused_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["import", "no-such-source", "x.csv"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no-such-source" in err


def test_the_weekly_workflow_names_exactly_the_refresh_sources():
    workflow = (ROOT / ".github" / "workflows" / "refresh.yml").read_text(encoding="utf-8")
    listed = re.search(r"Source names separated by spaces \(empty: all\): ([a-z -]+)\"", workflow)
    assert listed is not None
    assert sorted(listed.group(1).split()) == sorted(source.name for source in refresh.default_sources())


@pytest.mark.skipif(not DEFAULT_SHARED.is_dir(), reason="needs the shared source data")
def test_every_shared_source_the_build_names_exists():
    for importer in IMPORTERS:
        for path in shared_paths(importer, DEFAULT_SHARED):
            assert path.exists() or importer.optional, path
