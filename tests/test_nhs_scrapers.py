"""The NHS scrapers on saved or structure-faithful pages (tests/fixtures/nhs_api, nhsuk, ods,
service_sites): what they find, what they refuse, and that a changed layout is an error."""

import json
from dataclasses import replace
from urllib.parse import urlencode

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


def _pages(fixtures):
    return [json.loads(read(fixtures, f"nhs_api/{name}")) for name in ("page1_v3.json", "page2_v3.json")]


def _services(fixtures):
    found = [s for page in _pages(fixtures) for s in nhs_api.parse_page(json.dumps(page), "test").services]
    return {s.code: s for s in found}


def test_api_leaves_out_trust_headquarters_and_other_services(fixtures):
    found = _services(fixtures)
    assert sorted(found) == ["AM7", "R1A", "RTF61", "RV3AR", "RX40C"]  # not RTF (TRU), not the GP


def test_api_reads_contacts_from_the_service_entry(fixtures):
    service = _services(fixtures)["RTF61"]
    assert service.self_referral_url == (
        "https://gateway.mayden.co.uk/referral-v2/e2d1595a-1a63-4796-8acf-de4bc9ec80a2"
    )
    assert service.phone == "0191 295 2775"
    assert service.website.startswith("https://northumbria.nhs.uk/")  # the organisation's own
    assert service.areas_covered == ("99C",)
    assert service.address == "Wallsend Health Centre, Wallsend"


def test_api_reads_contacts_from_the_metrics(fixtures):
    service = _services(fixtures)["R1A"]
    # Metric 9464 ("IAPT URL") has display type HtmlText: the link comes inside an anchor.
    assert service.self_referral_url == "https://www.talkingtherapies.hwhct.nhs.uk/selfreferral"
    assert service.phone == "0300 013 5727"
    assert service.areas_covered == ("18C", "05F")  # plain codes, as given


def test_api_service_entry_wins_over_the_metrics(fixtures):
    service = _services(fixtures)["RX40C"]
    assert service.self_referral_url.startswith("https://gateway.mayden.co.uk/referral-v2/ea77c8a7")
    assert service.phone == "0191 498 0123"


def test_api_refuses_javascript_links_and_falls_back_to_the_organisation(fixtures):
    service = _services(fixtures)["RV3AR"]
    assert service.self_referral_url is None
    assert service.website == "https://talkingtherapies.cnwl.nhs.uk/faqs"
    assert service.phone == "020 7946 0123"  # from the organisation's Contacts


def test_api_service_website_that_is_not_a_referral_form_is_the_website(fixtures):
    page = _pages(fixtures)[0]
    org = next(o for o in page["value"] if o["ODSCode"] == "RTF61")
    org["Services"][0]["Contacts"][0]["ContactValue"] = "https://northumbria.nhs.uk/talking-therapies"
    (service,) = nhs_api.parse_page(json.dumps(dict(page, value=[org])), "test").services
    assert service.self_referral_url is None  # not a known form, no self-referral path: not guessed
    assert service.website == "https://northumbria.nhs.uk/talking-therapies"


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
    page = _pages(fixtures)[0]
    org = next(o for o in page["value"] if o.get("ODSCode") == "RTF61")
    return json.dumps(dict(page, value=[dict(org, **changes)]))


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


def test_api_scrape_sends_the_key_header_and_pages_by_search_key(fixtures, monkeypatch):
    first, second = (json.dumps(page) for page in _pages(fixtures))
    fetch = RecordingFetch([first, second])
    monkeypatch.setenv("NHS_API_KEY", "test-key")
    found = nhs_api.scrape(fetch, page_size=4)
    assert [s.code for s in found] == ["RTF61", "R1A", "RX40C", "RV3AR", "AM7"]
    assert [call[0] for call in fetch.calls] == [nhs_api.settings().nhs_api_url] * 2
    assert fetch.calls[0][0] == "https://api.service.nhs.uk/service-search-api/"
    assert all(call[2] == {"apikey": "test-key", "Accept": "application/json"} for call in fetch.calls)
    assert all(call[1]["api-version"] == "3" and call[1]["$top"] == "4" for call in fetch.calls)
    assert "SearchKey gt" not in fetch.calls[0][1]["$filter"]
    assert fetch.calls[1][1]["$filter"].endswith("and SearchKey gt 'X1004'")
    assert "$skip" not in fetch.calls[1][1]


def test_api_asks_for_pages_of_a_thousand_talking_therapies_records_without_trusts():
    params = nhs_api.search_params()
    assert params["$top"] == "1000" and params["$orderBy"] == "SearchKey asc"
    assert params["$filter"] == (
        "Services/any(x: x/ServiceCode eq 'SRV0339') and OrganisationTypeId ne 'TRU'"
    )
    assert nhs_api.search_params("O'Key")["$filter"].endswith("SearchKey gt 'O''Key'")


def test_api_full_page_without_a_search_key_is_a_parse_error(fixtures, monkeypatch):
    page = _pages(fixtures)[0]
    for org in page["value"]:
        del org["SearchKey"]
    monkeypatch.setenv("NHS_API_KEY", "test-key")
    with pytest.raises(ParseError, match="without a new SearchKey"):
        nhs_api.scrape(RecordingFetch([json.dumps(page)]), page_size=4)


