"""The real refresh adapters, wired to the other modules' scrapers and importers, against the
127.0.0.1 test server. Every request is redirected there (RedirectAll): nothing leaves the machine.

The NHS tables in the temporary data directory are built by the project's own importers from the
real slices in tests/fixtures/nhs_stats/; the pages served are the scrapers' own fixtures."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import RedirectAll

from scrapers import refresh
from scrapers.http import Fetcher

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = "2026-11-25"
ORD_PATH = "/ORD/2-0-0/organisations/"
NHSUK_RESULTS = "/service-search/mental-health/find-an-nhs-talking-therapies-service/results"
ANNUAL = "/data-and-information/publications/statistical/nhs-talking-therapies-for-anxiety-and-depression-annual-reports"


NHS_AND_PRACTITIONER_FILES = (
    "nhs_providers.json",
    "nhs_outcomes.json",
    "service_links.json",
    "services.json",
    "practitioners.json",
)


@pytest.fixture
def clean_copy(data_copy):
    """The data copy without the directory files, so each test builds exactly what it needs."""
    for name in NHS_AND_PRACTITIONER_FILES:
        (data_copy / name).unlink(missing_ok=True)
    return data_copy


@pytest.fixture
def nhs_data(clean_copy):
    from finder.imports import nhs

    stats = FIXTURES / "nhs_stats"
    nhs.import_providers(stats / "ods_providers.csv")
    nhs.import_outcomes(stats / "annual_main_2024-25.csv")
    nhs.import_outcomes(stats / "therapy_based_outcomes_2024-25.csv")
    nhs.import_service_links(stats / "service_links.csv")
    return clean_copy


def run(server, *sources, **options):
    fetcher = Fetcher(min_interval=0, retries=0, timeout=10)  # generous: a loaded machine is slow
    opts = refresh.RefreshOptions(today=TODAY, **options)
    reports = refresh.run_refresh(list(sources), RedirectAll(fetcher, server.url("")), opts)
    refresh.write_reports(reports, opts)
    return {r.name: r for r in reports}


def snapshot(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def services(directory):
    return {r["id"]: r for r in json.loads((directory / "services.json").read_text())["records"]}


def serve_ord(server, directory, changes=None):
    """ORD answers in the shape of tests/fixtures/ods/97T.json, carrying each provider's own facts."""
    template = json.loads((FIXTURES / "ods" / "97T.json").read_text())
    for provider in json.loads((directory / "nhs_providers.json").read_text())["records"]:
        answer = json.loads(json.dumps(template))
        org = answer["Organisation"]
        facts = {**provider, **(changes or {}).get(provider["org_code"], {})}
        org["Name"], org["Status"] = facts["org_name"].upper(), facts["status"]
        org["OrgId"]["extension"] = facts["org_code"]
        org["GeoLoc"]["Location"].update(PostCode=facts["postcode"], Town=(facts["town"] or "").upper())
        org["Date"] = [
            {
                "Type": "Operational",
                "Start": facts["start_date"],
                **({"End": facts["end_date"]} if facts["end_date"] else {}),
            }
        ]
        server.route(ORD_PATH + facts["org_code"], body=json.dumps(answer), content_type="application/json")


def test_ods_refresh_takes_a_closed_service_out_and_reports_it(nhs_data, local_server):
    serve_ord(local_server, nhs_data, {"TAF90": {"status": "Inactive", "end_date": "2026-10-31"}})

    reports = run(local_server, refresh.OdsSource())

    report = reports["ods"]
    assert report.status == "updated"
    assert report.changes.removed == (("TAF90", "Kingston SMS"),)
    assert "TAF90" not in services(nhs_data)
    providers = {
        r["org_code"]: r for r in json.loads((nhs_data / "nhs_providers.json").read_text())["records"]
    }
    assert (providers["TAF90"]["status"], providers["TAF90"]["end_date"]) == ("Inactive", "2026-10-31")
    assert (
        providers["R1A"]["org_name"] == "Herefordshire and Worcestershire Health and Care NHS Trust"
    )  # case only
    assert "- TAF90: Kingston SMS" in (nhs_data / "CHANGES.md").read_text()


