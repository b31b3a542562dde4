"""nhs.uk "Find an NHS talking therapies service": the keyless route to the same directory.

Which way today's page asks is not known (../shared/data/live_sources.md), so both are followed and
the one the live page answers is reported (`probe`, `which_flow`):
- the GP flow of NHS.UK's own finder (nhsuk/mental-health-service-finder, 2020): `results?type=gp&
  query=<surgery name, street or postcode>` lists GP surgeries (`li.results__item`), each with a
  "This is my GP" link to `results?type=iapt&ccgid=<the GP's CCG>&...`, which lists the services
  whose `RelatedIAPTCCGs` include that CCG: `h3.results__name` (plain text), `p.results__website a`,
  `p.results__telephone a[href^=tel:]`, `p.results__email a[href^=mailto:]` and "Refer yourself
  online" in `div.results__self__referral`. A service found this way covers that CCG (sub-ICB).
- a postcode or place flow (`results?location=<postcode or town>`), whose markup is a guess: one
  block per service, a heading with the service's name linking to its page, then its contacts.

The parser finds blocks by their headings and links, not by CSS classes alone, so a restyled page
still parses; a page that has content but no recognisable result raises ParseError, and an
explicit "no services found" page returns an empty list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from finder.errors import ParseError
from finder.schema import safe_url
from finder.textrules import mailto_address, self_referral_link, tel_href_number
from scrapers.http import FetchError

FINDER_URL = "https://www.nhs.uk/service-search/mental-health/find-an-nhs-talking-therapies-service/"
RESULTS_URL = FINDER_URL + "results"
GP_FLOW, POSTCODE_FLOW = "gp", "postcode"
NHS_HOSTS = ("www.nhs.uk", "nhs.uk")
_NO_RESULTS = re.compile(
    r"\b(?:no|0)\s+(?:talking therapies\s+)?(?:services|results)\s+(?:were\s+)?found\b"
    r"|\bwe\s+could\s*n[o']t\s+find\b|\bthere\s+are\s+no\b",
    re.I,
)
_WEBSITE_TEXT = re.compile(r"\bwebsite\b|\bvisit\b", re.I)
# The GP search's answer when no surgery matched (2020: "Sorry, we couldn't find any GP surgeries
# matching '...'").
_NO_GPS = re.compile(r"\bcould\s*n[o'’]?t\s+find\s+any\s+GP\s+surgeries\b|\bno\s+GP\s+surgeries\b", re.I)


@dataclass(frozen=True)
class NhsukService:
    name: str
    page_url: str | None  # the service's page on nhs.uk, if linked
    phone: str | None
    email: str | None
    website: str | None
    self_referral_url: str | None
    source: str
    areas_covered: tuple[str, ...] = ()  # the CCG / sub-ICB codes it was listed for (GP flow)


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def _contacts(block: Tag, base_url: str) -> dict:
    phone = email = website = referral = None
    for link in block.find_all("a", href=True):
        href = str(link["href"]).strip()
        text = " ".join(link.get_text(" ").split())
        if href.lower().startswith("tel:"):
            phone = phone or tel_href_number(href)
            continue
        if href.lower().startswith("mailto:"):
            email = email or mailto_address(href)
            continue
        absolute = safe_url(urljoin(base_url, href))
        if absolute is None:
            continue
        if referral is None and self_referral_link(text, absolute):
            referral = absolute
        elif website is None and _WEBSITE_TEXT.search(text) and urlsplit(absolute).netloc not in NHS_HOSTS:
            website = absolute
    return {"phone": phone, "email": email, "website": website, "self_referral_url": referral}


def _marked_blocks(soup: BeautifulSoup) -> list[tuple[Tag, Tag]]:
    """(name, block) pairs of the 2020 markup: `.results__item` blocks named by `.results__name`."""
    pairs = []
    for block in soup.select(".results__item"):
        name = block.select_one(".results__name")
        if name is not None and name.get_text(strip=True):
            pairs.append((name, block))
    return pairs


def _result_blocks(soup: BeautifulSoup) -> list[tuple[Tag, Tag]]:
    """(heading, block) pairs: each heading that links to a service, and the largest ancestor that
    contains no other such heading (the result's card or list item)."""
    main = soup.find("main") or soup.body or soup
    headings = [h for h in main.find_all(["h2", "h3"]) if h.find("a", href=True)]
    pairs = []
    for heading in headings:
        block = heading
        while block.parent is not None and block.parent is not main:
            others = [h for h in headings if h is not heading and block.parent in h.parents]
            if others:
                break
            block = block.parent
        pairs.append((heading, block))
    return pairs


def parse_results(html: str, base_url: str = RESULTS_URL) -> list[NhsukService]:
    """Services on a results page. Raises ParseError for a page with content but no results."""
    soup = _soup(html)
    text = " ".join(soup.get_text(" ").split())
    if not text:
        raise ParseError(f"{base_url}: empty page")
    services = []
    for heading, block in _marked_blocks(soup) or _result_blocks(soup):
        link = heading.find("a", href=True)  # the 2020 markup names a service without a link
        name = " ".join(heading.get_text(" ").split())
        page_url = safe_url(urljoin(base_url, str(link["href"]))) if link is not None else None
        contacts = _contacts(block, base_url)
        if not any(contacts.values()) and not (page_url and urlsplit(page_url).netloc in NHS_HOSTS):
            continue  # a heading that is not a service (e.g. "Other ways to get help")
        services.append(NhsukService(name=name, page_url=page_url, source=base_url, **contacts))
    if not services:
        if _NO_RESULTS.search(text):
            return []
        raise ParseError(
            f"{base_url}: no service results found on a page with content; the nhs.uk layout may have changed"
        )
    return services


def parse_service_page(html: str, url: str) -> NhsukService:
    """A service's own nhs.uk page: name from the main heading, then its contacts."""
    soup = _soup(html)
    heading = soup.find("h1")
    if heading is None or not heading.get_text(strip=True):
        raise ParseError(f"{url}: no service name (h1) on the page; the nhs.uk layout may have changed")
    main = soup.find("main") or soup.body or soup
    contacts = _contacts(main, url)
    if not any(contacts.values()):
        raise ParseError(f"{url}: no phone, email, website or referral link found on the service page")
    return NhsukService(name=" ".join(heading.get_text(" ").split()), page_url=url, source=url, **contacts)


def scrape(fetch, location: str, follow_pages: bool = True) -> list[NhsukService]:
    """Services nhs.uk lists near `location` (a postcode or town), each completed from its own
    nhs.uk page where the results page lacks a contact."""
    response = fetch(RESULTS_URL, params={"location": location})
    results = parse_results(response.text, response.url or RESULTS_URL)
    if not follow_pages:
        return results
    completed = []
    for service in results:
        missing = not (service.phone and service.self_referral_url)
        if missing and service.page_url and urlsplit(service.page_url).netloc in NHS_HOSTS:
            page = parse_service_page(fetch(service.page_url).text, service.page_url)
            service = completed_from_page(service, page)
        completed.append(service)
    return completed


def completed_from_page(listing: NhsukService, page: NhsukService) -> NhsukService:
    """A results-page listing with the contacts it lacks filled from the service's own page,
    which then becomes its source (the page was read from the listing's page_url)."""
    return replace(
        listing,
        phone=listing.phone or page.phone,
        email=listing.email or page.email,
        website=listing.website or page.website,
        self_referral_url=listing.self_referral_url or page.self_referral_url,
        source=page.source,
    )


# -- the GP flow (NHS.UK's own finder, 2020) --------------------------------------------------------


@dataclass(frozen=True)
class GpChoice:
    """A surgery on the GP search's answer and its "This is my GP" link: the services for the
    surgery's CCG (sub-ICB location)."""

    name: str
    ccg_code: str
    services_url: str


def gp_search_params(query: str) -> dict[str, str]:
    return {"type": "gp", "query": query}


def _gp_choices(soup: BeautifulSoup, base_url: str) -> list[GpChoice]:
    choices = []
    for link in soup.find_all("a", href=True):
        url = safe_url(urljoin(base_url, str(link["href"]).strip()))
        query = parse_qs(urlsplit(url).query) if url else {}
        ccg = (query.get("ccgid") or [""])[0].strip().upper()
        if url and query.get("type") == ["iapt"] and ccg:
            name = (query.get("gpname") or [""])[0].strip() or " ".join(link.get_text(" ").split())
            choices.append(GpChoice(name=name, ccg_code=ccg, services_url=url))
    return choices


def parse_gp_results(html: str, base_url: str = RESULTS_URL) -> list[GpChoice]:
    """The surgeries a GP search found; [] when it says none matched. ParseError for any other page."""
    soup = _soup(html)
    choices = _gp_choices(soup, base_url)
    if choices:
        return choices
    if _NO_GPS.search(" ".join(soup.get_text(" ").split())):
        return []
    raise ParseError(
        f"{base_url}: not a GP search answer (no surgery links with a CCG); the nhs.uk layout may have changed"
    )


def which_flow(html: str, base_url: str = RESULTS_URL) -> str | None:
    """Which search a results page answers: GP_FLOW (a list of GP surgeries, or "couldn't find any
    GP surgeries"), POSTCODE_FLOW (services, or an explicit "no services found"), or None (neither:
    an error page, a page rendered by script, a changed layout)."""
    try:
        parse_gp_results(html, base_url)
        return GP_FLOW
    except ParseError:
        pass
    try:
        parse_results(html, base_url)
        return POSTCODE_FLOW
    except ParseError:
        return None


def search_url(query: str, flow: str) -> tuple[str, dict[str, str]]:
    """The first page each flow asks for: the GP search, or the services near a postcode or place."""
    return RESULTS_URL, gp_search_params(query) if flow == GP_FLOW else {"location": query}


@dataclass(frozen=True)
class FlowProbe:
    """Which of the two searches nhs.uk answered for one query, in words for the report and for
    `doctor --live`."""

    flow: str | None  # GP_FLOW, POSTCODE_FLOW, or None when neither answered
    detail: str
    tried: tuple[str, ...] = field(default=())  # what each attempt found, in order
    # The fetch failures among the attempts: when every attempt failed so, nhs.uk could not be
    # reached (a network problem), which is not a changed page.
    errors: tuple[FetchError, ...] = field(default=())

    @property
    def unreachable(self) -> bool:
        return self.flow is None and len(self.errors) == len(self.tried)


def probe(fetch, query: str) -> FlowProbe:
    """Ask nhs.uk for `query` (a postcode) the GP way first, then by postcode or place; the first
    whose answer is recognisably that flow's page wins. Never raises for an unanswered flow."""
    tried: list[str] = []
    errors: list[FetchError] = []
    for flow in (GP_FLOW, POSTCODE_FLOW):
        url, params = search_url(query, flow)
        try:
            response = fetch(url, params=params)
        except FetchError as error:
            tried.append(f"{flow} search: {error.reason}")
            errors.append(error)
            continue
        found = which_flow(response.text, response.url or url)
        if found == flow:
            said = f"nhs.uk answered the {_FLOW_WORDS[flow]} for {query}"
            return FlowProbe(flow, said, tuple(tried), tuple(errors))
        tried.append(f"{flow} search: the page is not a {flow} search answer")
    return FlowProbe(
        None,
        "nhs.uk answered neither the GP search nor the postcode search: " + "; ".join(tried),
        tuple(tried),
        tuple(errors),
    )


_FLOW_WORDS = {
    GP_FLOW: "GP surgery search (GP first, then its CCG's services)",
    POSTCODE_FLOW: "postcode search",
}


def scrape_gp(fetch, query: str, by_ccg: dict[str, list[NhsukService]] | None = None) -> list[NhsukService]:
    """The GP flow: the surgeries matching `query`, then the services of each surgery's CCG, every
    service marked with the CCG code it was listed for. `by_ccg` keeps each CCG's services across
    searches, so a CCG is asked for once per run however many searches find its surgeries."""
    by_ccg = {} if by_ccg is None else by_ccg
    response = fetch(RESULTS_URL, params=gp_search_params(query))
    found: list[NhsukService] = []
    for choice in parse_gp_results(response.text, response.url or RESULTS_URL):
        if choice.ccg_code not in by_ccg:  # surgeries of one CCG list the same services
            page = fetch(choice.services_url)
            services = parse_results(page.text, page.url or choice.services_url)
            by_ccg[choice.ccg_code] = [replace(s, areas_covered=(choice.ccg_code,)) for s in services]
        found += by_ccg[choice.ccg_code]
    return found


def search(
    fetch, query: str, flow: str, by_ccg: dict[str, list[NhsukService]] | None = None
) -> list[NhsukService]:
    """The services one search lists, by the flow nhs.uk answered (results pages only)."""
    return scrape_gp(fetch, query, by_ccg) if flow == GP_FLOW else scrape(fetch, query, follow_pages=False)


def merged(listings: list[NhsukService]) -> list[NhsukService]:
    """One listing per service across searches (neighbouring searches overlap a lot): the first
    seen, with every CCG code any search listed it for."""
    by_key: dict[object, NhsukService] = {}
    for listing in listings:
        key = listing.page_url or (listing.name, listing.website, listing.phone)
        held = by_key.get(key)
        if held is None:
            by_key[key] = listing
        else:
            areas = tuple(dict.fromkeys((*held.areas_covered, *listing.areas_covered)))
            by_key[key] = replace(held, areas_covered=areas)
    return list(by_key.values())
