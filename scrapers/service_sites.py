"""Each NHS Talking Therapies service's own website: the self-referral form, phone number, minimum
age, GP catchment and whether IPT (not DIT) is offered.

Pages are read for their links and visible text only (never stored); the rules live in
`finder.textrules`. A page that has markup but no readable text or links (a JavaScript-only shell,
an error page) raises ParseError rather than looking like "nothing found".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

from finder.errors import ParseError
from finder.schema import safe_url
from finder.textrules import (
    catchment,
    introduces_other_line,
    mailto_address,
    minimum_age,
    self_referral_link,
    service_phones,
    tel_href_number,
    therapy_mentions,
)

MIN_TEXT_CHARS = 80  # less readable text than this on a whole page means the layout changed
_REFERRAL_PAGE_HINT = re.compile(r"\brefer|\breferral|\bget\s+help\b|\baccess\s+(?:our\s+)?service", re.I)
_PROFESSIONAL_TEXT = re.compile(r"\b(?:GPs?|professionals?|clinicians?|referrers?)\b", re.I)
MAX_FOLLOW = 3


@dataclass(frozen=True)
class SitePage:
    url: str
    self_referral_urls: tuple[str, ...]
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    min_age: int | None
    min_age_text: str | None
    catchment: str | None
    offers_ipt: bool
    ipt_phrase: str | None
    offers_dit: bool
    dit_phrase: str | None
    follow_links: tuple[str, ...] = ()
    platform_urls: tuple[str, ...] = ()


@dataclass
class SiteFindings:
    """What a service's website says, with the page that says each thing."""

    start_url: str
    self_referral_url: str | None = None
    phone: str | None = None
    email: str | None = None
    min_age: int | None = None
    min_age_text: str | None = None
    catchment: str | None = None
    offers_ipt: bool | None = None  # None: the site says nothing about IPT (not "no")
    ipt_evidence: str | None = None
    offers_dit: bool | None = None
    dit_evidence: str | None = None
    evidence: dict[str, str] = field(default_factory=dict)  # fact -> page URL
    pages: list[str] = field(default_factory=list)


def parse_service_page(html: str, url: str) -> SitePage:
    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    text = " ".join(soup.get_text(" ").split())
    links = soup.find_all("a", href=True)
    if len(text) < MIN_TEXT_CHARS and not links:
        raise ParseError(
            f"{url}: no readable text or links on the page (JavaScript-only or a changed layout)"
        )
    referrals: list[str] = []
    platform_first: list[str] = []
    phones: list[str] = []
    emails: list[str] = []
    follow: list[str] = []
    host = urlsplit(url).netloc
    for link in links:
        href = str(link["href"]).strip()
        link_text = " ".join(link.get_text(" ").split())
        number = tel_href_number(href)
        if number:
            # "If you are in crisis, call our Crisis Line on <a href=tel:...>": not this service.
            before = " ".join(reversed(link.find_all_previous(string=True, limit=8)))
            if not introduces_other_line(" ".join(f"{before} {link_text}".split())):
                phones.append(number)
            continue
        address = mailto_address(href)
        if address:
            emails.append(address)
            continue
        absolute = safe_url(urljoin(url, href))
        if absolute is None:
            continue
        kind = self_referral_link(link_text, absolute)
        if kind == "platform":
            platform_first.append(absolute)
        elif kind == "self_referral":
            referrals.append(absolute)
            if urlsplit(absolute).netloc == host:
                follow.append(absolute)  # a "refer yourself" page may hold the form itself
        elif (
            urlsplit(absolute).netloc == host
            and _REFERRAL_PAGE_HINT.search(link_text)
            and not _PROFESSIONAL_TEXT.search(link_text)
        ):
            follow.append(absolute)
    phones += service_phones(text)
    age = minimum_age(text)
    mentions = therapy_mentions(text)
    return SitePage(
        url=url,
        # A known referral platform is the form itself; a "refer yourself" page may only lead to it.
        self_referral_urls=tuple(dict.fromkeys(platform_first + referrals)),
        phones=tuple(dict.fromkeys(phones)),
        emails=tuple(dict.fromkeys(emails)),
        min_age=age.years if age else None,
        min_age_text=age.label() if age else None,
        catchment=catchment(text),
        offers_ipt=mentions.ipt,
        ipt_phrase=mentions.ipt_phrase,
        offers_dit=mentions.dit,
        dit_phrase=mentions.dit_phrase,
        follow_links=tuple(u for u in dict.fromkeys(follow) if u != url),
        platform_urls=tuple(dict.fromkeys(platform_first)),
    )


def _merge(findings: SiteFindings, page: SitePage) -> None:
    def take(attr: str, value, evidence_key: str | None = None) -> None:
        if value is not None and getattr(findings, attr) is None:
            setattr(findings, attr, value)
            findings.evidence[evidence_key or attr] = page.url

    if (
        page.platform_urls
        and findings.self_referral_url not in page.platform_urls
        and not findings.evidence.get("self_referral_platform")
    ):
        # The referral platform's form beats a "refer yourself" page that only leads to it.
        findings.self_referral_url = page.platform_urls[0]
        findings.evidence["self_referral_url"] = page.url
        findings.evidence["self_referral_platform"] = page.url
    take("self_referral_url", page.self_referral_urls[0] if page.self_referral_urls else None)
    take("phone", page.phones[0] if page.phones else None)
    take("email", page.emails[0] if page.emails else None)
    if page.min_age is not None and findings.min_age is None:
        findings.min_age, findings.min_age_text = page.min_age, page.min_age_text
        findings.evidence["min_age"] = page.url
    take("catchment", page.catchment)
    if page.offers_ipt and not findings.offers_ipt:
        findings.offers_ipt = True
        findings.ipt_evidence = f'{page.url}: "{page.ipt_phrase}"'
        findings.evidence["offers_ipt"] = page.url
    if page.offers_dit and not findings.offers_dit:
        findings.offers_dit = True
        findings.dit_evidence = f'{page.url}: "{page.dit_phrase}"'
        findings.evidence["offers_dit"] = page.url
    findings.pages.append(page.url)


def scrape(fetch, url: str, follow: int = MAX_FOLLOW) -> SiteFindings:
    """Read a service's start page and up to `follow` same-site pages whose links say refer /
    referral / get help, until a self-referral form is found."""
    start = safe_url(url)
    if start is None:
        raise ParseError(f"{url!r} is not an http(s) address")
    findings = SiteFindings(start_url=start)
    page = parse_service_page(fetch(start).text, start)
    _merge(findings, page)
    for next_url in page.follow_links[:follow]:
        if findings.evidence.get("self_referral_platform") and findings.phone:
            break
        if next_url in findings.pages:
            continue
        _merge(findings, parse_service_page(fetch(next_url).text, next_url))
    return findings