def test_ods_failing_for_most_organisations_keeps_the_directory(nhs_data, local_server):
    before = snapshot(nhs_data)
    serve_ord(local_server, nhs_data)
    for code in ("8EJ83", "8HX13", "AM7", "ANA01", "NI382", "R1A", "RTF61"):
        local_server.route(ORD_PATH + code, status=503, body="maintenance")

    # The circuit breaker off (it would stop at the fifth failure in a row): the share rule decides.
    report = run(local_server, refresh.OdsSource(), breaker=100)["ods"]

    assert report.status == "kept"
    assert "only 4 of 11 ODS organisations read" in report.reason and "HTTP 503" in report.reason
    assert snapshot(nhs_data) == before


def test_ods_lookup_that_failed_keeps_that_services_verified_date(nhs_data, local_server):
    document = json.loads((nhs_data / "services.json").read_text())
    for record in document["records"]:  # as if the directory had last been verified in January
        record["last_verified"] = record["provenance"]["location"]["last_verified"] = "2026-01-05"
    (nhs_data / "services.json").write_text(json.dumps(document))
    serve_ord(local_server, nhs_data)
    local_server.route(ORD_PATH + "RTF61", status=500, body="oops")

    report = run(local_server, refresh.OdsSource())["ods"]

    assert report.status == "updated"
    dates = {
        code: (r["last_verified"], r["provenance"]["location"]["last_verified"])
        for code, r in services(nhs_data).items()
    }
    assert dates.pop("RTF61") == ("2026-01-05", "2026-01-05")
    today = datetime.now(UTC).date().isoformat()  # the importers date what they import
    assert set(dates.values()) == {(today, today)}


def test_a_later_source_in_the_same_run_does_not_redate_what_ods_could_not_recheck(nhs_data, local_server):
    """The service websites are read after ODS and re-derive services.json: they re-check contact
    details, not the ODS facts, so RTF61 (whose ODS lookup failed) keeps its January date."""
    document = json.loads((nhs_data / "services.json").read_text())
    for record in document["records"]:
        record["last_verified"] = record["provenance"]["location"]["last_verified"] = "2026-01-05"
    (nhs_data / "services.json").write_text(json.dumps(document))
    serve_ord(local_server, nhs_data)
    local_server.route(ORD_PATH + "RTF61", status=500, body="oops")
    serve_sites(local_server)

    reports = run(local_server, refresh.OdsSource(), refresh.ServiceSitesSource())

    assert reports["ods"].status == "updated" and reports["service-sites"].status == "updated"
    rtf61 = services(nhs_data)["RTF61"]
    assert (rtf61["last_verified"], rtf61["provenance"]["location"]["last_verified"]) == (
        "2026-01-05",
        "2026-01-05",
    )
    today = datetime.now(UTC).date().isoformat()
    assert services(nhs_data)["R1A"]["last_verified"] == today  # ODS did re-check this one


def test_ods_not_knowing_most_codes_is_an_api_problem_not_mass_closure(nhs_data, local_server):
    before = snapshot(nhs_data)  # nothing served: ORD answers 404 "not found" for every code
    report = run(local_server, refresh.OdsSource())["ods"]
    assert report.status == "kept"
    assert "only 0 of 11 ODS organisations read; first failure: ODS does not know this code" in report.reason
    assert snapshot(nhs_data) == before


def serve_sites(server):
    sites = FIXTURES / "service_sites"
    pages = {
        "/talking-therapies": "hwhct_home.html",  # R1A, links on to its self-referral page
        "/selfreferral": "hwhct_selfreferral.html",
        "/faqs": "cnwl_professionals.html",  # RV3AR
        "/services/nctalkingtherapies/information-for-referrers": "dit_only.html",  # RX40C
        "/with-deaf-people/psychological-therapy/therapy-service/": "js_shell.html",  # AM7: unreadable
    }  # RTF61's page is not served at all (404)
    for path, name in pages.items():
        server.route(path, body=(sites / name).read_text())


