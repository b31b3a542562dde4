"""Practitioner records and `python -m finder import practitioners PATH`."""

import json

import pytest

from finder import practitioners, schema
from finder.cli import main
from finder.imports.practitioners import COLUMNS, cli_import_practitioners

HEADER = ",".join(COLUMNS)
JANE = (
    "Jane Smith-Jones,Level B IPT Practitioner,HCPC:PYL012345,Leeds,LS6,yes,yes,no,https://example.org/jane,"
    "jane@example.org,01632 960001,https://www.iptuk.net/find-a-therapist.html,2026-11-01"
)
SAM = "Sam Okafor,Level D IPT Supervisor and Trainer,BACP:300005,York,YO1,no,yes,yes,,,,export.csv,2026-10-01"
# The same person as JANE, from an older export: a second registration and a phone way of working.
JANE_AGAIN = (
    "Jane Smith-Jones,Level B IPT Practitioner,HCPC:PYL012345; BACP:300001,Leeds,LS6,no,no,yes,,,,"
    "export.csv,2026-09-01"
)


def write(tmp_path, *rows, header=HEADER, name="export.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_committed_table_is_empty_and_says_how_to_add_data():
    assert practitioners.load_practitioners() == []
    assert "import practitioners" in practitioners.EMPTY_TABLE_HELP


def test_import_publishes_contract_records_located_by_outcode(data_copy, tmp_path):
    lines = cli_import_practitioners(write(tmp_path, SAM, JANE))
    assert lines[0].startswith("practitioners: 2 record(s)")
    records = practitioners.load_practitioners()
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)
    jane = next(r for r in records if r["name"] == "Jane Smith-Jones")
    assert set(schema.RECORD_KEYS) <= set(jane)
    assert (jane["kind"], jane["offers_ipt"], jane["location_precision"]) == ("private", True, "outcode")
    assert 53.7 < jane["lat"] < 53.9 and -1.7 < jane["lon"] < -1.5  # Leeds LS6
    assert jane["registrations"] == [{"register": "HCPC", "number": "PYL012345"}]
    assert jane["ipt_level"] == "Level B IPT Practitioner" and not jane["ipt_supervisor"]
    sam = next(r for r in records if r["name"] == "Sam Okafor")
    assert sam["ipt_supervisor"] and sam["ipt_trainer"] and sam["works_by_phone"]
    manifest = json.loads((data_copy / "manifest.json").read_text())
    assert manifest["sources"]["practitioners"]["records"] == 2
    assert "postcodes" in manifest["sources"]  # other sources' entries are kept


def test_duplicates_are_merged_by_registration_number(data_copy, tmp_path):
    lines = cli_import_practitioners(write(tmp_path, JANE, SAM, JANE_AGAIN))
    assert any("merged 1 duplicate" in line for line in lines)
    records = practitioners.load_practitioners()
    assert len(records) == 2
    jane = next(r for r in records if r["name"] == "Jane Smith-Jones")
    assert {r["number"] for r in jane["registrations"]} == {"PYL012345", "300001"}
    assert jane["works_in_person"] and jane["works_online"] and jane["works_by_phone"]
    assert jane["last_verified"] == "2026-11-01" and jane["email"] == "jane@example.org"


@pytest.mark.parametrize(
    "row,field",
    [
        (JANE.replace(",LS6,", ",LS6 4AB,"), "outcode"),  # a full postcode could be a home address
        (JANE.replace(",LS6,", ",ZZ9Z,"), "outcode"),
        (JANE.replace("https://example.org/jane", "javascript:alert(1)"), "website"),
        (JANE.replace("Level B IPT Practitioner", "Very good"), "ipt_level"),
        (JANE.replace("Level B IPT Practitioner", "Level B DIT Practitioner"), "ipt_level"),  # not IPT
        (JANE.replace("Level B IPT Practitioner", "IPC Supervisor"), "ipt_level"),
        (JANE.replace("HCPC:PYL012345", "HCPC:300001"), "registrations"),
        (JANE.replace("HCPC:PYL012345", "GMC:1234567"), "registrations"),
        (JANE.replace("2026-11-01", "01/11/2026"), "last_verified"),
        (JANE.replace("jane@example.org", "not-an-email"), "email"),
        (JANE.replace(",yes,yes,no,", ",maybe,yes,no,"), "works_in_person"),
        (JANE.replace("Jane Smith-Jones", "<b>Jane</b>"), "name"),
        (JANE.replace("Jane Smith-Jones", "Dr MBACP"), "name"),  # no name at all
        (JANE.replace(",Leeds,", ",12 Acacia Avenue Leeds,"), "town"),  # a street address
    ],
)
def test_bad_fields_are_named_with_their_row(data_copy, tmp_path, capsys, row, field):
    before = (data_copy / "practitioners.json").read_bytes()
    code = main(["import", "practitioners", str(write(tmp_path, SAM, row))])
    err = capsys.readouterr().err
    assert code == 2
    assert f"row 3, field {field}" in err and err.count("\n") == 1
    assert (data_copy / "practitioners.json").read_bytes() == before  # nothing half-imported


