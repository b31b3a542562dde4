"""The GP surgery route: the epraccur import (real rows), the surgery finder and search --gp."""

import hashlib
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finder import cli, gp, search
from finder.errors import FinderError, SourceFormatError
from finder.imports.gp import import_gp_practices
from finder.schema import GP_FILE

SAMPLE = Path(__file__).parent / "fixtures" / "gp" / "epraccur_sample.csv"


def snapshot(directory: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


# --- the import ------------------------------------------------------------------------------


@pytest.fixture
def data_copy(data_copy):
    """The data copy without the committed GP list, so the sample is a first import."""
    (data_copy / GP_FILE).unlink(missing_ok=True)
    return data_copy


def test_import_keeps_active_english_gp_practices_with_position_and_sub_icb(data_copy):
    report = import_gp_practices(SAMPLE)
    table = pq.read_table(data_copy / GP_FILE).to_pandas().set_index("code")
    # Kept: active, a GP practice (also with a second role), commissioned in England.
    assert "B81042" in table.index  # RO76|RO268
    for left_out in ("A81003", "A81065", "W00005", "W00007", "A85619", "A91020"):
        assert left_out not in table.index  # inactive, dormant, Welsh, not a GP practice
    assert report.kept == len(table) == 12
    densham = table.loc["A81001"]
    assert (densham["name"], densham["town"], densham["postcode"], densham["sub_icb_code"]) == (
        "THE DENSHAM SURGERY",
        "STOCKTON-ON-TEES",
        "TS18 1HU",
        "16C",
    )
    assert abs(densham["lat"] - 54.56) < 0.01 and abs(densham["lon"] + 1.32) < 0.01


def _drifted(tmp_path, change) -> Path:
    lines = SAMPLE.read_bytes().decode().splitlines(keepends=True)
    path = tmp_path / "epraccur.csv"
    path.write_text("".join(change(lines)), newline="")
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda lines: ['"Organisation Code","Name"' + ',""' * 25 + "\r\n", *lines], "code"),
        (lambda lines: [lines[0].replace(',""\r\n', "\r\n"), *lines[1:]], "26 columns"),
        (lambda lines: [lines[0].replace('"19740401"', '"01/04/1974"', 1), *lines[1:]], "open_date"),
        (lambda lines: [lines[0].replace('"ACTIVE"', '"OPEN"', 1), *lines[1:]], "status"),
        (lambda lines: [lines[0].replace('"RO76"', '"GP"', 1), *lines[1:]], "role"),
        (lambda lines: [lines[0].replace('"TS18 1HU"', '"Stockton"', 1), *lines[1:]], "postcode"),
    ],
    ids=["header line", "26 columns", "date format", "status value", "role value", "postcode column"],
)
def test_drift_is_refused_in_one_line_and_data_is_untouched(data_copy, tmp_path, change, message):
    import_gp_practices(SAMPLE)
    before = snapshot(data_copy)
    with pytest.raises(SourceFormatError) as caught:
        import_gp_practices(_drifted(tmp_path, change))
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert snapshot(data_copy) == before


def test_a_much_shorter_list_is_refused_unless_asked_for(data_copy, tmp_path):
    import_gp_practices(SAMPLE)
    before = snapshot(data_copy)
    short = _drifted(tmp_path, lambda lines: lines[:2])
    with pytest.raises(SourceFormatError, match="refusing to drop"):
        import_gp_practices(short)
    assert snapshot(data_copy) == before
    assert cli.main(["import", "gp-practices", str(short), "--allow-shrink"]) == 0


# --- finding a surgery (the embedded data/) ------------------------------------------------------


