"""Export of the NHS directory as Open Referral UK (HSDS 3.0) JSON and CSV."""

import csv
import io
import json

import pytest

from finder import cli, export
from finder.imports import nhs


@pytest.fixture
def directory(data_copy, fixtures):
    stats = fixtures / "nhs_stats"
    nhs.import_providers(stats / "ods_providers.csv")
    nhs.import_outcomes(stats / "annual_main_2024-25.csv")
    nhs.import_outcomes(stats / "therapy_based_outcomes_2024-25.csv")
    nhs.import_service_links(stats / "service_links.csv")
    return data_copy


def _records():
    from finder import services

    return services.load_services()


def _service_text(service):
    """What a consumer reads of a service: its description (how to refer is there)."""
    return service["description"]


def test_openreferral_tables_link_up(directory, tmp_path, capsys):
    out = tmp_path / "directory.json"
    assert cli.main(["export", "--format", "openreferral", str(out)]) == 0
    assert "Wrote 8 services" in capsys.readouterr().out
    document = json.loads(out.read_text())
    assert document["hsds_version"] == "3.0"
    organizations = {o["id"]: o for o in document["organization"]}
    services = {s["id"]: s for s in document["service"]}
    locations = {loc["id"]: loc for loc in document["location"]}
    contacts = {c["id"]: c for c in document["contact"]}
    assert len(services) == 8 and len(organizations) == 8
    for service in services.values():
        assert service["organization_id"] in organizations and service["status"] == "active"
    for link in document["service_at_location"]:
        assert link["service_id"] in services and link["location_id"] in locations
    for phone in document["phone"]:
        assert contacts[phone["contact_id"]]["service_id"] in services
    codes = {i["identifier"]: i for i in document["organization_identifier"]}
    assert codes["RTF61"]["organization_id"] in organizations
    assert codes["RTF61"]["identifier_scheme"] == "https://fhir.nhs.uk/Id/ods-organization-code"
    by_code = {
        code: next(s for s in services.values() if s["organization_id"] == i["organization_id"])
        for code, i in codes.items()
    }
    hwhct = next(s for s in services.values() if "Herefordshire and Worcestershire" in s["description"])
    assert "Refer yourself online: https://www.talkingtherapies.hwhct.nhs.uk/selfreferral" in _service_text(
        hwhct
    )
    assert "Refer yourself by phone: 0300 013 5727" in _service_text(hwhct)
    wallsend = by_code[next(r["id"] for r in _records() if r["name"] == "Wallsend Health Centre")]
    # Its pages are tied to it only by inference: the number is a contact, not a referral route.
    assert "not confirmed" in _service_text(wallsend)
    assert "0191 295 2775" not in _service_text(wallsend)
    wallsend_phone = next(
        p for p in document["phone"] if contacts[p["contact_id"]]["service_id"] == wallsend["id"]
    )
    assert (
        wallsend_phone["number"] == "0191 295 2775" and wallsend_phone["description"] == "General enquiries"
    )
    assert "17 years 9 months" in _service_text(wallsend)
    assert "Delivered Interpersonal Therapy (IPT) to 105 people" in wallsend["description"]
    assert any(loc["latitude"] == pytest.approx(54.996, abs=0.01) for loc in locations.values())
    assert all("clinics elsewhere" in loc["description"] for loc in locations.values())
    unknown = by_code[
        next(r["id"] for r in _records() if r["name"] == "African and Caribbean Mental Health Services")
    ]
    assert "not confirmed" in _service_text(unknown)  # nothing invented


def test_ids_are_stable_between_exports(directory):
    first = export.export_text("openreferral")
    second = export.export_text("openreferral")
    assert first == second


def test_csv_export(directory, tmp_path):
    out = tmp_path / "directory.csv"
    assert cli.main(["export", "--format", "csv", str(out)]) == 0
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out.read_text()))}
    assert rows["RTF61"]["recovery_pct"] == "57.0" and rows["RTF61"]["outcomes_period"] == "2024-25"
    assert rows["RTF61"]["offers_ipt"] == "yes" and rows["8HX13"]["offers_ipt"] == ""


def test_csv_neutralises_formulas():
    text = export.csv_text([{"id": "X1", "name": '=HYPERLINK("http://evil")', "outcomes": None}])
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["name"].startswith("'=")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-12.5, "-12.5"),  # a negative figure stays a readable, sortable number
        ("-3", "-3"),
        ("-1+cmd|' /C calc'!A0", "'-1+cmd|' /C calc'!A0"),  # starts like a number, runs as a formula
        ("+44 113 496 0000", "'+44 113 496 0000"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("Leeds - north", "Leeds - north"),
    ],
)
def test_one_rule_for_every_csv_the_project_writes(value, shown):
    """The directory export and the app's results download share one cell rule."""
    from finder import presentation

    exported = next(
        csv.DictReader(io.StringIO(export.csv_text([{"id": "X1", "name": value, "outcomes": None}])))
    )
    assert exported["name"] == shown
    results = presentation.results_csv([{"name": value, "kind": "nhs"}]).decode("utf-8-sig")
    downloaded = list(csv.reader(io.StringIO(results)))[1][0]
    assert downloaded == (shown if "\t" not in shown else "'=cmd")  # the page collapses white space


def test_export_without_directory_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FINDER_DATA_DIR", str(tmp_path / "empty"))
    assert cli.main(["export", "--format", "csv", str(tmp_path / "x.csv")]) == 2
    assert "python -m finder build" in capsys.readouterr().err


def test_export_to_an_unwritable_place_is_one_line(directory, tmp_path, capsys):
    out = tmp_path / ("x" * 300 + ".csv")  # a name longer than the file system allows
    assert cli.main(["export", "--format", "csv", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot be written" in err and "\n" not in err


def test_exports_never_carry_a_link_that_is_not_http(tmp_path):
    from finder import export

    record = {
        "id": "X1",
        "name": "Test service",
        "website": "javascript:alert(1)",
        "self_referral_url": "data:text/html,hi",
        "outcomes": {},
    }
    text = export.csv_text([record])
    assert "javascript:" not in text and "data:text" not in text
    assert "data:text" not in json.dumps(export.openreferral_document([{**record, "provider": "P"}]))
