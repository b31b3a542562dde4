"""Register pages: the parsers on structure-faithful fixtures, and the live checks against a local
HTTP server on 127.0.0.1 (found, not found, several matches, lapsed, changed layout, failures)."""

import pytest

from finder import accreditation as acc
from finder import live
from finder.errors import ParseError
from scrapers import bacp, hcpc, iptuk, registers
from scrapers.http import Fetcher, StaticFetcher


def read(fixtures, name):
    return (fixtures / name).read_text(encoding="utf-8")


# --- parsers -----------------------------------------------------------------------------------


def test_hcpc_detail_found(fixtures):
    [entry] = hcpc.parse_detail(read(fixtures, "hcpc/found.html"), "PYL012345")
    assert (entry.name, entry.registration_number) == ("Jane Smith-Jones", "PYL012345")
    assert entry.status_text.startswith("Registered")
    assert hcpc.data_valid_on(read(fixtures, "hcpc/found.html")) == "25/11/2026 18:00:00"


def test_hcpc_no_results_is_an_empty_answer(fixtures):
    assert hcpc.parse_detail(read(fixtures, "hcpc/not_found.html"), "PYL099999") == []


@pytest.mark.parametrize("page", ["hcpc/changed.html", "iptuk/directory.html"])
def test_hcpc_changed_page_raises(fixtures, page):
    with pytest.raises(ParseError):
        hcpc.parse_detail(read(fixtures, page), "PYL012345")


def test_bacp_results_carry_name_place_category_and_number(fixtures):
    [entry] = bacp.parse_results(read(fixtures, "bacp/found.html"))
    assert (entry.name, entry.location, entry.level, entry.registration_number) == (
        "Jane Smith-Jones",
        "Leeds, LS6",
        "MBACP (Accred)",
        "300001",
    )
    levels = [e.level for e in bacp.parse_results(read(fixtures, "bacp/several.html"))]
    assert levels == ["MBACP", "MBACP (Snr Accred)", "MBACP"]


def test_bacp_no_results_and_changed_pages(fixtures):
    assert bacp.parse_results(read(fixtures, "bacp/not_found.html")) == []
    with pytest.raises(ParseError):
        bacp.parse_results(read(fixtures, "bacp/changed.html"))
    with pytest.raises(ParseError):
        bacp.parse_results("   ")


def test_bacp_search_follows_pages_of_ten(fixtures):
    fetch = StaticFetcher(
        {
            "https://www.bacp.co.uk/search/Register?q=Alex+Taylor": read(fixtures, "bacp/page1.html"),
            "https://www.bacp.co.uk/search/Register?q=Alex+Taylor&skip=10": read(fixtures, "bacp/page2.html"),
        }
    )
    entries = bacp.search(fetch, "Alex Taylor")
    assert len(entries) == 13
    assert len({e.registration_number for e in entries}) == 13
    assert fetch.requested[-1].endswith("skip=10")


def test_iptuk_directory_entries_by_heading_and_labels(fixtures):
    listings = iptuk.parse_directory(read(fixtures, "iptuk/directory.html"))
    assert [entry.name for entry in listings] == [
        "Jane Smith-Jones",
        "Sam Okafor",
        "Priya Shah",
        "Jane Smith",
    ]
    jane = listings[0]
    assert jane.level == "Level B IPT Practitioner"
    assert (jane.outcode, jane.email, jane.phone, jane.website) == (
        "LS6",
        "jane@example.org",
        "01632960001",
        "https://example.org/jane",
    )
    assert jane.works_online and jane.works_in_person and not jane.works_by_phone
    assert listings[1].works_by_phone and "Supervisor" in listings[1].level


def test_iptuk_changed_page_raises_never_empty(fixtures):
    with pytest.raises(ParseError, match="changed"):
        iptuk.parse_directory(read(fixtures, "iptuk/changed.html"))


def test_manual_links_are_https_and_prefilled_where_known():
    number = acc.parse_registration_number("PYL012345")
    assert registers.manual_link(acc.HCPC, "Jane Smith", number) == (
        "https://www.hcpc-uk.org/check-the-register/professional-registration-detail/?query=PYL012345&profession=PYL"
    )
    assert (
        registers.manual_link(acc.BACP, "Jane Smith") == "https://www.bacp.co.uk/search/Register?q=Jane+Smith"
    )
    assert all(registers.manual_link(r).startswith("https://") for r in acc.ALL_REGISTERS)


# --- live checks over a local HTTP server ---------------------------------------------------------


def fast_fetcher():
    return Fetcher(min_interval=0.0, timeout=1.0, retries=0, backoff=0.0, respect_robots=False)


def serve(
    local_server,
    fixtures,
    *,
    ipt="iptuk/directory.html",
    hcpc_page="hcpc/found.html",
    bacp_page="bacp/found.html",
):
    for path, page in (("/ipt", ipt), ("/hcpc", hcpc_page), ("/bacp", bacp_page)):
        if page is not None:
            local_server.route(path, body=read(fixtures, page))
    return {
        acc.IPT_UK: local_server.url("/ipt"),
        acc.HCPC: local_server.url("/hcpc"),
        acc.BACP: local_server.url("/bacp"),
    }