@pytest.mark.parametrize(
    "content,message",
    [
        ("", "empty"),
        ("name,town\nJane,Leeds\n", "missing column"),
        (HEADER + ",favourite_colour\n", "unexpected columns: favourite_colour"),
        (HEADER + "\n", "no practitioner rows"),
        (HEADER + "\n" + "a,b\n", "row 2: 2 fields"),
    ],
)
def test_malformed_csv_files_exit_2_with_one_line(data_copy, tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    assert main(["import", "practitioners", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_binary_file_is_refused(data_copy, tmp_path, capsys):
    path = tmp_path / "export.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    assert main(["import", "practitioners", str(path)]) == 2
    err = capsys.readouterr().err
    # Refused at the first control character, with where it is, before any decoding.
    assert "export.csv: line 2, column 1 holds a control character" in err and err.count("\n") == 1


def test_publish_refuses_records_that_break_the_contract(data_copy):
    with pytest.raises(schema.RecordError):
        practitioners.publish_practitioners([{"id": "x", "kind": "private"}], {"source": "test"})


def test_an_ipt_uk_listing_becomes_a_record_without_a_full_postcode(fixtures):
    from scrapers import iptuk

    listings = iptuk.parse_directory((fixtures / "iptuk" / "directory.html").read_text(encoding="utf-8"))
    record = practitioners.build_record(listings[0].to_record_fields(last_verified="2026-11-20"))
    assert (record["name"], record["town"], record["outcode"]) == ("Jane Smith-Jones", "Leeds", "LS6")
    assert record["registrations"] == [{"register": "HCPC", "number": "PYL012345"}]
    assert record["source"] == iptuk.DIRECTORY_URL and record["location_precision"] == "outcode"
    assert record["works_online"] and record["works_in_person"]


def test_a_row_that_links_two_records_folds_them_into_one(data_copy, tmp_path):
    hcpc_only = JANE
    bacp_only = JANE.replace("HCPC:PYL012345", "BACP:300001").replace("2026-11-01", "2026-10-15")
    both = JANE_AGAIN  # HCPC:PYL012345; BACP:300001
    later = JANE.replace("HCPC:PYL012345", "BACP:300001").replace("2026-11-01", "2026-08-01")
    cli_import_practitioners(write(tmp_path, hcpc_only, bacp_only, both, later))
    [jane] = practitioners.load_practitioners()
    assert {r["number"] for r in jane["registrations"]} == {"PYL012345", "300001"}


def test_listings_without_registration_merge_by_name_and_outcode(data_copy, tmp_path):
    unregistered = JANE.replace("HCPC:PYL012345", "")
    elsewhere = unregistered.replace(",LS6,", ",YO1,").replace(",Leeds,", ",York,")
    cli_import_practitioners(write(tmp_path, unregistered, unregistered, elsewhere))
    records = practitioners.load_practitioners()
    assert sorted(r["outcode"] for r in records) == ["LS6", "YO1"]


def test_supervisor_status_in_another_therapy_is_not_an_ipt_supervisor():
    fields = dict(zip(COLUMNS, JANE.split(","), strict=True))
    record = practitioners.build_record(
        {**fields, "ipt_level": "Level B IPT Practitioner; DIT Supervisor"},
        locate=lambda _: (None, None, None),
    )
    assert record["ipt_level"] == "Level B IPT Practitioner; DIT Supervisor"  # as the register shows it
    assert not record["ipt_supervisor"]


@pytest.mark.parametrize("phone", ["(01632) 960001", "+44 (0)1632 960001", "01632 960001"])
def test_phone_numbers_as_uk_sites_write_them_are_accepted(phone):
    fields = dict(zip(COLUMNS, JANE.split(","), strict=True))
    record = practitioners.build_record({**fields, "phone": phone}, locate=lambda _: (None, None, None))
    assert record["phone"] == phone


def test_an_ipt_uk_location_with_a_street_address_keeps_only_the_town():
    from scrapers import iptuk

    listing = iptuk.IptUkListing(
        "Jane Smith-Jones",
        "Level B IPT Practitioner",
        "Flat 2, 12 Acacia Avenue, Leeds LS6 4AB",
        "LS6",
        works_online=True,
    )
    fields = listing.to_record_fields(last_verified="2026-11-20")
    assert (fields["town"], fields["outcode"]) == ("Leeds", "LS6")


def test_one_number_given_for_two_different_names_is_refused_not_merged(data_copy, tmp_path, capsys):
    before = (data_copy / "practitioners.json").read_bytes()
    other = JANE.replace("Jane Smith-Jones", "Robert Brown")  # same HCPC number, another person
    code = main(["import", "practitioners", str(write(tmp_path, JANE, SAM, other))])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "rows 2 and 4, field registrations" in err and "Robert Brown" in err
    assert (data_copy / "practitioners.json").read_bytes() == before


def test_a_married_double_barrelled_name_with_the_same_number_still_merges(data_copy, tmp_path):
    renamed = JANE_AGAIN.replace("Jane Smith-Jones", "Dr Jane Smith")
    cli_import_practitioners(write(tmp_path, JANE, renamed))
    assert len(practitioners.load_practitioners()) == 1


def test_a_merged_record_is_never_placed_at_another_records_outcode():
    fields = dict(zip(COLUMNS, JANE.split(","), strict=True))
    leeds = practitioners.build_record(fields, locate=lambda _: (53.82, -1.58, "outcode"))
    moved = practitioners.build_record(
        {**fields, "town": "York", "outcode": "YO1", "last_verified": "2026-11-20"},
        locate=lambda _: (None, None, None),  # an outcode without a known centre
    )
    [merged], _ = practitioners.merge_duplicates([leeds, moved])
    assert (merged["town"], merged["outcode"]) == ("York", "YO1")
    assert (merged["lat"], merged["lon"], merged["location_precision"]) == (None, None, None)


def test_a_folder_given_as_the_csv_is_named_as_such(data_copy, tmp_path, capsys):
    assert main(["import", "practitioners", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not a file" in err and err.count("\n") == 1
