"""NHS England's annual NHS Talking Therapies reports: which years to look for, and their files.

Each year is published on its own page, `{ANNUAL_REPORTS_URL}/2024-25`, some months after the
financial year ends (31 March); the page links the year's CSV and zip files. A year not published
yet answers 404. `parse_publication_files` is pure (page text in, file links out); `scrape(fetch,
today, known)` asks for every year that has ended since the newest one `known` and returns the
files found with report notes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from finder.errors import ParseError
from finder.schema import is_http_url
from scrapers.http import Response

ANNUAL_REPORTS_URL = (
    "https://digital.nhs.uk/data-and-information/publications/statistical/"
    "nhs-talking-therapies-for-anxiety-and-depression-annual-reports"
)


def expected_periods(today: str, known: Iterable[str]) -> list[str]:
    """Financial years (e.g. "2024-25") that have ended by `today` and are newer than all `known`."""
    day = date.fromisoformat(today)
    last_end = day.year if day.month >= 4 else day.year - 1  # a year ends on 31 March
    latest_known = max((int(p[:4]) for p in known), default=last_end - 2)
    return [f"{start}-{(start + 1) % 100:02d}" for start in range(latest_known + 1, last_end)]


def parse_publication_files(html: str, page_url: str) -> list[str]:
    """Links to CSV or zip files on an NHS England publication page (http(s) only, each once)."""
    soup = BeautifulSoup(html, "lxml")
    files: list[str] = []
    for link in soup.find_all("a", href=True):
        if not isinstance(link, Tag):
            continue
        url = urljoin(page_url, str(link["href"]))
        if is_http_url(url) and urlsplit(url).path.lower().endswith((".csv", ".zip")) and url not in files:
            files.append(url)
    return files


def scrape(fetch: Callable[..., Response], today: str, known: Iterable[str]) -> tuple[list[str], list[str]]:
    """The file links of every annual report published since the newest `known` year, and notes
    for the years not published yet. A published page that links no file means its layout
    changed: ParseError, never an empty year."""
    files: list[str] = []
    notes: list[str] = []
    for period in expected_periods(today, known):
        page = fetch(f"{ANNUAL_REPORTS_URL}/{period}")
        if page.status == 404:
            notes.append(f"{period} annual report not published yet")
            continue
        found = parse_publication_files(page.text, page.url)
        if not found:
            raise ParseError(
                f"{page.url}: the {period} publication page links no CSV or zip file; "
                "the page layout may have changed"
            )
        files += found
    return files, notes