def test_service_sites_update_contact_details_and_keep_unreadable_sites(nhs_data, local_server):
    serve_sites(local_server)
    before = services(nhs_data)

    report = run(local_server, refresh.ServiceSitesSource())["service-sites"]

    assert report.status == "updated"
    after = services(nhs_data)
    changed = {c.id: {f.field: (f.before, f.after) for f in c.fields} for c in report.changes.changed}
    assert changed["R1A"]["self_referral_url"] == (
        "https://www.talkingtherapies.hwhct.nhs.uk/selfreferral",
        "https://gateway.mayden.co.uk/referral-v2/00000000-0000-0000-0000-000000000000",
    )
    # The unreadable sites keep what we had, and the report says which could not be read.
    for code in ("AM7", "RTF61"):
        assert after[code]["self_referral_url"] == before[code]["self_referral_url"]
        assert after[code]["phone"] == before[code]["phone"]
    # SignHealth's only website is on a staging host, never stored as a website (issue 13), so
    # it is not read at all: one unreadable site remains.
    assert "1 service websites could not be read" in report.changes.notes[0]
    text = (nhs_data / "CHANGES.md").read_text()
    assert "Contact details changed (check these first):" in text
    assert (
        "| R1A | `Herefordshire and Worcestershire Health and Care NHS Trust` | self_referral_url |" in text
    )
    # DIT is not IPT: a page listing only Dynamic Interpersonal Therapy never makes offers_ipt true.
    assert after["RX40C"]["offers_ipt"] == before["RX40C"]["offers_ipt"]


def test_service_sites_all_unreadable_keeps_everything(nhs_data, local_server):
    before = snapshot(nhs_data)
    report = run(local_server, refresh.ServiceSitesSource())["service-sites"]  # every site answers 404
    assert report.status == "kept"
    # Four websites: SignHealth's staging host is not stored as a website (issue 13).
    assert "only 0 of 4 service websites read" in report.reason
    assert snapshot(nhs_data) == before


def test_nhs_directory_without_a_key_reads_nhsuk(nhs_data, local_server, monkeypatch):
    monkeypatch.delenv("NHS_API_KEY", raising=False)
    local_server.route(NHSUK_RESULTS, body=(FIXTURES / "nhsuk" / "results.html").read_text())
    local_server.route(
        "/services/service-directory/north-cumbria-talking-therapies/N0000002",
        body=(FIXTURES / "nhsuk" / "service_page.html").read_text(),
    )

    reports = run(local_server, refresh.NhsDirectorySource(), refresh.NhsukDirectorySource())

    assert reports["nhs"].status == "skipped" and "NHS_API_KEY" in reports["nhs"].reason
    report = reports["nhsuk"]
    assert report.status == "updated"
    (note,) = [n for n in report.changes.notes if n.startswith("read from nhs.uk")]
    assert "postcode search" in note  # the GP search answered with a services page: not the GP flow
    searched = {
        path.split("location=")[1]
        for path, _ in local_server.requests
        if path.startswith(NHSUK_RESULTS + "?location")
    }
    assert len(searched) == 8  # one search per active provider's headquarters postcode
    # A service listed by all 8 searches has its own nhs.uk page read once, not 8 times.
    assert local_server.hits["/services/service-directory/north-cumbria-talking-therapies/N0000002"] == 1


