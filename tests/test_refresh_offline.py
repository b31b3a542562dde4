"""With no network, `python -m finder refresh` (in process) fails loudly and changes nothing: exit 1, one line
per source saying why, data/ byte-identical."""

import socket
from pathlib import Path

from helpers import RedirectAll

from finder.cli.commands import refresh as command
from scrapers.http import Fetcher

FIXTURES = Path(__file__).parent / "fixtures"
SOURCES = ("ods", "nhs", "nhsuk", "service-sites", "nhs-statistics", "iptuk", "postcodes")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: nothing listens there


def snapshot(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def test_no_network_exits_1_with_a_line_per_source_and_leaves_data_untouched(
    run_cli, data_copy, tmp_path, monkeypatch
):
    from finder.imports import nhs

    stats = FIXTURES / "nhs_stats"  # a directory to refresh, built by the project's importers
    nhs.import_providers(stats / "ods_providers.csv")
    nhs.import_service_links(stats / "service_links.csv")
    before = snapshot(data_copy)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("FINDER_POSTCODES_SOURCE", "https://example.org/codepo_gb.zip")
    monkeypatch.delenv("NHS_API_KEY", raising=False)
    monkeypatch.delenv("FINDER_NHS_STATS_URLS", raising=False)
    # Every request goes to a closed 127.0.0.1 port: nothing can answer, nothing leaves the machine.
    base_url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setattr(
        command,
        "make_fetcher",
        lambda args: RedirectAll(Fetcher(min_interval=0, retries=1, backoff=0.01, timeout=2), base_url),
    )

    done = run_cli("refresh")

    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stdout.splitlines() if not line.startswith("  ")]  # not the notes
    assert [line.split(":")[0] for line in lines] == list(SOURCES)
    # Without NHS_API_KEY the API source is skipped and the keyless nhs.uk route tries instead.
    assert lines.pop(1).startswith("nhs: skipped: no NHS_API_KEY: ")
    for line in lines:  # e.g. "iptuk: KEPT previous data: robots.txt: robots.txt could not be fetched ..."
        assert ": KEPT previous data: " in line
        assert "robots.txt could not be fetched (ConnectionError); not crawling this host this run" in line
    assert "Traceback" not in done.stderr
    assert snapshot(data_copy) == before
