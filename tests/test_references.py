"""Importers check what values point to (finder/imports/references.py), in `import`, in `build`'s
steps and in the refresh's publish. Each bad file is made from what data/ holds (so it follows the
data when it is rebuilt), refused with exit 2 and one line, and leaves data/ byte-identical."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from finder import search
from finder.errors import SourceFormatError
from finder.imports import nhs_coverage, references
from finder.imports.registry import BY_NAME
from finder.schema import ROLES_FILE, SERVICE_AREAS_FILE

ROOT = Path(__file__).resolve().parent.parent
EPRACCUR = ROOT / "tests" / "fixtures" / "gp" / "epraccur_sample.csv"


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def held(directory: Path, name: str) -> list[dict]:
    return json.loads((directory / name).read_text())["records"]


def write_csv(path: Path, columns, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return path


def area_rows(directory: Path) -> list[dict]:
    return [nhs_coverage.area_source_row(r) for r in held(directory, SERVICE_AREAS_FILE)]


def role_rows(directory: Path) -> list[dict]:
    return [
        {
            **r,
            "audience": r["audience"] or "",
            "lead_org_code": r["lead_org_code"] or "",
            "evidence": r["evidence"] or "",
        }
        for r in held(directory, ROLES_FILE)
    ]


def refused(run_cli, directory: Path, *args: str) -> str:
    before = snapshot(directory)
    done = run_cli("import", *args)
    assert done.returncode == 2, done.stdout
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert snapshot(directory) == before
    return lines[0]


# --- service areas ---------------------------------------------------------------------------------


def test_an_area_row_for_a_district_the_area_tables_do_not_know_is_refused(data_copy, tmp_path, run_cli):
    rows = area_rows(data_copy)
    rows[3] = {**rows[3], "lad24_code": "E07999999"}
    path = write_csv(tmp_path / "service_areas.csv", nhs_coverage.AREA_COLUMNS, rows)
    message = refused(run_cli, data_copy, "service-areas", str(path))
    assert "E07999999" in message and rows[3]["org_code"] in message and "area tables" in message


def test_a_much_larger_areas_table_is_held_back_unless_growth_is_allowed(data_copy, tmp_path, run_cli):
    rows = area_rows(data_copy)
    districts = sorted({r["lad24_code"] for r in rows if r["lad24_code"] != "ENGLAND"})
    made_up = [
        {**rows[0], "org_code": f"ZZ{n:04d}", "lad24_code": district}
        for n in range(int(len(rows) * references.MAX_GROWTH) // len(districts) + 1)
        for district in districts
    ]
    path = write_csv(tmp_path / "service_areas.csv", nhs_coverage.AREA_COLUMNS, rows + made_up)
    message = refused(run_cli, data_copy, "service-areas", str(path))
    assert "--allow-growth" in message and f"we hold {len(rows):,}" in message
    done = run_cli("import", "service-areas", str(path), "--allow-growth")
    assert done.returncode == 0 and "growth allowed" in done.stdout


# --- service roles ---------------------------------------------------------------------------------


def leads(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["role"] == "lead" and not r["lead_org_code"]]


@pytest.mark.parametrize("length", [2, 3])
def test_leads_that_go_round_in_a_circle_are_refused(data_copy, tmp_path, run_cli, length):
    rows = role_rows(data_copy)
    circle = leads(rows)[:length]
    codes = [r["org_code"] for r in circle]
    for i, row in enumerate(circle):
        row.update(role="partner", lead_org_code=codes[(i + 1) % length])
    path = write_csv(tmp_path / "service_roles.csv", nhs_coverage.ROLE_COLUMNS, rows)
    message = refused(run_cli, data_copy, "service-roles", str(path))
    assert "circle" in message and all(code in message for code in codes)


def test_a_service_listed_as_its_own_partner_is_refused(data_copy, tmp_path, run_cli):
    rows = role_rows(data_copy)
    lead, other = leads(rows)[:2]
    other.update(role="partner", lead_org_code=lead["org_code"], org_name=lead["org_name"].upper())
    path = write_csv(tmp_path / "service_roles.csv", nhs_coverage.ROLE_COLUMNS, rows)
    message = refused(run_cli, data_copy, "service-roles", str(path))
    assert "its own partner" in message and other["org_code"] in message


def test_a_lead_that_does_not_exist_is_refused(data_copy, tmp_path, run_cli):
    rows = role_rows(data_copy)
    rows[0].update(role="partner", lead_org_code="ZZZ99")
    path = write_csv(tmp_path / "service_roles.csv", nhs_coverage.ROLE_COLUMNS, rows)
    assert "ZZZ99" in refused(run_cli, data_copy, "service-roles", str(path))


def test_every_service_marked_probably_ended_is_held_back_unless_allowed(data_copy, tmp_path, run_cli):
    rows = role_rows(data_copy)
    for row in rows:
        row["evidence"] = "probably ended: " + row["evidence"]
    path = write_csv(tmp_path / "service_roles.csv", nhs_coverage.ROLE_COLUMNS, rows)
    message = refused(run_cli, data_copy, "service-roles", str(path))
    assert "--allow-mass-change" in message and "probably ended" in message
    assert any(r["kind"] == "nhs" for r in search.search("LS6 3QG", kind="nhs").results)
    done = run_cli("import", "service-roles", str(path), "--allow-mass-change")
    assert done.returncode == 0 and "mass change allowed" in done.stdout


def test_an_ordinary_roles_file_still_imports(data_copy, tmp_path, run_cli):
    rows = role_rows(data_copy)
    path = write_csv(tmp_path / "service_roles.csv", nhs_coverage.ROLE_COLUMNS, rows)
    done = run_cli("import", "service-roles", str(path))
    assert done.returncode == 0, done.stderr


# --- GP practices ----------------------------------------------------------------------------------


def test_a_practice_code_given_twice_is_refused_naming_both_lines(data_copy, tmp_path, run_cli):
    lines = EPRACCUR.read_bytes().splitlines(keepends=True)
    # The Densham Surgery's code given again to another practice's row (the last row used to win).
    twin = lines[1].replace(lines[1][1:7], lines[0][1:7], 1)
    path = tmp_path / "epraccur.csv"
    path.write_bytes(b"".join([*lines, twin]))
    message = refused(run_cli, data_copy, "gp-practices", str(path))
    code = lines[0][1:7].decode()
    assert f"practice {code} is given twice" in message and f"line {len(lines) + 1}" in message
    assert "line 1" in message


def test_commissioners_the_area_tables_do_not_know_are_named(data_copy, tmp_path, run_cli):
    lines = EPRACCUR.read_bytes().splitlines(keepends=True)
    lines[0] = lines[0].replace(b'"16C","20200401"', b'"99Z","20200401"')
    path = tmp_path / "epraccur.csv"
    path.write_bytes(b"".join(lines))
    done = run_cli("import", "gp-practices", str(path), "--allow-shrink")
    assert done.returncode == 0, done.stderr
    assert "commissioners not in the area tables" in done.stdout and "99Z (1 practices)" in done.stdout


# --- the same checks in build's steps and in the refresh ---------------------------------------------


def test_builds_steps_check_references_even_when_growth_and_change_are_allowed(data_copy, tmp_path):
    rows = area_rows(data_copy)
    rows[0] = {**rows[0], "lad24_code": "E07999999"}
    path = write_csv(tmp_path / "service_areas.csv", nhs_coverage.AREA_COLUMNS, rows)
    before = snapshot(data_copy)
    with pytest.raises(SourceFormatError, match="E07999999"):
        BY_NAME["service-areas"].run(path, None, references.ALLOW_ALL)  # as build runs it
    assert snapshot(data_copy) == before


def test_the_refresh_publish_checks_the_districts(data_copy, tmp_path):
    from scrapers.refresh import staging

    records = held(data_copy, SERVICE_AREAS_FILE)
    records[0] = {**records[0], "code": "E07999999"}
    stage = tmp_path / "stage"
    stage.mkdir()
    for name in ("services.json", "service_areas.json", "nhs_providers.json", "manifest.json"):
        (stage / name).write_bytes((data_copy / name).read_bytes())
    with pytest.raises(SourceFormatError, match="E07999999"):
        staging.publish_areas(records, stage)
