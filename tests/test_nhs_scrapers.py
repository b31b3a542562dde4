"""The NHS scrapers on saved or structure-faithful pages (tests/fixtures/nhs_api, nhsuk, ods,
service_sites): what they find, what they refuse, and that a changed layout is an error."""

import json

import pytest
from helpers import StaticFetcher

from finder.errors import FinderError, ParseError
from scrapers import nhs_api, nhsuk, ods, service_sites
from scrapers.http import FetchError, Response


def read(fixtures, name):
    return (fixtures / name).read_text(encoding="utf-8")


class RecordingFetch:
    """A fetcher that answers from a list of bodies and records the requests it was given."""

    def __init__(self, bodies):
        self.bodies = list(bodies)
        self.calls = []

    def __call__(self, url, params=None, headers=None):
        self.calls.append((url, dict(params or {}), dict(headers or {})))
        if not self.bodies:
            raise FetchError(url, "no more saved answers")
        return Response(url, 200, self.bodies.pop(0))


# --- NHS Service Search API -------------------------------------------------------------------


def test_api_finds_talking_therapies_with_self_referral_and_areas(fixtures):
    found, total = nhs_api.parse_organisations(read(fixtures, "nhs_api/talking_therapies_search_v3.json"))
    assert total == 3
    by_code = {s.code: s for s in found}
    assert "RTF" not in by_code  # the trust headquarters (TRU) is left out
    service = by_code["RTF61"]
    assert (
        service.self_referral_url
        == "https://gateway.mayden.co.uk/referral-v2/e2d1595a-1a63-4796-8acf-de4bc9ec80a2"
    )
    assert service.phone == "0191 295 2775"
    assert service.email is None  # "not an email" is not stored
    assert service.website.startswith("https://northumbria.nhs.uk/")
    assert service.areas_covered == ("99C",)
    assert service.address == "Wallsend Health Centre, Wallsend"


def test_api_refuses_unsafe_links(fixtures):
    found, _ = nhs_api.parse_organisations(read(fixtures, "nhs_api/talking_therapies_search_v3.json"))
    unsafe = next(s for s in found if s.code == "ZZZ01")
    assert unsafe.self_referral_url is None and unsafe.website is None
    assert unsafe.areas_covered == ("00X",)


def test_api_reads_version_1_metrics_sent_as_json_text(fixtures):
    found, _ = nhs_api.parse_organisations(read(fixtures, "nhs_api/v1_search_response_example.json"))
    # The second example organisation has no 9464 metric: no self-referral link, nothing guessed.
    assert [s.self_referral_url for s in found] == [
        "https://iapt.self.referral.0",
        None,
        "https://iapt.self.referral.2",
    ]
    assert found[0].website == "https://website.result.0"
    # The example's placeholder values are not a phone number or an email address: not stored.
    assert found[0].phone is None and found[0].email is None
    assert found[0].code is None  # the v1 example has no ODS code


def test_api_leaves_out_organisations_without_talking_therapies(fixtures):
    found, _ = nhs_api.parse_organisations(read(fixtures, "nhs_api/organisations-single_v3.json"))
    assert found == []  # a GP surgery without SRV0339


def test_api_changed_layout_raises(fixtures):
    with pytest.raises(ParseError, match="no 'value' list"):
        nhs_api.parse_organisations(read(fixtures, "nhs_api/changed_layout.json"))


def _one_organisation(fixtures, **changes):
    body = json.loads(read(fixtures, "nhs_api/talking_therapies_search_v3.json"))
    org = next(o for o in body["value"] if o.get("ODSCode") == "RTF61")
    return json.dumps(dict(body, value=[dict(org, **changes)]))


@pytest.mark.parametrize(
    "changes",
    [
        {"OrganisationName": 12345},  # a name that is not text
        {"Metrics": [{"MetricID": "IAPT URL", "Value": "https://example.nhs.uk/refer"}]},  # id not a number
    ],
)
def test_api_field_of_another_type_is_a_parse_error_not_a_crash(fixtures, changes):
    with pytest.raises(ParseError, match="value\\[0\\]"):
        nhs_api.parse_organisations(_one_organisation(fixtures, **changes))