def test_api_base_url_comes_from_settings(monkeypatch):
    monkeypatch.setenv("FINDER_NHS_API_URL", "http://127.0.0.1:9/v3")
    assert nhs_api.api_url() == "http://127.0.0.1:9/v3/"


def test_api_without_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("NHS_API_KEY", raising=False)
    with pytest.raises(FinderError, match="NHS_API_KEY") as error:
        nhs_api.scrape(RecordingFetch([]))
    assert "developer" in str(error.value)


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


# The 2020 GP flow (nhsuk/mental-health-service-finder): GP surgeries, then their CCG's services.


def test_nhsuk_gp_search_lists_surgeries_with_their_ccg(fixtures):
    choices = nhsuk.parse_gp_results(read(fixtures, "nhsuk/gp_results_2020.html"))
    assert [(c.name, c.ccg_code) for c in choices] == [
        ("Portugal Place Health Ctr", "99C"),
        ("Spring Terrace Health Centre", "99C"),
        ("Birbeck Medical Group", "01H"),
    ]
    assert choices[0].services_url.startswith(nhsuk.RESULTS_URL + "?type=iapt&ccgid=99C&")
    assert nhsuk.parse_gp_results(read(fixtures, "nhsuk/no_gps_2020.html")) == []
    with pytest.raises(ParseError, match="not a GP search answer"):
        nhsuk.parse_gp_results(read(fixtures, "nhsuk/results.html"))


def test_nhsuk_2020_service_results_markup(fixtures):
    (service,) = nhsuk.parse_results(read(fixtures, "nhsuk/iapt_results_2020_01H.html"))
    assert service.name == "North Cumbria Talking Therapies"
    assert service.page_url is None  # the 2020 page names a service without linking it
    assert service.self_referral_url.startswith("https://gateway.mayden.co.uk/referral-v2/ea77c8a7")
    assert service.website == "https://cntw.nhs.uk/services/nctalkingtherapies/information-for-referrers"
    assert (service.phone, service.email) == ("0191 498 0123", "talking.therapies@example.nhs.net")


@pytest.mark.parametrize(
    "page, flow",
    [
        ("gp_results_2020.html", nhsuk.GP_FLOW),
        ("no_gps_2020.html", nhsuk.GP_FLOW),
        ("results.html", nhsuk.POSTCODE_FLOW),
        ("no_results.html", nhsuk.POSTCODE_FLOW),
        ("changed_layout.html", None),
    ],
)
def test_nhsuk_which_flow_a_page_answers(fixtures, page, flow):
    assert nhsuk.which_flow(read(fixtures, f"nhsuk/{page}")) == flow


def _gp_flow_pages(fixtures, query="NE28 7PD"):
    surgeries = read(fixtures, "nhsuk/gp_results_2020.html")
    return {
        f"{nhsuk.RESULTS_URL}?{urlencode(nhsuk.gp_search_params(query))}": surgeries,
        **{
            choice.services_url: read(fixtures, f"nhsuk/iapt_results_2020_{choice.ccg_code}.html")
            for choice in nhsuk.parse_gp_results(surgeries)
        },
    }


def test_nhsuk_gp_flow_reads_each_ccg_once_and_marks_its_areas(fixtures):
    fetch = StaticFetcher(_gp_flow_pages(fixtures))
    found = nhsuk.merged(nhsuk.search(fetch, "NE28 7PD", nhsuk.GP_FLOW))
    assert [(s.name, s.areas_covered) for s in found] == [
        ("North Tyneside Talking Therapies", ("99C",)),
        ("North Cumbria Talking Therapies", ("01H",)),
    ]
    assert sum("type=iapt" in url for url in fetch.requested) == 2  # 99C asked once for two surgeries
    twice = nhsuk.merged([*found, replace(found[0], areas_covered=("00L",))])
    assert [s.areas_covered for s in twice] == [("99C", "00L"), ("01H",)]


def test_nhsuk_probe_says_which_flow_answered(fixtures):
    gp = nhsuk.probe(StaticFetcher(_gp_flow_pages(fixtures)), "NE28 7PD")
    assert gp.flow == nhsuk.GP_FLOW and "GP surgery search" in gp.detail
    # No GP search any more (404): the postcode search answers.
    place = nhsuk.probe(
        StaticFetcher({f"{nhsuk.RESULTS_URL}?location=NE28+7PD": read(fixtures, "nhsuk/results.html")}),
        "NE28 7PD",
    )
    assert place.flow == nhsuk.POSTCODE_FLOW and "postcode search" in place.detail
    assert "no saved page" in place.tried[0]
    neither = nhsuk.probe(
        StaticFetcher({nhsuk.RESULTS_URL: read(fixtures, "nhsuk/changed_layout.html")}), "X"
    )
    assert neither.flow is None and "neither" in neither.detail and not neither.unreachable
    offline = nhsuk.probe(StaticFetcher({}), "X")  # every request fails: nhs.uk was not reached
    assert offline.flow is None and offline.unreachable


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
