"""Register pages: the parsers on structure-faithful fixtures, and the live checks against a local
HTTP server on 127.0.0.1 (found, not found, several matches, lapsed, changed layout, failures)."""

import pytest
from helpers import StaticFetcher

from finder import accreditation as acc
from finder.cli import live
from finder.errors import ParseError
from scrapers import bacp, hcpc, iptuk, registers
from scrapers.http import Fetcher


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


@pytest.mark.parametrize(
    "page, why",
    [
        ("hcpc/challenge.html", "challenge page"),  # even with the sentence on it
        ("hcpc/not_found_elsewhere.html", "not recognisably HCPC's"),
    ],
)
def test_hcpc_no_results_counts_only_on_hcpcs_own_page(fixtures, page, why):
    with pytest.raises(ParseError, match=why):
        hcpc.parse_detail(read(fixtures, page), "PYL099999")


def test_hcpc_challenge_page_is_check_failed_not_not_found(local_server, fixtures):
    urls = serve(local_server, fixtures, hcpc_page="hcpc/challenge.html", bacp_page="bacp/not_found.html")
    assert check(urls, number="PYL099999").result_for(acc.HCPC).status == acc.CHECK_FAILED


@pytest.mark.parametrize("page", ["hcpc/changed.html", "iptuk/directory.html"])
def test_hcpc_changed_page_raises(fixtures, page):
    with pytest.raises(ParseError):
        hcpc.parse_detail(read(fixtures, page), "PYL012345")


def test_bacp_results_carry_name_place_category_and_number(fixtures):
    [entry] = bacp.parse_results(read(fixtures, "bacp/found.html"))
    assert (entry.name, entry.location, entry.level, entry.registration_number) == (
        "Jane Smith-Jones",
        "Leeds, LS6",
        "Registered Member MBACP (Accred)",
        "300001",
    )
    levels = [e.level for e in bacp.parse_results(read(fixtures, "bacp/several.html"))]
    assert levels == [
        "Registered Member MBACP",
        "Registered Member MBACP (Snr Accred)",
        "Registered Member MBACP",
    ]


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
    assert result.result_for(acc.BACP).level == "Registered Member MBACP (Accred)"
    assert result.result_for(acc.IPT_UK).level == "Level B IPT Practitioner"
    assert result.overall.ipt_accredited
    assert local_server.hits["/hcpc"] == 1
    path, _headers = next(r for r in local_server.requests if r[0].startswith("/hcpc"))
    assert "query=PYL012345" in path and "profession=PYL" in path


def test_live_not_found(local_server, fixtures):
    urls = serve(local_server, fixtures, hcpc_page="hcpc/not_found.html", bacp_page="bacp/not_found.html")
    result = check(urls, number="PYL099999")  # the number hcpc/not_found.html answers about
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


def _full_pages(fixtures, count):
    """`count` distinct full pages of ten 'Alex Taylor' results, each claiming 999 results in all."""
    page = read(fixtures, "bacp/page1.html").replace("of 13 results", "of 999 results")
    pages = []
    for n in range(count):
        pages.append(
            page.replace("Membership number: 3100", f"Membership number: 3{n + 2}00").replace(
                ">3100", f">3{n + 2}00"
            )
        )
    return pages


def test_bacp_search_that_runs_past_the_pages_read_is_incomplete_not_a_short_list(fixtures):
    pages = _full_pages(fixtures, bacp.MAX_PAGES)
    fetch = StaticFetcher(
        {
            bacp.search_link("Alex Taylor") + ("" if n == 0 else f"&skip={n * bacp.PAGE_SIZE}"): pages[n]
            for n in range(bacp.MAX_PAGES)
        }
    )
    with pytest.raises(bacp.IncompleteResults) as error:
        bacp.search(fetch, "Alex Taylor")
    assert len(error.value.entries) == bacp.MAX_PAGES * bacp.PAGE_SIZE and error.value.total == 999


def test_bacp_page_served_again_for_skip_is_incomplete_not_duplicates(fixtures):
    fetch = StaticFetcher(
        {
            bacp.search_link("Alex Taylor"): read(fixtures, "bacp/page1.html"),
            bacp.search_link("Alex Taylor") + "&skip=10": read(fixtures, "bacp/page1.html"),
        }
    )
    with pytest.raises(bacp.IncompleteResults) as error:
        bacp.search(fetch, "Alex Taylor")
    assert len(error.value.entries) == 10  # no entry counted twice