def test_nhs_directory_without_a_key_follows_the_gp_flow(nhs_data, local_server, monkeypatch):
    """nhs.uk answering as NHS.UK's 2020 finder did: GP surgeries first, then their CCG's services,
    which then cover that CCG's districts."""
    monkeypatch.delenv("NHS_API_KEY", raising=False)
    local_server.route(
        NHSUK_RESULTS + "?type=gp", body=(FIXTURES / "nhsuk" / "gp_results_2020.html").read_text()
    )
    for ccg in ("99C", "01H"):
        page = (FIXTURES / "nhsuk" / f"iapt_results_2020_{ccg}.html").read_text()
        local_server.route(f"{NHSUK_RESULTS}?type=iapt&ccgid={ccg}", body=page)

    source = refresh.NhsukDirectorySource(districts_of_sub_icb=refresh.districts_of_sub_icb)
    report = run(local_server, source)["nhsuk"]

    assert report.status == "updated", report.reason
    assert any("GP surgery search" in note for note in report.changes.notes)
    assert report.found == {"records": 2, "self_referral_links": 2, "phones": 2, "with_areas": 2}
    assert local_server.hits[NHSUK_RESULTS] == 1 + 8 + 2  # the probe, 8 GP searches, 2 CCGs once each
    areas = {
        code: [(a["name"], a["basis"]) for a in record["areas_served"]]
        for code, record in services(nhs_data).items()
        if code in ("RTF61", "RX40C")
    }
    assert areas == {
        "RTF61": [("North Tyneside", "nhs_directory")],  # 99C
        "RX40C": [("Cumberland", "nhs_directory"), ("Westmorland and Furness", "nhs_directory")],  # 01H
    }


def test_nhs_directory_with_a_key_uses_the_api(nhs_data, monkeypatch):
    from service_search_server import ServiceSearchServer

    monkeypatch.setenv("NHS_API_KEY", "test-key-not-real")
    monkeypatch.setattr("scrapers.nhs_api.PAGE_SIZE", 4)  # the fixture's two pages
    with ServiceSearchServer() as api:
        monkeypatch.setenv("FINDER_NHS_API_URL", api.url)
        fetcher = Fetcher(min_interval=0, retries=0, timeout=10)
        opts = refresh.RefreshOptions(today=TODAY)
        sources = [refresh.NhsDirectorySource(), refresh.NhsukDirectorySource()]
        reports = {r.name: r for r in refresh.run_refresh(sources, fetcher, opts)}

    assert reports["nhsuk"].status == "skipped" and "NHS_API_KEY is set" in reports["nhsuk"].reason
    report = reports["nhs"]
    assert report.status in ("updated", "unchanged"), report.reason
    assert "5 of 5 listings matched a provider" in report.changes.notes
    assert [(query["$top"], headers["apikey"]) for query, headers in api.api_requests()] == [
        ("4", "test-key-not-real"),
        ("4", "test-key-not-real"),
    ]


def test_nhs_directory_changed_layout_keeps_the_data(nhs_data, local_server, monkeypatch):
    monkeypatch.delenv("NHS_API_KEY", raising=False)
    before = snapshot(nhs_data)
    local_server.route(NHSUK_RESULTS, body=(FIXTURES / "nhsuk" / "changed_layout.html").read_text())

    report = run(local_server, refresh.NhsukDirectorySource())["nhsuk"]

    assert report.status == "kept"
    assert "answered neither the GP search nor the postcode search" in report.reason
    assert snapshot(nhs_data) == before


def test_statistics_import_a_newly_published_year(clean_copy, local_server):
    from finder.imports import nhs

    stats = FIXTURES / "nhs_stats"
    nhs.import_providers(stats / "ods_providers.csv")
    nhs.import_outcomes(stats / "annual_main_2023-24.csv")
    nhs.import_outcomes(stats / "therapy_based_outcomes_2023-24.csv")
    local_server.route(
        f"{ANNUAL}/2024-25",
        body=(
            "<html><body><h1>NHS Talking Therapies, for anxiety and depression, Annual reports, 2024-25</h1>"
            "<h2>Resources</h2><ul><li><a href='/files/annual_main_2024-25.csv'>Main measures (CSV)</a></li>"
            "<li><a href='/files/therapy_based_outcomes_2024-25.csv'>Therapy-based outcomes (CSV)</a></li></ul>"
            "</body></html>"
        ),
    )
    for name in ("annual_main_2024-25.csv", "therapy_based_outcomes_2024-25.csv"):
        local_server.route(f"/files/{name}", body=(stats / name).read_bytes(), content_type="text/csv")

    report = run(local_server, refresh.NhsStatisticsSource())["nhs-statistics"]

    assert report.status == "updated"
    assert "2025-26 annual report not published yet" in report.changes.notes
    outcomes = json.loads((clean_copy / "nhs_outcomes.json").read_text())
    assert sorted(outcomes["main"]) == ["2023-24", "2024-25"]
    assert "2024-25" in services(clean_copy)["R1A"]["outcomes_by_period"]


