"""`python -m finder doctor [--live] [--json]`: is this copy fit to serve?

The checks of data/ live in finder.doctor; the live probes are here, in the composition root,
because each reuses its source's own scraper. One row per live source in LIVE_PROBES: a name an
operator knows and one small function that makes one polite request (through scrapers.http:
robots.txt, user agent, timeouts) for one known entry and parses it with the source's own parser.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from finder.cli.commands import terminal_line

HELP = (
    "Check that data/ is the release its manifest describes (checksums, record counts, schema "
    "version, age of each source); --live also checks each live source still answers and parses."
)


@dataclass(frozen=True)
class Probe:
    name: str  # the source, as an operator knows it
    run: Callable[..., str]  # run(fetch) -> what was found; raises when the source broke


def _nhs_directory(fetch) -> str:
    from finder.settings import settings
    from scrapers import nhs_api

    if not settings().nhs_api_key:
        return "not checked: NHS_API_KEY is not set (the refresh then reads nhs.uk pages)"
    headers = {nhs_api.KEY_HEADER: nhs_api.api_key(), "Accept": "application/json"}
    url = nhs_api.api_url()
    page = nhs_api.parse_page(fetch(url, params=nhs_api.search_params(None, 1), headers=headers).text, url)
    return _found(list(page.services), f"of {page.total} services read" if page.total is not None else "")


def _nhsuk(fetch) -> str:
    from scrapers import nhsuk

    # nhs.uk answers either a GP-surgery search or a postcode search: its own probe says which.
    answer = nhsuk.probe(fetch, "LS6 3QG")
    if answer.unreachable:
        raise answer.errors[-1]
    if answer.flow is None:
        raise LookupError(answer.detail)
    return answer.detail


def _ods(fetch) -> str:
    from scrapers import ods

    # RY6: Leeds Community Healthcare NHS Trust, which runs Leeds' Talking Therapies service.
    organisation = ods.parse_organisation(fetch(ods.ORD_URL.format(code="RY6")).text)
    return _found([organisation] if organisation else [], "RY6 read")


def _nhs_statistics(fetch) -> str:
    from scrapers import nhs_stats

    page = f"{nhs_stats.ANNUAL_REPORTS_URL}/2024-25"
    return _found(nhs_stats.parse_publication_files(fetch(page).text, page), "files on the 2024-25 page")


def _iptuk(fetch) -> str:
    from scrapers import iptuk

    return _found(iptuk.scrape(fetch), "listings in the directory")


def _hcpc(fetch) -> str:
    from finder.accreditation import parse_registration_number
    from scrapers import hcpc

    # No registrant's number is kept here: any well-formed number's page must still parse
    # (found or not found); a changed page raises.
    number = parse_registration_number("PYL000001")
    assert number is not None
    hcpc.lookup(fetch, number)
    return "the register's detail page still parses"


def _bacp(fetch) -> str:
    from scrapers import bacp

    return _found(bacp.search(fetch, "Smith", max_pages=1), 'entries for "Smith"')


LIVE_PROBES = (
    Probe("NHS directory (Service Search API)", _nhs_directory),
    Probe("nhs.uk Talking Therapies finder", _nhsuk),
    Probe("NHS Organisation Data Service", _ods),
    Probe("NHS England statistics", _nhs_statistics),
    Probe("IPT UK directory", _iptuk),
    Probe("HCPC register", _hcpc),
    Probe("BACP register", _bacp),
)


def _found(entries: list, what: str) -> str:
    if not entries:
        raise LookupError("answered, but no entry parsed: the page may have changed")
    return f"{len(entries)} {what}".strip() if what else f"{len(entries)} parsed"


def live_fetcher():
    """One polite request per source: no retries beyond one, nothing written to disk."""
    from scrapers.http import Fetcher

    return Fetcher(
        cache_path=Path(":memory:"), retries=1, timeout=15.0, max_retry_wait=10.0, max_body_seconds=30.0
    )


def live_checks(fetch, probes=LIVE_PROBES) -> list:
    from finder.doctor import Check
    from finder.errors import ParseError
    from scrapers.http import FetchError

    checks = []
    for probe in probes:
        name = f"live {probe.name}"
        try:
            checks.append(Check(name, True, probe.run(fetch)))
        except FetchError as error:
            checks.append(Check(name, False, f"unreachable: {error.reason}"))
        except (ParseError, LookupError, ValueError, KeyError) as error:
            checks.append(Check(name, False, f"no longer parses: {_first_line(error)}"))
        except Exception as error:  # a probe that no longer fits its scraper: named, not a traceback
            checks.append(Check(name, False, f"failed: {type(error).__name__}: {_first_line(error)}"))
    return checks


def _first_line(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0][:200]


def add_arguments(parser):
    parser.add_argument(
        "--live", action="store_true", help="also make one polite request to each live source"
    )
    parser.add_argument("--json", action="store_true", help='print {"ok": ..., "checks": [...]} as JSON')


def run(args) -> int:
    from finder import doctor

    checks = doctor.data_checks()
    if args.live:
        checks += live_checks(live_fetcher())
    report = doctor.report(checks)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        for check in checks:
            print(terminal_line(check.line()))
        print("fit to serve" if report["ok"] else "NOT fit to serve: see the FAIL lines")
    return 0 if report["ok"] else 1