def test_densham_surgery_is_found_by_name_code_and_postcode(capsys):
    assert cli.main(["gp", "Densham Surgery", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    first = answer["practices"][0]
    assert answer["query"] == "Densham Surgery"
    assert (first["code"], first["sub_icb_code"]) == ("A81001", "16C")
    assert set(first) == {"code", "name", "town", "postcode", "sub_icb_code", "sub_icb_name", "lat", "lon"}
    assert [p.code for p in gp.find_practices("a81001")] == ["A81001"]
    assert "A81001" in [p.code for p in gp.find_practices("TS18 1HU")]


@pytest.mark.parametrize(
    "typed", ["densham", "THE DENSHAM SURGERY", "Densham Medical Centre", "densham surgery, stockton"]
)
def test_the_distinctive_word_decides_not_surgery(typed):
    assert gp.find_practices(typed)[0].code == "A81001"


def test_a_mistyped_name_still_lists_the_practice():
    assert "A81001" in [p.code for p in gp.find_practices("dencham surgury")]


def test_a_shared_name_lists_candidates_and_the_town_picks_one():
    several = gp.find_practices("Park Surgery")
    assert len(several) > 1 and len({p.town for p in several}) > 1
    (horsham,) = gp.find_practices("Park Surgery Horsham")
    assert horsham.town == "HORSHAM" and horsham.name == "PARK SURGERY"


def test_nothing_found_is_an_empty_list_and_bad_input_one_line(capsys):
    assert gp.find_practices("Xqzvw Jjkkq") == []
    with pytest.raises(FinderError):
        gp.find_practices("   ")
    assert cli.main(["gp", "x" * 200]) == 2
    assert "too long" in capsys.readouterr().err


# Names whose distinctive words no other practice has: the practice must come first.
_TABLE = gp.practices()
_DISTINCTIVE = [frozenset(w for w in gp.words(n) if not gp.is_generic(w)) for n in _TABLE.rows["name"]]
_UNIQUE = [
    i
    for i, key in enumerate(_DISTINCTIVE)
    if key and sum(1 for other in _DISTINCTIVE if other == key) == 1 and len(_TABLE.rows["name"][i]) <= 60
]


def _vary(name: str, case: str, punctuation: bool, generic: str) -> str:
    text = {"lower": name.lower(), "upper": name.upper(), "title": name.title()}[case]
    if punctuation:
        text = text.replace("'", "").replace(" ", " . ", 1).replace("-", " ")
    text = re.sub(r"(?i)\b(surgery|medical centre|health centre|practice)\b", generic, text)
    return re.sub(r"(?i)^the ", "", text).strip() or name


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(_UNIQUE),
    st.sampled_from(["lower", "upper", "title"]),
    st.booleans(),
    st.sampled_from(["Surgery", "Medical Centre", "Health Centre", "", "Practice"]),
)
def test_any_practice_is_found_first_by_its_own_name_however_written(i, case, punctuation, generic):
    typed = _vary(_TABLE.rows["name"][i], case, punctuation, generic)
    found = gp.find_practices(typed)
    assert found and found[0].code == _TABLE.codes[i], (typed, [p.name for p in found[:3]])


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_any_text_gives_a_list_or_one_clear_error(text):
    try:
        found = gp.find_practices(text)
    except FinderError as error:
        assert str(error)
    else:
        assert len(found) <= gp.MAX_RESULTS


# --- searching from the surgery --------------------------------------------------------------------


def test_gp_location_is_the_surgery_with_every_district_of_its_sub_icb():
    location = gp.gp_location("A81001")
    assert location.postcode == "TS18 1HU" and location.precision == "postcode"
    assert location.area.found_by == "gp" and location.area.sub_icb_code == "16C"
    assert location.area.district_name == "Stockton-on-Tees"
    names = {a.district_name for a in location.area_candidates}
    assert {"Stockton-on-Tees", "Hartlepool", "Middlesbrough"} <= names
    assert all(a.sub_icb_code == "16C" for a in location.area_candidates)


def test_search_from_a_gp_measures_distances_from_the_surgery():
    from_gp = search.search("", gp="A81001", kind="nhs", radius_miles=20)
    from_postcode = search.search("TS18 1HU", kind="nhs", radius_miles=20)
    assert from_gp.query.area.sub_icb_code == "16C"
    # The GP's sub-ICB also holds Darlington, so more services may cover its patients than cover
    # the postcode's own district; every service listed by both is as far from either.
    by_postcode = {r["id"]: r["distance_miles"] for r in from_postcode.results}
    shared = [r for r in from_gp.results if r["id"] in by_postcode]
    assert len(shared) == len(by_postcode)
    assert all(r["distance_miles"] == by_postcode[r["id"]] for r in shared)


def test_search_with_an_unknown_gp_code_is_one_line(capsys):
    assert cli.main(["search", "--gp", "Z99999"]) == 2
    assert "No active GP practice" in capsys.readouterr().err


def test_a_name_word_that_looks_like_a_mistyped_generic_word_still_counts():
    """ "Heath" is close to "Health" but is the distinctive part of West Heath Surgery's name
    (found by the property test above)."""
    assert gp.find_practices("west heath Surgery")[0].code == "M85007"


def test_a_surgerys_service_is_found_by_its_own_district_not_a_corner_of_another():
    """A sub-ICB can take in a corner of a district that is mostly elsewhere (Bradford's takes in
    Craven, a part of North Yorkshire; Bedfordshire's a part of Buckinghamshire). Those districts'
    services are for the rest of them: an Ilkley surgery is not told Harrogate's service is its
    own, nor a Bedford one Buckinghamshire's. Checked for every surgery: its first covering
    general service has an area in the surgery's own district or one wholly in its sub-ICB."""
    from finder import areas

    loaded = areas.tables()
    table = gp.practices()
    wrong = []
    for code in table.codes:
        response = search.search(search.SearchRequest(gp=code, kind="nhs", limit=5))
        area = response.query.area
        general = [
            r
            for r in response.results
            if r["coverage"] == "covers" and r["role"] not in ("specialist", "unclear")
        ]
        if area is None or not general:
            continue
        yours = {area.district_name} | {
            a.district_name
            for a in response.query.area_candidates
            if loaded.sub_icbs_of_district(a.district_code) == (area.sub_icb_code,)
        }
        if general[0]["coverage_district"] not in yours:  # the district its evidence is about
            wrong.append((code, general[0]["name"], general[0]["coverage_district"]))
    assert wrong == [], wrong[:10]
    ilkley = search.search(search.SearchRequest(gp="B83002", kind="nhs"))
    assert "The Briary Unit" not in {r["name"] for r in ilkley.results if r["coverage"] == "covers"}