def test_statistics_publication_page_without_files_is_a_changed_layout(nhs_data, local_server):
    before = snapshot(nhs_data)
    local_server.route(
        f"{ANNUAL}/2025-26", body="<html><body><h1>Annual reports 2025-26</h1><p>Soon.</p></body></html>"
    )
    report = run(local_server, refresh.NhsStatisticsSource())["nhs-statistics"]
    assert report.status == "kept"
    assert report.reason.startswith("page layout changed:") and "links no CSV or zip file" in report.reason
    assert snapshot(nhs_data) == before


def test_statistics_not_yet_published_is_not_a_failure(nhs_data, local_server):
    report = run(local_server, refresh.NhsStatisticsSource())["nhs-statistics"]
    assert report.status == "unchanged"
    assert refresh.exit_code([report]) == 0


def test_iptuk_refresh_replaces_only_its_own_practitioner_records(clean_copy, local_server):
    from finder import practitioners

    by_hand = practitioners.build_record(
        {
            "name": "Alex Example",
            "ipt_level": "Level B",
            "town": "Leeds",
            "outcode": "LS6",
            "works_online": "yes",
            "source": "register export.csv",
            "last_verified": "2026-01-10",
        }
    )
    practitioners.publish_practitioners([by_hand], {"source": "register export.csv"})
    local_server.route("/find-a-therapist.html", body=(FIXTURES / "iptuk" / "directory.html").read_text())

    report = run(local_server, refresh.IptukSource())["iptuk"]

    assert report.status == "updated"
    assert len(report.changes.added) == 4
    held = {r["id"]: r for r in json.loads((clean_copy / "practitioners.json").read_text())["records"]}
    assert len(held) == 5 and held[by_hand["id"]] == by_hand
    assert {r["last_verified"] for r in held.values() if r["id"] != by_hand["id"]} == {TODAY}

    local_server.route("/find-a-therapist.html", body=(FIXTURES / "iptuk" / "changed.html").read_text())
    before = snapshot(clean_copy)
    report = run(local_server, refresh.IptukSource())["iptuk"]
    assert report.status == "kept" and report.reason.startswith("page layout changed:")
    assert snapshot(clean_copy) == before


def test_iptuk_listing_of_someone_already_imported_does_not_duplicate_them(clean_copy, local_server):
    from finder import practitioners

    by_hand = practitioners.build_record(
        {
            "name": "Jane Smith-Jones",
            "ipt_level": "Level B",
            "registrations": "HCPC:PYL012345",
            "town": "Leeds",
            "outcode": "LS6",
            "works_in_person": "yes",
            "source": "register export.csv",
            "last_verified": "2026-01-10",
        }
    )
    practitioners.publish_practitioners([by_hand], {"source": "register export.csv"})
    local_server.route("/find-a-therapist.html", body=(FIXTURES / "iptuk" / "directory.html").read_text())

    report = run(local_server, refresh.IptukSource())["iptuk"]

    assert report.status == "updated"
    held = json.loads((clean_copy / "practitioners.json").read_text())["records"]
    ids = [r["id"] for r in held]
    assert len(ids) == len(set(ids))
    janes = [r for r in held if any(g["number"] == "PYL012345" for g in r["registrations"])]
    assert janes == [by_hand]


