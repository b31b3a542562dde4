"""The BACP Register search: https://www.bacp.co.uk/search/Register?q=NAME, ten results a page.

Each result is an article whose title is the member's name (a second title line gives the place),
with a status line for the membership category, kept as the Register words it ("Registered Member
MBACP", "Registered Member MBACP (Accred)", "Registered Member MBACP (Snr Accred)"), and the
"Membership number: 123456" label. The parser finds results by
those meanings (articles, headings, the membership-number label), not by class names. Further
pages are asked for with `skip=10`, `skip=20`... The Register lists registered members only, so
being listed means currently registered; members who left are not shown at all.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

from finder.accreditation import RegisterEntry
from finder.errors import ParseError

SEARCH_URL = "https://www.bacp.co.uk/search/Register"
PAGE_SIZE = 10
MAX_PAGES = 5  # 50 results: a name with more entries than that is ambiguous anyway
NUMBER_RE = re.compile(r"Membership number:?\s*(\d{3,9})", re.IGNORECASE)
# The membership category, worded as the Register shows it: "Registered Member MBACP",
# "Registered Member MBACP (Accred)", "Registered Member MBACP (Snr Accred)".
LEVEL_RE = re.compile(
    r"(?:Registered\s+Member\s+)?MBACP(?:\s*\((?:Snr|Senior)\s*Accred\)|\s*\(Accred\))?", re.IGNORECASE
)
NO_RESULTS_RE = re.compile(
    r"\b(no results|0 results|no members|did not return any|didn't return any)\b", re.IGNORECASE
)
TOTAL_RE = re.compile(r"\bof\s+(\d{1,6})\s+results?\b|\b(\d{1,6})\s+results?\s+found\b", re.IGNORECASE)
REGISTER_STATUS = "Registered Member"  # what being listed on the BACP Register means


def _result_blocks(soup: BeautifulSoup) -> list[Tag]:
    blocks = [a for a in soup.find_all("article") if NUMBER_RE.search(_all_text(a))]
    if blocks:
        return blocks
    # No articles: climb from each membership-number label to the smallest block holding a heading.
    found: list[Tag] = []
    labelled = [t for t in soup.select("[aria-label]") if NUMBER_RE.search(str(t["aria-label"]))]
    for label in [*soup.find_all(string=NUMBER_RE), *labelled]:
        node = label if isinstance(label, Tag) else label.parent
        while node is not None and not node.find(["h2", "h3", "h4", "header"]):
            node = node.parent
        if node is not None and node not in found:
            found.append(node)
    return found


def _all_text(block: Tag) -> str:
    labels = " ".join(str(t["aria-label"]) for t in block.select("[aria-label]"))
    return " ".join((block.get_text(" ") + " " + labels).split())


def _titles(block: Tag) -> list[str]:
    header = block.find("header") or block
    titles = [" ".join(h.get_text(" ").split()) for h in header.find_all(["h2", "h3", "h4"])]
    if not titles:
        titles = [
            " ".join(t.get_text(" ").split())
            for t in header.find_all(class_=re.compile("title", re.IGNORECASE))
        ]
    return [t for t in titles if t]


def _category(block: Tag) -> str | None:
    """The status line's label (`div.search-result__status[aria-label]`), where the Register
    words the membership category; None when the block has none."""
    for tag in block.select("[aria-label]"):
        label = " ".join(str(tag["aria-label"]).split())
        if LEVEL_RE.search(label) and not NUMBER_RE.search(label):
            return label
    return None


def parse_results(html: str) -> list[RegisterEntry]:
    """Entries on one results page; [] when the page says there are no results. Raises ParseError
    for a non-empty page that shows neither."""
    if not html or not html.strip():
        raise ParseError("the BACP Register returned an empty page")
    soup = BeautifulSoup(html, "lxml")
    entries = []
    for block in _result_blocks(soup):
        titles = _titles(block)
        text = _all_text(block)
        number = NUMBER_RE.search(text)
        if not titles or not number:
            continue
        level = LEVEL_RE.search(_category(block) or text)
        link = block.find("a", href=True)
        href = str(link["href"]) if link is not None else ""
        if href.startswith("/"):
            href = "https://www.bacp.co.uk" + href
        entries.append(
            RegisterEntry(
                name=titles[0],
                registration_number=number[1],
                status_text=REGISTER_STATUS,
                level=" ".join(level[0].split()) if level else None,
                location=titles[1] if len(titles) > 1 else None,
                url=href if href.startswith("https://") else None,
            )
        )
    if entries:
        return entries
    total = total_results(html)
    if NO_RESULTS_RE.search(soup.get_text(" ")) and not total:
        return []  # a page that counts results but shows none we can read has changed, below
    raise ParseError(
        "the BACP Register search page has changed: no results with a name and a membership number, "
        "and no 'no results' message"
    )


def total_results(html: str) -> int | None:
    m = TOTAL_RE.search(BeautifulSoup(html, "lxml").get_text(" "))
    return int(m[1] or m[2]) if m else None


def search_link(query: str, url: str = SEARCH_URL) -> str:
    from urllib.parse import urlencode

    return f"{url}?{urlencode({'q': query})}"


class IncompleteResults(ParseError):
    """The search has more entries than were read (more than `max_pages` pages, or the site served
    the same page again for `skip=`). `entries` holds what was read: it is not the whole answer, so
    it can never show that someone is absent, nor that a name is unique."""

    def __init__(self, entries: list[RegisterEntry], total: int | None):
        more = f"{total} results" if total else "more results"
        super().__init__(f"the BACP Register has {more} for this search; only {len(entries)} were read")
        self.entries = entries
        self.total = total


def search(fetch, query: str, *, url: str = SEARCH_URL, max_pages: int = MAX_PAGES) -> list[RegisterEntry]:
    """Every entry for `query`, following `skip=` pages while they are full (FetchError and
    ParseError propagate: a failed page never shortens the list silently). Raises
    IncompleteResults when the results run past `max_pages` pages."""
    entries: list[RegisterEntry] = []
    seen: set[str | None] = set()
    total = None
    for page in range(max_pages):
        params = {"q": query} if page == 0 else {"q": query, "skip": str(page * PAGE_SIZE)}
        response = fetch(url, params=params)
        if response.status == 404:
            raise ParseError("the BACP Register search page is missing (HTTP 404): the site has changed")
        found = parse_results(response.text)
        new = [e for e in found if e.registration_number not in seen]
        if found and not new:
            raise IncompleteResults(entries, total)  # `skip=` ignored: the same page came back
        seen.update(e.registration_number for e in new)
        entries.extend(new)
        total = total_results(response.text) or total
        if len(found) < PAGE_SIZE or (total is not None and len(entries) >= total):
            return entries
    raise IncompleteResults(entries, total)
