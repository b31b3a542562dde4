"""Every refused import is one line that names the file and, where there is one, the row (or line)
and column; never a bare Python error. Windows-1252 (Latin-1's letters) is read the same way by
every importer. data/ is byte-identical after every refused file."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from finder.imports import nhs_coverage
from finder.schema import ROLES_FILE

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLES = {
    "nhs-providers": FIXTURES / "nhs_stats" / "ods_providers.csv",
    "service-links": FIXTURES / "nhs_stats" / "service_links.csv",
    "service-areas": FIXTURES / "service_areas" / "service_areas.csv",
    "service-roles": FIXTURES / "service_areas" / "service_roles.csv",
    "gp-practices": FIXTURES / "gp" / "epraccur_sample.csv",
    "practitioners": ROOT / "docs" / "practitioners_template.csv",
    "postcodes": FIXTURES / "codepoint" / "sample_rows.csv",
}
# What a person should never be shown instead of a sentence about their file.
BARE = (
    "AttributeError",
    "ValueError",
    "UnicodeDecodeError",
    "invalid literal",
    "field larger than field limit",
    "codec can't",
    "NoneType",
    "KeyError",
    "Traceback",
)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def refused_line(run_cli, data: Path, *args: str) -> str:
    before = snapshot(data)
    done = run_cli("import", *args, "--allow-shrink")
    assert done.returncode == 2, done.stdout
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, done.stderr
    assert not any(word in done.stderr for word in BARE), done.stderr
    assert snapshot(data) == before
    return lines[0]


def with_huge_cell(blob: bytes) -> bytes:
    lines = blob.splitlines(keepends=True)
    return lines[0] + b'"' + b"x" * 200_000 + b"\n" + b"".join(lines[1:])


def undecodable(blob: bytes) -> bytes:
    lines = blob.splitlines(keepends=True)
    return lines[0] + b"\x81\x8d" + b"".join(lines[1:])


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(with_huge_cell, id="a-quote-left-open"),
        pytest.param(undecodable, id="neither-utf8-nor-cp1252"),
        pytest.param(lambda blob: b"", id="empty"),
    ],
)
def test_a_damaged_file_is_one_line_naming_it(data_copy, tmp_path, run_cli, kind, damage):
    path = tmp_path / f"damaged-{kind}.csv"
    path.write_bytes(damage(SAMPLES[kind].read_bytes()))
    line = refused_line(run_cli, data_copy, kind, str(path))
    assert path.name in line


@pytest.mark.parametrize("kind", ["nhs-providers", "service-roles", "gp-practices", "service-links"])
def test_a_cell_run_past_csvs_limit_names_the_line(data_copy, tmp_path, run_cli, kind):
    path = tmp_path / "open-quote.csv"
    path.write_bytes(with_huge_cell(SAMPLES[kind].read_bytes()))
    line = refused_line(run_cli, data_copy, kind, str(path))
    assert "line 2" in line and "longer than" in line


def area_folder(tmp_path: Path, change) -> Path:
    folder = tmp_path / "areas"
    shutil.copytree(FIXTURES / "areas", folder)
    target = folder / "lad24_sicbl24_icb24.csv"
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    change(rows)
    with open(target, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


def test_a_count_that_is_not_a_number_names_the_file_row_and_column(data_copy, tmp_path, run_cli):
    folder = area_folder(tmp_path, lambda rows: rows[2].update(lsoa21_count="many"))
    line = refused_line(run_cli, data_copy, "areas", str(folder))
    assert "lad24_sicbl24_icb24.csv: row 4, column lsoa21_count" in line and "'many'" in line


def test_a_bad_code_names_the_row_and_column_not_the_whole_row(data_copy, tmp_path, run_cli):
    folder = area_folder(tmp_path, lambda rows: rows[0].update(SICBL24CDH="??"))
    line = refused_line(run_cli, data_copy, "areas", str(folder))
    assert "row 2, column SICBL24CDH" in line and "{" not in line


def test_the_district_chain_with_a_short_row_names_the_file_and_line(data_copy, tmp_path, run_cli):
    folder = area_folder(tmp_path, lambda rows: None)
    chain = folder / "lad16_to_lad24_chain.csv"
    lines = chain.read_bytes().splitlines(keepends=True)
    chain.write_bytes(lines[0] + b"E06000001\n" + b"".join(lines[1:]))
    line = refused_line(run_cli, data_copy, "areas", str(folder))
    assert "lad16_to_lad24_chain.csv: line 2" in line


def test_windows_1252_is_read_like_utf8_by_the_nhs_importers(data_copy, tmp_path, run_cli):
    rows = json.loads((data_copy / ROLES_FILE).read_text())["records"]
    rows[0] = {**rows[0], "org_name": "Café Santé Talking Therapies"}
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(nhs_coverage.ROLE_COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({c: row[c] or "" for c in nhs_coverage.ROLE_COLUMNS} for row in rows)
    path = tmp_path / "service_roles.csv"
    path.write_bytes(text.getvalue().encode("cp1252"))
    done = run_cli("import", "service-roles", str(path))
    assert done.returncode == 0, done.stderr
    stored = json.loads((data_copy / ROLES_FILE).read_text())["records"]
    assert "Café Santé Talking Therapies" in {r["org_name"] for r in stored}


def test_windows_1252_is_read_like_utf8_by_the_gp_importer(data_copy, tmp_path, run_cli):
    blob = (
        SAMPLES["gp-practices"]
        .read_bytes()
        .replace(b"THE DENSHAM SURGERY", "THE DENSHAM SURGERY É".encode("cp1252"))
    )
    path = tmp_path / "epraccur.csv"
    path.write_bytes(blob)
    done = run_cli("import", "gp-practices", str(path), "--allow-shrink")
    assert done.returncode == 0, done.stderr
    from finder import gp

    assert gp.find_practices("A81001")[0].name == "THE DENSHAM SURGERY É"


def test_windows_1252_is_read_like_utf8_by_the_practitioners_importer(data_copy, tmp_path, run_cli):
    header = (ROOT / "docs" / "practitioners_template.csv").read_text(encoding="utf-8").splitlines()[0]
    columns = header.split(",")
    values = {
        "name": "Zoë Test-Brontë",
        "ipt_level": "Level B",
        "works_online": "yes",
        "town": "Leeds",
        "outcode": "LS6",
        "source": "test register export",
        "last_verified": "2026-01-01",
    }
    row = ",".join(values.get(c, "") for c in columns)
    path = tmp_path / "practitioners.csv"
    path.write_bytes(f"{header}\r\n{row}\r\n".encode("cp1252"))
    done = run_cli("import", "practitioners", str(path), "--allow-shrink")
    assert done.returncode == 0, done.stderr
    assert "Zoë Test-Brontë" in (data_copy / "practitioners.json").read_text(encoding="utf-8")