def test_live_bacp_with_more_results_than_read_is_never_not_found_or_current(local_server, fixtures):
    urls = serve(local_server, fixtures, bacp_page=None)
    local_server.route("/bacp", body=_full_pages(fixtures, 1)[0])  # every page: the same ten people
    absent = check(urls, name="Jane Smith-Jones", number=None).result_for(acc.BACP)
    assert absent.status == acc.AMBIGUOUS and "search by hand" in absent.note
    one_of_many = check(urls, name="Alex Taylor", number=None).result_for(acc.BACP)
    assert one_of_many.status == acc.AMBIGUOUS and len(one_of_many.candidates) == 10
    # A membership number read among them still confirms that one person.
    confirmed = check(urls, name="Alex Taylor", number="320003").result_for(acc.BACP)
    assert (confirmed.status, confirmed.registration_number) == (acc.CURRENT, "320003")


def test_iptuk_entries_for_dit_or_ipc_are_not_ipt_therapists():
    page = (
        "<html><body><h2>Find a Therapist</h2>"
        "<div class='paragraph'><strong>Alex Dit</strong><br>Accreditation: Level B DIT Practitioner</div>"
        "<div class='paragraph'><strong>Bo Ipc</strong><br>Accreditation: IPC Practitioner</div>"
        "<div class='paragraph'><strong>Cy Ipt</strong><br>Accreditation: Level B IPT Practitioner</div>"
        "</body></html>"
    )
    assert [listing.name for listing in iptuk.parse_directory(page)] == ["Cy Ipt"]


def test_iptuk_website_is_never_a_register_link_and_contacts_lose_link_syntax():
    page = (
        "<html><body><h2>Find a Therapist</h2><div class='paragraph'><strong>Jane Smith-Jones</strong><br>"
        "Accreditation: Level B IPT Practitioner<br>"
        "Core profession: <a href='https://www.hcpc-uk.org/check-the-register/professional-registration-"
        "detail/?query=PYL012345&amp;profession=PYL'>HCPC PYL012345</a><br>"
        "Email: <a href='mailto:jane%40example.org?subject=IPT%20enquiry'>jane@example.org</a><br>"
        "Tel: <a href='tel:01632%20960001'>01632 960001</a></div></body></html>"
    )
    [jane] = iptuk.parse_directory(page)
    assert jane.website is None  # the HCPC link is her registration, not her website
    assert (jane.email, jane.phone) == ("jane@example.org", "01632 960001")
    own_site = page.replace("Tel:", "<a href='https://jane.example.org/'>jane.example.org</a><br>Tel:")
    assert iptuk.parse_directory(own_site)[0].website == "https://jane.example.org/"


def test_hcpc_another_table_with_a_name_column_is_not_the_registrant(fixtures):
    cookies = (
        "<table><tr><th>Name</th><th>Purpose</th></tr><tr><td>ASP.NET_SessionId</td><td>Session</td></tr>"
        "<tr><th>Expiry</th><td>When the browser closes</td></tr></table>"
    )
    page = read(fixtures, "hcpc/found.html").replace("<main", cookies + "<main", 1)
    [entry] = hcpc.parse_detail(page, "PYL012345")
    assert (entry.name, entry.status_text) == ("Jane Smith-Jones", "Registered (01/07/2025 to 30/06/2027)")


def test_live_ipt_uk_not_found_says_the_directory_lists_only_some_members(local_server, fixtures):
    urls = serve(local_server, fixtures, bacp_page="bacp/not_found.html")
    ipt = check(urls, name="Robert Brown", number=None).result_for(acc.IPT_UK)
    assert ipt.status == acc.NOT_FOUND and ipt.url.startswith("https://")
    assert "Not found on IPT UK as of" in ipt.note and "see clients privately" in ipt.note


def test_live_ipt_uk_number_listed_for_another_name_is_ambiguous(local_server, fixtures):
    urls = serve(local_server, fixtures, bacp_page="bacp/not_found.html")
    ipt = check(urls, name="Robert Brown", number="PYL012345").result_for(acc.IPT_UK)
    assert ipt.status == acc.AMBIGUOUS and ipt.name_on_register == "Jane Smith-Jones"


