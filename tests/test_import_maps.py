"""The importers' pure steps (rows -> records), called with rows as a refresh calls them: no CSV
written and read back, and the same records as the file import stores."""

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from finder import store
from finder.errors import FinderError, SourceFormatError
from finder.imports import areas, gp, nhs, nhs_coverage, practitioners
from finder.imports.postcodes import towns_to_places

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "service_areas"


def _csv_rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- service areas and roles -----------------------------------------------------------------


def test_area_rows_map_to_the_records_the_file_import_stores(data_copy):
    nhs.import_providers(REAL / "ods_providers.csv")
    nhs_coverage.import_service_areas(REAL / "service_areas.csv")
    stored = json.loads((data_copy / "service_areas.json").read_text())["records"]
    records = nhs_coverage.areas_to_records(_csv_rows(REAL / "service_areas.csv"))
    assert records == stored and len(records) == 32
    # Stored rows put back in the file's columns map to themselves (a refresh re-checks them so).
    assert nhs_coverage.areas_to_records([nhs_coverage.area_source_row(r) for r in stored]) == stored


def test_area_rows_published_without_a_file_give_the_same_directory(data_copy):
    nhs.import_providers(REAL / "ods_providers.csv")
    nhs_coverage.import_service_areas(REAL / "service_areas.csv")
    from_file = (data_copy / "services.json").read_bytes()
    (data_copy / "service_areas.json").unlink()
    lines = nhs_coverage.publish_service_areas(
        nhs_coverage.areas_to_records(_csv_rows(REAL / "service_areas.csv")), source="the NHS directory"
    )
    assert lines[0].startswith("Imported 32 area rows for 12 providers from the NHS directory")
    assert (data_copy / "services.json").read_bytes() == from_file
    entry = store.read_json("manifest.json")["sources"]["service-areas"]
    assert entry["source"] == "the NHS directory" and entry["rows"] == 32


def test_an_area_row_naming_a_welsh_district_is_refused_with_its_row():
    rows = _csv_rows(REAL / "service_areas.csv")
    index = next(i for i, row in enumerate(rows) if row["basis"] != "national" and i > 0)
    rows[index] = {**rows[index], "lad24_code": "W06000015"}
    with pytest.raises(
        SourceFormatError, match=rf"refresh: row {index + 2}: lad24_code 'W06000015' is not an English"
    ):
        nhs_coverage.areas_to_records(rows, name="refresh")


def test_role_rows_accept_a_lead_held_in_data_and_refuse_an_unknown_one():
    rows = [r for r in _csv_rows(REAL / "service_roles.csv") if r["org_code"] != "S5F7C"]
    partner = next(r for r in rows if r["lead_org_code"] == "S5F7C")
    with pytest.raises(SourceFormatError, match=f"not a service we hold: {partner['org_code']} -> S5F7C"):
        nhs_coverage.roles_to_records(rows)
    records = nhs_coverage.roles_to_records(rows, {"S5F7C"})
    assert next(r for r in records if r["org_code"] == partner["org_code"])["lead_org_code"] == "S5F7C"
    assert [r["org_code"] for r in records] == sorted(r["org_code"] for r in records)


# --- areas -----------------------------------------------------------------------------------


def test_area_tables_map_to_the_published_payload(tmp_path):
    report = areas.import_areas(FIXTURES / "areas", data=tmp_path)
    payload, mapped = areas.areas_to_payload(areas.read_area_tables(FIXTURES / "areas"))
    assert mapped == report
    assert payload == json.loads((tmp_path / "areas.json").read_text())


def test_a_ward_in_an_unknown_district_is_refused():
    tables = areas.read_area_tables(FIXTURES / "areas")
    ward = {**tables[areas.WARD_FILE][0], "LAD24CD": "E08000099"}
    tables[areas.WARD_FILE] = [*tables[areas.WARD_FILE], ward]
    with pytest.raises(SourceFormatError, match="district E08000099 is not in"):
        areas.areas_to_payload(tables)


# --- GP practices ----------------------------------------------------------------------------


class _Tables:
    """Two postcodes: one with a position, one held without (Code-Point quality 90)."""

    lat_e6 = (53_819_000, -99_999_999)
    lon_e6 = (-1_578_000, -99_999_999)

    def find(self, compact):
        return {"LS63HN": 0, "LS12AB": 1}.get(compact)


def test_gp_rows_map_to_english_practices_with_positions(monkeypatch):
    monkeypatch.setattr(gp.postcodes, "MISSING_E6", -99_999_999)
    base = dict.fromkeys(gp.EPRACCUR_COLUMNS, "")
    base |= {"status": "ACTIVE", "role": "RO76", "commissioner": "15F", "address_4": "LEEDS"}
    rows = [
        {**base, "code": "B86100", "name": "HYDE PARK SURGERY", "postcode": "LS6 3HN"},
        {**base, "code": "B86001", "name": "NO POSITION SURGERY", "postcode": "LS1 2AB"},
        {**base, "code": "W00001", "name": "WELSH PRACTICE", "postcode": "LS6 3HN", "commissioner": "7A1"},
        {**base, "code": "B86002", "name": "CLOSED", "postcode": "LS6 3HN", "status": "INACTIVE"},
    ]
    records = gp.practices_to_records(rows, _Tables())
    assert [(r["code"], r["town"], r["lat"], r["lon"]) for r in records] == [
        ("B86001", "LEEDS", None, None),
        ("B86100", "LEEDS", 53.819, -1.578),
    ]


# --- towns -----------------------------------------------------------------------------------


def test_town_rows_map_to_places_at_our_outcode_centroids():
    outcodes = pd.DataFrame(
        {"outcode": ["LS6", "LS4"], "lat": [53.82, 53.81], "lon": [-1.58, -1.6], "country": ["England"] * 2}
    ).set_index("outcode")
    row = {"latitude": "0", "longitude": "0", "country": "England", "region": "Leeds"}
    rows = [
        {**row, "postcode": "LS6", "town": "Headingley, Hyde Park"},
        {**row, "postcode": "LS4", "town": "Kirkstall"},
        # Not an outcode we hold and no position in the UK: no place rather than a wrong one.
        {**row, "postcode": "ZZ9", "town": "Nowhere", "region": "Atlantis"},
    ]
    places = towns_to_places(rows, outcodes).set_index("place_key")
    assert sorted(places.index) == ["headingley", "hydepark", "kirkstall", "leeds"]
    assert (places.loc["leeds", "lat"], places.loc["leeds", "outcodes"]) == (53.815, "LS4 LS6")
    assert places.loc["kirkstall", "lon"] == -1.6
    assert towns_to_places([], outcodes).empty


# --- practitioners ---------------------------------------------------------------------------


def test_practitioner_rows_name_the_wrong_row_and_import_nothing():
    good = {
        "name": "Dr Jane Example",
        "ipt_level": "Level B IPT Practitioner",
        "town": "Leeds",
        "outcode": "LS6",
        "source": "https://example.org/jane",
        "last_verified": "2026-01-05",
        "works_in_person": "yes",
    }
    records, merged = practitioners.rows_to_records([good])
    assert (records[0]["outcode"], merged) == ("LS6", 0)
    with pytest.raises(FinderError, match=r"^list: row 3, field outcode: .*nothing was imported$"):
        practitioners.rows_to_records([good, {**good, "outcode": "LS6 3HN"}], name="list")