def test_api_self_referral_link_published_as_html_text(fixtures):
    # Metric 9464 ("IAPT URL") has display type HtmlText: the link may come inside an anchor.
    html = '<a href="https://gateway.mayden.co.uk/referral-v2/abc?x=1&amp;y=2">Refer yourself</a>'
    text = _one_organisation(fixtures, Metrics=[{"MetricID": 9464, "Value": html}], Services=[])
    (service,), _ = nhs_api.parse_organisations(text)
    assert service.self_referral_url == "https://gateway.mayden.co.uk/referral-v2/abc?x=1&y=2"
    unsafe = _one_organisation(
        fixtures, Metrics=[{"MetricID": 9464, "Value": '<a href="javascript:go()">Refer</a>'}], Services=[]
    )
    assert nhs_api.parse_organisations(unsafe)[0][0].self_referral_url is None


def test_api_scrape_sends_the_key_header_and_pages(fixtures, monkeypatch):
    body = json.loads(read(fixtures, "nhs_api/talking_therapies_search_v3.json"))
    first = dict(body, value=body["value"][:2])
    second = dict(body, value=body["value"][2:])
    fetch = RecordingFetch([json.dumps(first), json.dumps(second)])
    monkeypatch.setenv("NHS_API_KEY", "test-key")
    found = nhs_api.scrape(fetch, page_size=2)
    assert [s.code for s in found] == ["RTF61", "ZZZ01"]
    assert [call[1]["$skip"] for call in fetch.calls] == ["0", "2"]
    assert all(call[2]["subscription-key"] == "test-key" for call in fetch.calls)
    assert "SRV0339" in fetch.calls[0][1]["$filter"] and "TRU" in fetch.calls[0][1]["$filter"]


def test_api_without_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("NHS_API_KEY", raising=False)
    with pytest.raises(FinderError, match="NHS_API_KEY"):
        nhs_api.scrape(RecordingFetch([]))


# --- ODS ORD API ------------------------------------------------------------------------------


def test_ods_organisation(fixtures):
    org = ods.parse_organisation(read(fixtures, "ods/97T.json"))
    assert (org.code, org.status, org.postcode, org.town) == ("97T", "Active", "LS2 7UA", "LEEDS")
    assert org.address_lines[0] == "C/O NHS ENGLAND" and org.primary_role == "RO98"
    assert org.active


def test_ods_inactive_organisation(fixtures):
    org = ods.parse_organisation(read(fixtures, "ods/RTV_inactive.json"))
    assert not org.active and org.end_date == "2025-10-31"


def test_ods_scrape_unknown_code_is_none(fixtures):
    fetch = StaticFetcher(
        {
            ods.ORD_URL.format(code="97T"): read(fixtures, "ods/97T.json"),
            ods.ORD_URL.format(code="XXX"): (404, read(fixtures, "ods/not_found.json")),
        }
    )
    found = ods.scrape(fetch, ["97T", "XXX"])
    assert found["97T"].name == "SOUTH EAST - H&J COMMISSIONING HUB" and found["XXX"] is None


def test_ods_field_of_another_type_is_a_parse_error_not_a_crash(fixtures):
    answer = json.loads(read(fixtures, "ods/97T.json"))
    answer["Organisation"]["GeoLoc"] = {"Location": "C/O NHS ENGLAND, LEEDS"}  # text, not an object
    with pytest.raises(ParseError, match="layout may have changed"):
        ods.parse_organisation(json.dumps(answer))


def test_ods_changed_layout_raises(fixtures):
    with pytest.raises(ParseError, match="no 'Organisation'"):
        ods.parse_organisation(read(fixtures, "ods/changed_layout.json"))


# --- nhs.uk service finder --------------------------------------------------------------------


