"""nhs.uk "Find an NHS talking therapies service": the keyless route to the same directory.

The results page lists one block per service: a heading with the service's name (linking to its
page), then its contacts: phone (`tel:`), email (`mailto:`), website and a "Refer yourself online"
link. The parser finds blocks by their headings and links, not by CSS classes, so a restyled page
still parses; a page that has content but no recognisable result raises ParseError, and an
explicit "no services found" page returns an empty list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from finder.errors import ParseError
from finder.schema import safe_url
from finder.textrules import mailto_address, self_referral_link, tel_href_number

RESULTS_URL = "https://www.nhs.uk/service-search/mental-health/find-an-nhs-talking-therapies-service/results"
NHS_HOSTS = ("www.nhs.uk", "nhs.uk")
_NO_RESULTS = re.compile(
    r"\b(?:no|0)\s+(?:talking therapies\s+)?(?:services|results)\s+(?:were\s+)?found\b"
    r"|\bwe\s+could\s*n[o']t\s+find\b|\bthere\s+are\s+no\b",
    re.I,
)
_WEBSITE_TEXT = re.compile(r"\bwebsite\b|\bvisit\b", re.I)


@dataclass(frozen=True)
class NhsukService:
    name: str
    page_url: str | None  # the service's page on nhs.uk, if linked
    phone: str | None
    email: str | None
    website: str | None
    self_referral_url: str | None
    source: str


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
    for heading, block in _result_blocks(soup):
        link = heading.find("a", href=True)
        if link is None:  # _result_blocks keeps only headings with a link
            continue
        name = " ".join(heading.get_text(" ").split())
        page_url = safe_url(urljoin(base_url, str(link["href"])))
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
