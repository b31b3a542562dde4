"""`python -m finder refresh --dry-run --json`: what the run found, source by source, for the
operator. Run in process, as the other command-line tests are; the NHS directory is a local
stand-in of Service Search version 3 (tests/service_search_server.py) holding the two pages of
tests/fixtures/nhs_api/."""

import json
import sys
from pathlib import Path

import pytest
from helpers import RedirectAll
from service_search_server import ServiceSearchServer

from finder import cli
from finder.cli.commands import refresh as command
from scrapers import refresh
from scrapers.http import Fetcher

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "refresh"))
import clinic_site
from clinic_site import ClinicSource, clinic

FIXTURES = Path(__file__).parent / "fixtures"
REPORT_KEYS = ["name", "status", "records", "self_referral_links", "phones", "with_areas", "changed", "notes"]


def local_fetcher(args=None):
    return Fetcher(min_interval=0, retries=0, timeout=10, cache_path=None)


@pytest.fixture
def v3(monkeypatch):
    """The NHS directory answering as Service Search v3, in pages of four (the fixture's pages)."""
    with ServiceSearchServer() as api:
        monkeypatch.setenv("FINDER_NHS_API_URL", api.url)
        monkeypatch.setattr("scrapers.nhs_api.PAGE_SIZE", 4)
        monkeypatch.setattr(command, "make_fetcher", local_fetcher)
        yield api


def run_json(capsys, *argv):
    code = cli.main(["refresh", "--dry-run", "--json", *argv])
    out = capsys.readouterr().out
    return code, {s["name"]: s for s in json.loads(out)["sources"]}


def test_dry_run_json_reports_every_talking_therapies_record_of_a_two_page_answer(
    data_copy, v3, monkeypatch, capsys
):
    monkeypatch.setenv("NHS_API_KEY", "test-key-not-real")
    before = {p.name: p.read_bytes() for p in data_copy.iterdir() if p.is_file()}

    code, sources = run_json(capsys, "--source", "nhs")

    assert code == 0
    nhs = sources["nhs"]
    assert list(nhs) == REPORT_KEYS
    assert nhs["status"] == "ok"
    # Seven records over two pages: a trust headquarters and a GP surgery are not services.
    assert (nhs["records"], nhs["self_referral_links"], nhs["phones"], nhs["with_areas"]) == (5, 3, 5, 4)
    assert nhs["changed"] >= 1
    assert "5 of 5 listings matched a provider" in nhs["notes"]
    assert any("05F" in note and "cannot map" in note for note in nhs["notes"])  # an old CCG code
    assert len(v3.api_requests()) == 2  # the second page was short: no third request
    assert {p.name: p.read_bytes() for p in data_copy.iterdir() if p.is_file()} == before


def test_the_plain_report_says_the_same_in_words(data_copy, v3, monkeypatch, capsys):
    monkeypatch.setenv("NHS_API_KEY", "test-key-not-real")
    assert cli.main(["refresh", "--dry-run", "--source", "nhs"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("nhs: would update: ")
    assert out[1] == (
        "  read 5 records: 3 with a self-referral link, 5 with a phone number, 4 with the areas they cover"
    )
    assert "  5 of 5 listings matched a provider" in out


def test_an_address_that_is_not_the_v3_api_fails_the_source_and_says_why(data_copy, monkeypatch, capsys):
    monkeypatch.setenv("NHS_API_KEY", "test-key-not-real")
    monkeypatch.setattr(command, "make_fetcher", local_fetcher)
    with ServiceSearchServer() as api:
        monkeypatch.setenv("FINDER_NHS_API_URL", api.url)
        api.version_required = "4"  # as if the gateway no longer took version 3: 404
        code, sources = run_json(capsys, "--source", "nhs")
    assert code == 1 and sources["nhs"]["status"] == "failed"
    assert "HTTP 404" in sources["nhs"]["notes"][0] and "FINDER_NHS_API_URL" in sources["nhs"]["notes"][0]


def test_a_refused_key_fails_the_source_and_says_why(data_copy, monkeypatch, capsys):
    monkeypatch.setenv("NHS_API_KEY", "not-the-key")
    monkeypatch.setattr(command, "make_fetcher", local_fetcher)
    with ServiceSearchServer(key="the-key") as api:
        monkeypatch.setenv("FINDER_NHS_API_URL", api.url)
        code, sources = run_json(capsys, "--source", "nhs")
    assert code == 1
    nhs = sources["nhs"]
    assert nhs["status"] == "failed" and nhs["records"] is None
    assert "HTTP 401" in nhs["notes"][0] and "the key in NHS_API_KEY was refused" in nhs["notes"][0]


def test_without_a_key_the_directory_is_skipped_and_nhsuk_runs(data_copy, local_server, monkeypatch, capsys):
    monkeypatch.delenv("NHS_API_KEY", raising=False)
    local_server.route(
        "/service-search/mental-health/find-an-nhs-talking-therapies-service/results",
        body=(FIXTURES / "nhsuk" / "changed_layout.html").read_text(),
    )
    monkeypatch.setattr(
        command, "make_fetcher", lambda args: RedirectAll(local_fetcher(), local_server.url(""))
    )

    code, sources = run_json(capsys, "--source", "nhs", "--source", "nhsuk")

    assert sources["nhs"]["status"] == "skipped"
    (note,) = sources["nhs"]["notes"]
    assert "no NHS_API_KEY" in note and "digital.nhs.uk/developer" in note and "nhsuk" in note
    # The keyless route ran; here nhs.uk answers neither search, so it keeps the data and says so.
    assert sources["nhsuk"]["status"] == "failed"
    assert "neither the GP search nor the postcode search" in sources["nhsuk"]["notes"][0]
    assert code == 1


def test_a_mass_change_is_held_not_failed(data_copy, local_server, monkeypatch, capsys, tmp_path):
    source = ClinicSource(local_server.url(""))
    monkeypatch.setattr(refresh, "default_sources", lambda: [source])
    monkeypatch.setattr(command, "make_fetcher", local_fetcher)
    clinic_site.serve(local_server, [clinic(n) for n in range(1, 6)])
    assert cli.main(["refresh"]) == 0
    capsys.readouterr()
    clinic_site.serve(local_server, [clinic(1)])  # four of five clinics gone at once

    code, sources = run_json(capsys)

    assert code == 1
    clinics = sources["clinics"]
    assert clinics["status"] == "held" and clinics["records"] == 1
    assert "more than --max-shrink" in clinics["notes"][0]


def test_json_and_a_summary_on_standard_output_is_bad_usage(data_copy, capsys):
    with pytest.raises(SystemExit) as stopped:
        raise SystemExit(cli.main(["refresh", "--json", "--summary-file", "-"]))
    assert stopped.value.code == 2
    assert "standard output" in capsys.readouterr().err


def test_the_stand_in_refuses_as_the_v3_gateway_does():
    """So the tests above passing means the client sent both the key and the version."""
    from scrapers.http import FetchError

    fetch = local_fetcher()
    with ServiceSearchServer() as api:
        with pytest.raises(FetchError, match="HTTP 401"):
            fetch(api.url, params={"api-version": "3"})
        assert fetch(api.url, headers={"apikey": "k"}).status == 404  # a page's 404 is an answer
        assert json.loads(fetch(api.url, params={"api-version": "3"}, headers={"apikey": "k"}).text)["value"]
