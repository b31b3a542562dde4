"""Where a person is in NHS terms: the areas import (real ONS rows) and Location.area on lookups."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from finder import areas, cli, postcodes, schema
from finder.errors import SourceFormatError
from finder.imports.areas import import_areas
from finder.postcodes import lookup

FIXTURES = Path(__file__).parent / "fixtures"
AREAS = FIXTURES / "areas"


def snapshot(directory: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def loaded(directory: Path) -> areas.AreaTables:
    return areas.AreaTables(json.loads((directory / schema.AREAS_FILE).read_text()))


# --- the import ------------------------------------------------------------------------------


def test_import_keeps_districts_their_sub_icbs_and_2026_icbs(tmp_path):
    report = import_areas(AREAS, data=tmp_path)
    assert (report.districts, report.split_districts) == (7, 3)
    tables = loaded(tmp_path)
    (leeds,) = tables.resolve("E08000035", None, "postcode")
    assert (leeds.district_name, leeds.sub_icb_code, leeds.icb_code) == ("Leeds", "15F", "QWO")
    assert leeds.icb_name == "NHS West Yorkshire Integrated Care Board" and not leeds.icb_inferred
    # Hart is split between Frimley (D4U1Y) and Hampshire (D9Y0V); its 2026 ICB is inferred.
    hart = tables.districts["E07000089"]
    assert {p["sub_icb"] for p in hart["parts"]} == {"D4U1Y", "D9Y0V"}
    (colchester,) = tables.resolve("E07000071", None, "postcode")
    assert colchester.icb_inferred and colchester.icb_code == "D7T5G"
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["sources"]["areas"]["districts"] == 7


def test_a_split_district_is_resolved_by_its_ward(tmp_path):
    import_areas(AREAS, data=tmp_path)
    tables = loaded(tmp_path)
    rows = [line.split(",") for line in (AREAS / "ward24_sicbl24.csv").read_text().splitlines()[1:]]
    hart = [r for r in rows if r[2] == "E07000089"]
    whole = [r for r in hart if sum(1 for other in hart if other[0] == r[0]) == 1]
    by_sub = {}
    for ward_code, _, _, _, sub, *_ in whole:
        by_sub.setdefault(sub, ward_code)
    assert set(by_sub) == {"D4U1Y", "D9Y0V"}
    for sub, ward_code in by_sub.items():
        (area,) = tables.resolve("E07000089", ward_code, "postcode")
        assert (area.sub_icb_code, area.found_by) == (sub, "ward")
    # A ward split again keeps both sub-ICBs; an unknown ward keeps every one: never a guess.
    split_ward = next(r[0] for r in hart if r not in whole)
    assert len(tables.resolve("E07000089", split_ward, "postcode")) == 2
    assert {a.sub_icb_code for a in tables.resolve("E07000123", "E05999999", "postcode")} == {"01E", "02M"}


def test_older_district_codes_reach_their_2024_district(tmp_path):
    import_areas(AREAS, data=tmp_path)
    found = loaded(tmp_path).resolve("E07000028", None, "postcode")  # Carlisle, before 2023
    assert found and {a.district_name for a in found} == {"Cumberland"}


def test_districts_of_a_sub_icb(tmp_path):
    import_areas(AREAS, data=tmp_path)
    found = loaded(tmp_path).districts_of_sub_icb("16C")
    assert {a.district_name for a in found} == {"Stockton-on-Tees", "Hartlepool"}
    assert all(a.found_by == "gp" and a.sub_icb_code == "16C" for a in found)


def test_directory_codes_become_todays_sub_icb_codes_where_the_tables_can_tell(tmp_path):
    import_areas(AREAS, data=tmp_path)
    payload = json.loads((tmp_path / schema.AREAS_FILE).read_text())
    gss = payload["sub_icbs"]["16C"]["gss"]
    assert loaded(tmp_path).current_sub_icbs(" 16c ") == ("16C",)
    assert loaded(tmp_path).current_sub_icbs(gss) == ("16C",)  # the sub-ICB's GSS code
    assert loaded(tmp_path).current_sub_icbs("00K") == ()  # a retired CCG code: the tables cannot tell
    # Tables that carry ODS successions map a retired code to the codes that took it over.
    payload["sub_icb_successions"] = {"00K": ["16C", "NOT-A-SUB-ICB"]}
    assert areas.AreaTables(payload).current_sub_icbs("00K") == ("16C",)


def test_a_changed_header_is_refused_in_one_line_and_data_is_untouched(tmp_path):
    target = tmp_path / "data"
    import_areas(AREAS, data=target)
    before = snapshot(target)
    drifted = tmp_path / "drifted"
    shutil.copytree(AREAS, drifted)
    path = drifted / "lad24_sicbl24_icb24.csv"
    path.write_text(path.read_text().replace("SICBL24CDH", "SICBL24CODE", 1))
    with pytest.raises(SourceFormatError) as caught:
        import_areas(drifted, data=target)
    message = str(caught.value)
    assert "missing columns: SICBL24CDH" in message and "unexpected columns: SICBL24CODE" in message
    assert "\n" not in message
    assert snapshot(target) == before


def test_a_much_smaller_table_is_refused_unless_asked_for(tmp_path):
    target = tmp_path / "data"
    import_areas(AREAS, data=target)
    before = snapshot(target)
    small = tmp_path / "small"
    shutil.copytree(AREAS, small)
    for name in ("lad24_sicbl24_icb24.csv", "lad24_sicbl24_to_icb26_inferred.csv"):
        lines = (small / name).read_text().splitlines(keepends=True)
        (small / name).write_text(
            "".join(line for line in lines if "E08000035" in line or "LAD24CD," in line)
        )
    wards = (AREAS / "ward24_sicbl24.csv").read_text().splitlines(keepends=True)
    (small / "ward24_sicbl24.csv").write_text("".join(w for w in wards if "WD24CD" in w or "E08000035" in w))
    with pytest.raises(SourceFormatError, match="refusing to drop"):
        import_areas(small, data=target)
    assert snapshot(target) == before
    assert import_areas(small, data=target, max_shrink=None).districts == 1


def test_cli_import_with_a_missing_file_is_one_line(tmp_path, capsys, data_copy):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["import", "areas", str(empty)]) == 2
    assert "missing" in capsys.readouterr().err


# --- postcode import keeps district and ward ------------------------------------------------


def test_postcode_import_keeps_each_postcodes_district_and_ward(tmp_path):
    from test_postcodes import codepoint_rows, make_codepoint_zip

    from finder.imports.postcodes import import_postcodes

    rows = codepoint_rows("sample_rows.csv")
    target = tmp_path / "data"
    import_postcodes(make_codepoint_zip(tmp_path / "cp.zip", rows), directory=target)
    tables = postcodes.PostcodeTables(target)
    for pc, *_, district, ward in rows:
        i = tables.find(pc.replace(" ", ""))
        assert tables.district_codes[tables.district[i]] == district
        assert tables.ward_codes[tables.ward[i]] == ward


# --- Location.area on the embedded data --------------------------------------------------------


def test_full_postcode_gives_its_district_sub_icb_and_icb():
    location = lookup("LS1 4AP")
    area = location.area
    assert (area.district_name, area.sub_icb_code, area.icb_code) == ("Leeds", "15F", "QWO")
    assert area.found_by == "postcode" and location.area_candidates == ()
    assert location.to_json()["area"]["district_code"] == "E08000035"


def test_a_postcode_in_a_split_district_is_placed_by_its_ward():
    # Harrogate is in North Yorkshire, which is split between two sub-ICB locations.
    area = lookup("HG1 1AA").area
    assert area.district_name == "North Yorkshire" and area.found_by == "ward"
    assert area.sub_icb_code in {p["sub_icb"] for p in areas.tables().districts["E06000065"]["parts"]}


def test_a_sector_whose_postcodes_agree_has_one_area():
    location = lookup("LS1 4")
    assert location.area.district_name == "Leeds" and location.area.found_by == "sector"


def test_an_outcode_across_districts_gives_candidates_not_a_guess():
    t = postcodes.tables()
    # Find, in the data itself, an English outcode whose postcodes lie in two districts.
    spanning = next(
        o
        for o in ("LS29", "BD10", "WF10", "HG3", "LS21", "S35", "M24")
        if lookup(o).area is None and len(lookup(o).area_candidates) > 1
    )
    location = lookup(spanning)
    assert location.approximate and location.precision == "outcode"
    assert len({a.district_code for a in location.area_candidates}) > 1
    assert all(a.found_by == "outcode" for a in location.area_candidates)
    assert len(t) > 1_000_000


@pytest.mark.parametrize("typed", ["CF10 1AA", "EH1 1AA", "LL14 1AA", "BT1 1AA", "JE2 3AB", "IM1 1AD"])
def test_no_area_outside_england(typed):
    location = lookup(typed)
    assert location.area is None and location.area_candidates == ()


def test_a_border_outcode_keeps_england_only_as_a_candidate():
    location = lookup("TD15")
    assert location.area is None
    assert [a.district_name for a in location.area_candidates] == ["Northumberland"]


def test_postcode_command_json_has_the_area(capsys):
    assert cli.main(["postcode", "LS1 4AP", "--json"]) == 0
    area = json.loads(capsys.readouterr().out)["area"]
    assert (area["district_name"], area["sub_icb_code"], area["icb_code"]) == ("Leeds", "15F", "QWO")