def check(urls, name="Dr Jane A. Smith-Jones MBACP", number="PYL012345", records=()):
    return live.check_therapist(name, number, fetch=fast_fetcher(), records=list(records), urls=urls)


def test_live_found_everywhere_is_ipt_accredited(local_server, fixtures):
    result = check(serve(local_server, fixtures))
    assert result.result_for(acc.HCPC).status == acc.CURRENT
    assert result.result_for(acc.HCPC).confidence == acc.CONFIDENCE_HIGH
    assert result.result_for(acc.BACP).level == "MBACP (Accred)"
    assert result.result_for(acc.IPT_UK).level == "Level B IPT Practitioner"
    assert result.overall.ipt_accredited
    assert local_server.hits["/hcpc"] == 1
    path, _headers = next(r for r in local_server.requests if r[0].startswith("/hcpc"))
    assert "query=PYL012345" in path and "profession=PYL" in path


def test_live_not_found(local_server, fixtures):
    urls = serve(local_server, fixtures, hcpc_page="hcpc/not_found.html", bacp_page="bacp/not_found.html")
    result = check(urls)
    assert result.result_for(acc.HCPC).status == acc.NOT_FOUND
    assert result.result_for(acc.BACP).status == acc.NOT_FOUND
    assert "as of" in result.result_for(acc.BACP).note
    assert not result.overall.ipt_accredited


def test_live_several_matches_are_ambiguous(local_server, fixtures):
    urls = serve(local_server, fixtures, bacp_page="bacp/several.html")
    result = check(urls, name="Jane Smith", number=None)
    bacp_result = result.result_for(acc.BACP)
    assert bacp_result.status == acc.AMBIGUOUS
    assert len(bacp_result.candidates) == 3
    assert result.result_for(acc.HCPC).status == acc.MANUAL_CHECK  # no HCPC number to look up


def test_live_lapsed_is_not_accredited(local_server, fixtures):
    result = check(
        serve(local_server, fixtures, hcpc_page="hcpc/lapsed.html", bacp_page="bacp/not_found.html")
    )
    assert result.result_for(acc.HCPC).status == acc.LAPSED_OR_REMOVED
    assert not result.overall.ipt_accredited
    assert "HCPC: lapsed or removed" in result.overall.missing[0]


def test_live_conditions_and_other_name(local_server, fixtures):
    assert (
        check(serve(local_server, fixtures, hcpc_page="hcpc/conditions.html")).result_for(acc.HCPC).status
        == acc.CURRENT_WITH_CONDITIONS
    )
    local_server.route("/hcpc", body=read(fixtures, "hcpc/other_name.html"))
    assert (
        check(serve(local_server, fixtures, hcpc_page="hcpc/other_name.html")).result_for(acc.HCPC).status
        == acc.AMBIGUOUS
    )


def test_live_changed_layout_is_check_failed(local_server, fixtures):
    urls = serve(
        local_server,
        fixtures,
        ipt="iptuk/changed.html",
        hcpc_page="hcpc/changed.html",
        bacp_page="bacp/changed.html",
    )
    result = check(urls)
    for register in (acc.IPT_UK, acc.HCPC, acc.BACP):
        assert result.result_for(register).status == acc.CHECK_FAILED, register
    assert "changed" in result.result_for(acc.HCPC).note


def test_live_server_errors_and_timeouts_are_check_failed(local_server, fixtures):
    urls = serve(local_server, fixtures, ipt=None, hcpc_page=None, bacp_page=None)
    local_server.route("/ipt", status=503, body="down")
    local_server.route("/hcpc", body=read(fixtures, "hcpc/found.html"), delay=2.5)  # beyond the 1 s timeout
    local_server.route("/bacp", status=500, body="oops")
    result = check(urls)
    for register in (acc.IPT_UK, acc.HCPC, acc.BACP):
        found = result.result_for(register)
        assert found.status == acc.CHECK_FAILED, register
        assert "not a 'not found'" in found.note
    assert not result.overall.ipt_accredited


def test_ipt_uk_site_failure_falls_back_to_local_data(local_server, fixtures):
    urls = serve(local_server, fixtures, ipt=None)
    local_server.route("/ipt", status=503, body="down")
    record = {
        "name": "Jane Smith-Jones",
        "ipt_level": "Level C IPT Practitioner",
        "registrations": [],
        "source": "export.csv",
        "last_verified": "2026-11-01",
    }
    result = check(urls, records=[record])
    ipt = result.result_for(acc.IPT_UK)
    assert (ipt.status, ipt.method, ipt.level) == (acc.CURRENT, acc.METHOD_LOCAL, "Level C IPT Practitioner")
    assert "could not be read" in ipt.note


def test_hyphenated_surname_is_searched_by_each_part(local_server, fixtures):
    urls = serve(local_server, fixtures, bacp_page=None)
    local_server.route(
        "/bacp",
        responses=[
            (200, read(fixtures, "bacp/not_found.html")),
            (200, read(fixtures, "bacp/not_found.html")),
            (200, read(fixtures, "bacp/several.html")),
        ],
    )
    result = check(urls, name="Jane Smith-Jones", number="300003")
    bacp_result = result.result_for(acc.BACP)
    assert bacp_result.status == acc.CURRENT and bacp_result.registration_number == "300003"
    assert local_server.hits["/bacp"] == 3