def test_hcpc_manual_note_names_a_number_that_is_not_an_hcpc_number(local_server, fixtures):
    result = check(serve(local_server, fixtures), number="300001")
    hcpc_result = result.result_for(acc.HCPC)
    assert hcpc_result.status == acc.MANUAL_CHECK and "300001 is not an HCPC number" in hcpc_result.note


def test_live_checks_identify_the_project_wait_their_turn_and_cache_at_most_a_week(tmp_path, monkeypatch):
    from finder import PROJECT_NAME

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    fetcher = live.default_fetcher()
    assert fetcher is live.default_fetcher()  # one per process, so the cache is shared
    assert PROJECT_NAME in fetcher.session.headers["User-Agent"]
    assert fetcher.min_interval >= 1.0 and fetcher.respect_robots
    assert fetcher.cache_days is not None and fetcher.cache_days <= 7
    # Names people look up are in register URLs: the cache lives in memory, never on disk.
    assert list(tmp_path.rglob("*")) == []
    # A person is waiting for the answer: no register may hold the check for minutes.
    assert fetcher.timeout <= 10 and fetcher.max_retry_wait <= 10 and fetcher.max_body_seconds <= 20


def test_bacp_page_that_counts_results_but_shows_none_readable_has_changed(fixtures):
    page = read(fixtures, "bacp/page1.html").replace("Membership number", "Register number")
    page = page.replace("</main>", "<div hidden><p>Sorry, your search returned no results.</p></div></main>")
    with pytest.raises(ParseError):
        bacp.parse_results(page)


def test_hcpc_no_results_must_be_about_the_number_asked(fixtures):
    page = read(fixtures, "hcpc/not_found.html")
    assert hcpc.parse_detail(page, "PYL099999") == []
    with pytest.raises(ParseError):
        hcpc.parse_detail(page, "PYL012345")  # a stale or leftover message about another number


def test_ipt_uk_site_failure_with_the_person_absent_from_local_data_is_check_failed(local_server, fixtures):
    urls = serve(local_server, fixtures, ipt=None)
    local_server.route("/ipt", status=503, body="down")
    someone_else = {
        "name": "Sam Okafor",
        "ipt_level": "Level D IPT Supervisor and Trainer",
        "registrations": [],
        "source": "export.csv",
        "last_verified": "2026-11-01",
    }
    ipt = check(urls, records=[someone_else]).result_for(acc.IPT_UK)
    assert ipt.status == acc.CHECK_FAILED and "not a 'not found'" in ipt.note
    assert ipt.url.startswith("https://")


def test_iptuk_entries_whose_names_are_not_headings_are_a_changed_page_not_a_region_named_person(fixtures):
    page = read(fixtures, "iptuk/directory.html")
    # The names now share their line with other text, so only the region headings remain headings.
    page = page.replace("</strong><br>Accreditation", "</strong> (private practice)<br>Accreditation")
    with pytest.raises(ParseError, match="changed"):
        iptuk.parse_directory(page)


def test_hcpc_a_caution_or_suspension_in_its_own_row_is_read_with_the_status(fixtures):
    found = read(fixtures, "hcpc/found.html")
    row = "<tr><td>Location</td>"
    caution = found.replace(row, "<tr><td>Sanctions</td><td>Caution order until 01/02/2027</td></tr>" + row)
    [entry] = hcpc.parse_detail(caution, "PYL012345")
    assert acc.status_from_text(entry.status_text) == acc.CURRENT_WITH_CONDITIONS
    none = found.replace(row, "<tr><td>Sanctions</td><td>None</td></tr>" + row)
    assert acc.status_from_text(hcpc.parse_detail(none, "PYL012345")[0].status_text) == acc.CURRENT


def test_iptuk_an_entry_with_two_accreditation_lines_keeps_both(fixtures):
    page = read(fixtures, "iptuk/directory.html").replace(
        "Accreditation: Level C IPT Practitioner; IPT-A (adolescents)",
        "Accreditation: Level C IPT Practitioner<br>Accreditation: IPT-A (adolescents)",
    )
    priya = next(entry for entry in iptuk.parse_directory(page) if entry.name == "Priya Shah")
    assert priya.level == "Level C IPT Practitioner; IPT-A (adolescents)"
