"""The composition root of the accreditation check: wires the register scrapers and the shared
HTTP fetcher into `finder.accreditation`. The CLI (`python -m finder check`) and the app both call
`check_therapist` here. Scrapers are imported lazily inside functions, so importing `finder` never
pulls in BeautifulSoup or the network code.

Live checks go through `scrapers.http.Fetcher`: it identifies the project in its User-Agent,
honours robots.txt, waits between requests to a host, retries transient failures and keeps a
cache (at most 7 days) in memory only: names looked up are never written to disk.
`offline=True` uses only the local data and gives links to check every register by hand.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from finder import accreditation as acc
from finder import postcodes
from finder.accreditation import CheckQuery, CheckResult, RegisterResult

CACHE_DAYS = 7
IN_MEMORY = ":memory:"  # the HTTP layer's in-process cache (scrapers.http.MEMORY): nothing on disk


@functools.lru_cache(maxsize=1)
def default_fetcher():
    """One fetcher for the whole process (the app serves many people from one), so repeated
    checks within a week are revalidated rather than downloaded again.

    The cache is in memory only: register searches carry the therapist's name in the URL, and
    what people look up must never be written to disk.
    """
    from scrapers.http import Fetcher

    # A person is waiting: one retry, a 10 s timeout, and a register that asks us to come back in
    # minutes (Retry-After) or drips its page for longer than 20 s is a failed check, not a wait.
    return Fetcher(
        cache_path=Path(IN_MEMORY),
        cache_days=CACHE_DAYS,
        retries=1,
        timeout=10.0,
        max_retry_wait=10.0,
        max_body_seconds=20.0,
    )


def _reason(error: Exception) -> str:
    reason = getattr(error, "reason", None) or str(error) or type(error).__name__
    return str(reason).splitlines()[0][:160]


def _links(query: CheckQuery) -> dict[str, str]:
    from scrapers import registers

    return {
        r: registers.manual_link(r, query.parsed.display, query.registration_number)
        for r in acc.ALL_REGISTERS
    }


def hcpc_checker(fetch, *, url: str | None = None) -> Callable[[CheckQuery], RegisterResult]:
    def check(query: CheckQuery) -> RegisterResult:
        from finder.errors import ParseError
        from scrapers import hcpc, registers
        from scrapers.http import FetchError

        number = query.registration_number
        if number is None or number.kind != "hcpc":
            given = "none was given" if number is None else f"{number.text} is not an HCPC number"
            return acc.manual_result(
                acc.HCPC,
                query,
                registers.manual_link(acc.HCPC),
                f"HCPC is checked by registration number (like PYL012345) and {given}.",
            )
        base = url or hcpc.DETAIL_URL
        link = hcpc.detail_link(number)  # the real page, for a person to open
        try:
            entries = hcpc.lookup(fetch, number, url=base)
        except (FetchError, ParseError) as error:
            return acc.failed_result(
                acc.HCPC, query, link, _reason(error), acc.METHOD_LIVE_NUMBER, number.text
            )
        return acc.judge_number_lookup(acc.HCPC, query, entries, url=link)

    return check


def bacp_checker(fetch, *, url: str | None = None) -> Callable[[CheckQuery], RegisterResult]:
    def check(query: CheckQuery) -> RegisterResult:
        from finder.errors import ParseError
        from scrapers import bacp
        from scrapers.http import FetchError

        base = url or bacp.SEARCH_URL
        searches = [query.parsed.display]
        # A hyphenated surname may be listed under either part: try each if the whole finds no one.
        first = query.parsed.display.split()[0]
        searches += [f"{first} {part.capitalize()}" for part in query.parsed.surname_parts[1:]]

        def search(text: str) -> RegisterResult:
            link = bacp.search_link(text)
            try:
                entries = bacp.search(fetch, text, url=base)
            except bacp.IncompleteResults as error:
                return acc.judge_incomplete_search(
                    acc.BACP, query, error.entries, url=link, default_status_text=bacp.REGISTER_STATUS
                )
            except (FetchError, ParseError) as error:
                return acc.failed_result(acc.BACP, query, link, _reason(error), acc.METHOD_LIVE_NAME)
            return acc.judge_name_search(
                acc.BACP, query, entries, url=link, default_status_text=bacp.REGISTER_STATUS
            )

        for text in searches[:-1]:
            result = search(text)
            if result.status != acc.NOT_FOUND:
                return result
        result = search(searches[-1])
        if result.status != acc.NOT_FOUND or len(searches) == 1:
            return result
        tried = " and ".join(repr(s) for s in searches)
        return replace(result, note=f"{result.note} Searched for {tried}.")

    return check


def iptuk_checker(
    fetch, records: list[dict], *, url: str | None = None
) -> Callable[[CheckQuery], RegisterResult]:
    """IPT UK's directory read live; when the site fails, the local copy if it lists the person
    (it may be partial, so its silence is no 'not found'), else a failed check with a link to
    search by hand."""

    def check(query: CheckQuery) -> RegisterResult:
        from finder.errors import ParseError
        from scrapers import iptuk
        from scrapers.http import FetchError

        base = url or iptuk.DIRECTORY_URL
        try:
            listings = iptuk.scrape(fetch, url=base)
        except (FetchError, ParseError) as error:
            local = None
            if acc.ipt_entries_from_records(records):
                local = acc.local_ipt_check(records, query, url=iptuk.DIRECTORY_URL)
                if local.status != acc.NOT_FOUND:
                    return replace(
                        local,
                        note=f"{local.note} (IPT UK's site could not be read: "
                        f"{_reason(error)}; answered from local data.)",
                    )
            searched = " The local data does not list them either." if local is not None else ""
            return acc.RegisterResult(
                acc.IPT_UK,
                acc.CHECK_FAILED,
                iptuk.DIRECTORY_URL,
                query.checked_at,
                acc.METHOD_LIVE_NAME,
                note=f"IPT UK's Find a Therapist page could not be read ({_reason(error)}); this is "
                f"not a 'not found'.{searched} Search it by hand at the link.",
            )
        entries = [listing.to_entry(iptuk.DIRECTORY_URL) for listing in listings]
        result = acc.judge_name_search(acc.IPT_UK, query, entries, url=iptuk.DIRECTORY_URL)
        if result.status == acc.NOT_FOUND:
            result = replace(
                result,
                note=f"{result.note} IPT UK's Find a Therapist page lists only accredited members who "
                "see clients privately and asked to be listed, so ask the therapist or IPT UK as well.",
            )
        return result

    return check


def manual_checker(register: str) -> Callable[[CheckQuery], RegisterResult]:
    def check(query: CheckQuery) -> RegisterResult:
        from scrapers import registers

        return acc.manual_result(
            register,
            query,
            registers.manual_link(register, query.parsed.display, query.registration_number),
            f"{register} cannot be read automatically here. "
            + registers.search_hint(register, query.parsed.display, query.registration_number),
        )

    return check


def offline_checker(register: str, records: list[dict]) -> Callable[[CheckQuery], RegisterResult]:
    def check(query: CheckQuery) -> RegisterResult:
        from scrapers import registers

        link = registers.manual_link(register, query.parsed.display, query.registration_number)
        if register == acc.IPT_UK:
            return acc.local_ipt_check(records, query, url=link)
        return acc.manual_result(register, query, link, f"Offline: {register} was not checked live.")

    return check


def check_therapist(
    name: str,
    registration_number: str | None = None,
    *,
    offline: bool = False,
    fetch=None,
    records: list[dict] | None = None,
    urls: dict[str, str] | None = None,
) -> CheckResult:
    """Check a named therapist on IPT UK and the core registers; see finder.accreditation.

    `fetch`, `records` and `urls` are for tests and tools: another fetcher, practitioner records
    instead of data/practitioners.json, and other base URLs for the live registers."""
    from finder.practitioners import load_practitioners

    # Validate before touching data or the network: bad input is a one-line FinderError.
    parsed = acc.validate_name(name)
    number = acc.parse_registration_number(registration_number)
    records = load_practitioners() if records is None else records
    urls = urls or {}
    probe = CheckQuery(name, parsed, number, acc.now_iso())
    links = _links(probe)
    if offline:
        checkers = [(r, offline_checker(r, records)) for r in acc.ALL_REGISTERS]
    else:
        fetch = fetch or default_fetcher()
        checkers = [
            (acc.IPT_UK, iptuk_checker(fetch, records, url=urls.get(acc.IPT_UK))),
            (acc.HCPC, hcpc_checker(fetch, url=urls.get(acc.HCPC))),
            (acc.BACP, bacp_checker(fetch, url=urls.get(acc.BACP))),
            *[(r, manual_checker(r)) for r in (acc.UKCP, acc.BABCP, acc.NCPS)],
        ]
    return acc.check_therapist(name, registration_number, checkers, links=links, checked_at=probe.checked_at)


@functools.lru_cache(maxsize=1)
def online_fallback() -> postcodes.OnlineFallback:
    """postcodes.io and Nominatim for `--online` look-ups, on the one HTTP fetcher.

    A person is waiting: no retry, a 5 s timeout. These are APIs called for one person's query,
    not pages crawled, and both publish usage policies we follow (Nominatim: at most one request
    a second, a named User-Agent, cached answers), so robots.txt (which is for crawlers; Nominatim's
    disallows them) is not consulted. Answers are kept for the life of the process.
    """
    from scrapers import nominatim, postcodes_io
    from scrapers.http import Fetcher

    def fetcher(min_interval: float) -> Fetcher:
        return Fetcher(
            min_interval=min_interval,
            retries=0,
            timeout=5.0,
            respect_robots=False,
            max_body_seconds=10.0,
        )

    postcode_fetch, place_fetch = fetcher(0.0), fetcher(1.0)

    @functools.lru_cache(maxsize=1024)
    def postcode(text: str) -> postcodes.Location | None:
        return postcodes_io.lookup(postcode_fetch, text)

    @functools.lru_cache(maxsize=1024)
    def place(text: str) -> postcodes.Location | None:
        return nominatim.lookup(place_fetch, text)

    return postcodes.OnlineFallback(postcode=postcode, place=place)