def test_nhsuk_results(fixtures):
    results = nhsuk.parse_results(read(fixtures, "nhsuk/results.html"))
    assert [r.name for r in results] == [
        "NHS Herefordshire and Worcestershire Talking Therapies",
        "North Cumbria Talking Therapies",
        "Structure test: unsafe links",
    ]
    hw = results[0]
    assert hw.phone == "0300 013 5727"
    assert hw.self_referral_url == "https://www.talkingtherapies.hwhct.nhs.uk/selfreferral"
    assert hw.website == "https://www.talkingtherapies.hwhct.nhs.uk/talking-therapies"
    assert hw.page_url.startswith("https://www.nhs.uk/services/")
    assert results[1].email == "talking.therapies@example.nhs.net"
    assert results[2].self_referral_url is None  # javascript: refused


def test_nhsuk_no_results_is_empty_not_an_error(fixtures):
    assert nhsuk.parse_results(read(fixtures, "nhsuk/no_results.html")) == []


def test_nhsuk_changed_layout_raises(fixtures):
    with pytest.raises(ParseError, match="layout may have changed"):
        nhsuk.parse_results(read(fixtures, "nhsuk/changed_layout.html"))


def test_nhsuk_scrape_completes_from_the_service_page(fixtures):
    results_html = read(fixtures, "nhsuk/results.html")
    pages = {
        f"{nhsuk.RESULTS_URL}?location=WR5+1JG": results_html,
        "https://www.nhs.uk/services/service-directory/north-cumbria-talking-therapies/N0000002": read(
            fixtures, "nhsuk/service_page.html"
        ),
        "https://www.nhs.uk/services/service-directory/structure-test/N0000003": read(
            fixtures, "nhsuk/service_page.html"
        ),
    }
    found = nhsuk.scrape(StaticFetcher(pages), "WR5 1JG")
    cumbria = found[1]
    assert cumbria.self_referral_url.startswith("https://gateway.mayden.co.uk/referral")


# --- Service websites -------------------------------------------------------------------------


def test_service_site_self_referral_age_and_catchment(fixtures):
    base = "https://www.talkingtherapies.hwhct.nhs.uk"
    fetch = StaticFetcher(
        {
            f"{base}/talking-therapies": read(fixtures, "service_sites/hwhct_home.html"),
            f"{base}/selfreferral": read(fixtures, "service_sites/hwhct_selfreferral.html"),
        }
    )
    found = service_sites.scrape(fetch, f"{base}/talking-therapies")
    assert found.self_referral_url.startswith("https://gateway.mayden.co.uk/referral")
    assert found.phone == "0300 013 5727"
    assert found.min_age == 16
    assert found.catchment == "Herefordshire or Worcestershire"
    assert found.evidence["self_referral_url"] == f"{base}/selfreferral"
    assert found.offers_ipt is None  # the pages say nothing about IPT: unknown, not "no"
    assert f"{base}/professionals" not in fetch.requested  # pages for professionals are not followed


def test_service_site_crisis_line_link_is_not_the_service_phone(fixtures):
    url = "https://www.talkingtherapies.hwhct.nhs.uk/contact"
    page = service_sites.parse_service_page(read(fixtures, "service_sites/crisis_box_first.html"), url)
    assert page.phones == ("0300 013 5727",)


def test_service_site_ipt_and_dit(fixtures):
    page = service_sites.parse_service_page(
        read(fixtures, "service_sites/cnwl_professionals.html"),
        "https://talkingtherapies.cnwl.nhs.uk/professionals-area",
    )
    assert page.offers_ipt and page.offers_dit
    assert page.min_age == 18
    assert page.phones == ()  # the crisis line is not the service's number


def test_service_site_dit_is_not_ipt(fixtures):
    page = service_sites.parse_service_page(
        read(fixtures, "service_sites/dit_only.html"),
        "https://talkingtherapies.cnwl.nhs.uk/professionals-area",
    )
    assert page.offers_dit and not page.offers_ipt


def test_service_site_changed_layout_raises(fixtures):
    with pytest.raises(ParseError, match="no readable text"):
        service_sites.parse_service_page(read(fixtures, "service_sites/js_shell.html"), "https://x.nhs.uk/")


def test_service_site_refuses_non_http_start():
    with pytest.raises(ParseError, match="not an http"):
        service_sites.scrape(StaticFetcher({}), "javascript:alert(1)")