def test_postcodes_skipped_unless_a_release_is_given(data_copy, monkeypatch, local_server):
    monkeypatch.delenv("FINDER_POSTCODES_SOURCE", raising=False)
    report = run(local_server, refresh.PostcodesSource())["postcodes"]
    assert report.status == "skipped" and "FINDER_POSTCODES_SOURCE" in report.reason


def test_postcodes_release_that_would_drop_most_postcodes_is_refused(data_copy, monkeypatch, local_server):
    sample = FIXTURES / "codepoint" / "sample_rows.csv"
    local_server.route("/codepo_gb.csv", body=sample.read_bytes(), content_type="text/csv")
    monkeypatch.setenv(
        "FINDER_POSTCODES_SOURCE", "https://example.org/codepo_gb.csv"
    )  # redirected to 127.0.0.1
    before = snapshot(data_copy)

    report = run(local_server, refresh.PostcodesSource())["postcodes"]

    assert report.status == "kept"
    assert report.reason.startswith("would remove 100% of records (1743449 -> ")
    assert snapshot(data_copy) == before


def test_a_listing_on_a_website_several_services_share_goes_to_the_service_it_names():
    """CNWL runs several Talking Therapies services on talkingtherapies.cnwl.nhs.uk (as the real
    service_links.json does): a listing from that site must not hand its phone number to whichever
    of them happens to come first."""
    from scrapers.nhsuk import NhsukService

    providers = [
        {"org_code": "RV383", "org_name": "Harrow Talking Therapies Base", "status": "Active"},
        {"org_code": "RV3AR", "org_name": "Mill House", "status": "Active"},
        {"org_code": "R1A", "org_name": "Herefordshire and Worcestershire NHS Trust", "status": "Active"},
    ]
    links = {
        "RV383": {
            "org_code": "RV383",
            "service_name": "CNWL Talking Therapies - Harrow",
            "website": "https://talkingtherapies.cnwl.nhs.uk/harrow",
        },
        "RV3AR": {
            "org_code": "RV3AR",
            "service_name": "CNWL Talking Therapies - Hillingdon",
            "website": "https://talkingtherapies.cnwl.nhs.uk/faqs",
        },
        "R1A": {"org_code": "R1A", "website": "https://www.talkingtherapies.hwhct.nhs.uk/talking-therapies"},
    }

    def listing(name, website):
        return NhsukService(name, None, "01895 206800", None, website, None, "https://www.nhs.uk/x")

    match = refresh.NhsDirectorySource._match
    hillingdon = listing("CNWL Talking Therapies - Hillingdon", "https://talkingtherapies.cnwl.nhs.uk/")
    assert match(hillingdon, providers, links) == "RV3AR"
    unnamed = listing("CNWL Talking Therapies", "https://talkingtherapies.cnwl.nhs.uk/")
    assert match(unnamed, providers, links) is None  # cannot tell which: attributed to none
    worcester = listing("Worcestershire Talking Therapies", "https://talkingtherapies.hwhct.nhs.uk/")
    assert match(worcester, providers, links) == "R1A"  # a site only one service uses


def test_directory_area_codes_are_mapped_to_today_or_counted_and_named():
    from scrapers.nhsuk import NhsukService
    from scrapers.refresh.directory import todays_area_codes

    listing = NhsukService("Test", None, None, None, None, None, "test", areas_covered=("OLD", "15F", "GONE"))
    today = {"OLD": ("15F",), "15F": ("15F",)}

    [mapped], lines = todays_area_codes([listing], lambda code: today.get(code, ()))

    assert mapped.areas_covered == ("15F",)
    assert lines[0] == "1 older area code mapped to today's sub-ICB codes: OLD -> 15F"
    assert lines[1].startswith("1 area code the area tables cannot map to a sub-ICB") and lines[1].endswith(
        ": GONE"
    )
