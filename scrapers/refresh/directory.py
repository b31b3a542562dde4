"""The NHS service directory, read from the Service Search API (version 3, with NHS_API_KEY) or,
without a key, from nhs.uk's "Find an NHS talking therapies service" pages: each listing matched
to a provider, its contacts into service_links, and the areas it covers (sub-ICB codes, mapped to
today's) into service_areas as the strongest basis, `nhs_directory`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from finder.errors import ParseError
from finder.schema import LINKS_FILE, PROVIDERS_FILE, SERVICE_AREAS_FILE, SERVICES_FILE
from finder.settings import NHS_API_KEY_ENV, settings
from scrapers.http import FetchError
from scrapers.refresh.limits import CountingFetch
from scrapers.refresh.source import Candidate, read_document
from scrapers.refresh.staging import (
    StagedNhsSource,
    host_of,
    name_key,
    publish_areas,
    publish_links,
    read_enough,
    records_of,
)


def directory_areas(listings, codes: Mapping[int, str], stage: Path, districts_of_sub_icb) -> list[str]:
    """Put the directory's areas (`RelatedIAPTCCGs`, sub-ICB/CCG codes) into the staged
    service_areas table as basis `nhs_directory` and re-derive the directory; returns report
    lines: one per service whose areas changed, and the codes the lookup did not know.
    `codes` maps a listing's index to the provider it was matched to."""
    from finder.areas_served import area_change_lines, directory_area_rows, merge_directory_areas

    held = read_document(SERVICE_AREAS_FILE, stage).get("records", [])
    names = {
        p["org_code"]: p["org_name"] for p in json.loads((stage / PROVIDERS_FILE).read_text())["records"]
    }
    found, unknown = [], set()
    for index, code in codes.items():
        listing = listings[index]
        if not getattr(listing, "areas_covered", ()):
            continue
        rows, missing = directory_area_rows(
            code, names.get(code, code), listing.areas_covered, districts_of_sub_icb, source=listing.source
        )
        found += rows
        unknown.update(missing)
    if not found:
        return []
    before = records_of(stage / SERVICES_FILE)
    merged = merge_directory_areas(held, found)
    publish_areas(merged, stage)
    lines = [f"areas from the NHS directory for {len({r['org_code'] for r in found})} services"]
    lines += [f"areas: {line}" for line in area_change_lines(before, records_of(stage / SERVICES_FILE))]
    if unknown:
        lines.append(
            f"{_codes(len(unknown), 'sub-ICB code')} not in the area lookup: {', '.join(sorted(unknown))}"
        )
    return lines


def todays_area_codes(listings: Sequence[Any], current_sub_icbs) -> tuple[list[Any], list[str]]:
    """The listings with their area codes as today's sub-ICB codes (`current_sub_icbs(code)`, e.g.
    finder.areas.current_sub_icbs), and report lines: how many retired codes were mapped, and
    which codes could not be (counted and named; they cover no area until the tables know them)."""
    mapped: dict[str, tuple[str, ...]] = {}
    unmapped: set[str] = set()
    result = []
    for listing in listings:
        codes: list[str] = []
        for code in listing.areas_covered:
            today = tuple(current_sub_icbs(code))
            if not today:
                unmapped.add(code)
            elif today != (code,):
                mapped[code] = today
            codes += today
        result.append(replace(listing, areas_covered=tuple(dict.fromkeys(codes))))
    lines = []
    if mapped:
        pairs = ", ".join(f"{old} -> {'/'.join(new)}" for old, new in sorted(mapped.items()))
        lines.append(f"{_codes(len(mapped), 'older area code')} mapped to today's sub-ICB codes: {pairs}")
    if unmapped:
        lines.append(
            f"{_codes(len(unmapped), 'area code')} the area tables cannot map to a sub-ICB (old CCG codes "
            f"without a succession there; those areas are not counted): {', '.join(sorted(unmapped))}"
        )
    return result, lines


def _codes(count: int, what: str) -> str:
    return f"{count} {what}{'' if count == 1 else 's'}"


def listing_counts(listings: Sequence[Any]) -> dict[str, int]:
    """What the directory listed, counted for the report."""
    return {
        "records": len(listings),
        "self_referral_links": sum(1 for x in listings if x.self_referral_url),
        "phones": sum(1 for x in listings if x.phone),
        "with_areas": sum(1 for x in listings if x.areas_covered),
    }


class NhsDirectorySource(StagedNhsSource):
    """The NHS service directory from the Service Search API (version 3), with NHS_API_KEY.

    With `districts_of_sub_icb` (sub-ICB ODS code -> (district code, name, the district's
    sub-ICBs), e.g. `districts_of_sub_icb` below) the areas each listing covers become the services'
    strongest area basis (`nhs_directory`) and the report lists every change of area; without it
    the areas are left as they are. `current_sub_icbs` maps the directory's codes to today's
    sub-ICB codes first (default: taken as they are)."""

    name = "nhs"
    description = "NHS Service Search API version 3 (needs NHS_API_KEY; without it the nhsuk source runs)"
    requires = LINKS_FILE

    def __init__(self, districts_of_sub_icb=None, current_sub_icbs=None):
        self.districts_of_sub_icb = districts_of_sub_icb
        self.current_sub_icbs = current_sub_icbs
        self.counts: dict[str, int] | None = None  # what the last stage() listed

    def skip_reason(self) -> str | None:
        if not settings().nhs_api_key:
            from scrapers import nhs_api

            return f"no {NHS_API_KEY_ENV}: {nhs_api.KEY_HELP}; the keyless nhs.uk route (source nhsuk) runs instead"
        return super().skip_reason()

    def listings(self, fetch: CountingFetch, providers: list[dict]) -> tuple[list[Any], list[str]]:
        from scrapers import nhs_api

        return nhs_api.scrape(fetch), [
            f"read from the NHS Service Search API version 3 ({nhs_api.api_url()})"
        ]

    def fetch(self, fetch: CountingFetch, today: str) -> Candidate:
        self.counts = None
        candidate = super().fetch(fetch, today)
        return replace(candidate, found=self.counts)

    def stage(self, fetch: CountingFetch, today: str, stage: Path) -> list[str]:
        providers = json.loads((stage / PROVIDERS_FILE).read_text(encoding="utf-8"))["records"]
        links = json.loads((stage / LINKS_FILE).read_text(encoding="utf-8"))["records"]
        listings, notes = self.listings(fetch, providers)
        if self.current_sub_icbs is not None:
            listings, area_notes = todays_area_codes(listings, self.current_sub_icbs)
            notes += area_notes
        self.counts = listing_counts(listings)
        by_code = {r["org_code"]: dict(r) for r in links}
        codes: dict[int, str] = {}
        for index, listing in enumerate(listings):
            code = self._match(listing, providers, by_code)
            if code is not None:
                codes[index] = code
                _take_contacts(by_code.setdefault(code, {"org_code": code, "evidence_urls": []}), listing)
        if listings and not codes:
            raise ParseError(f"none of the {len(listings)} directory listings matched a known provider")
        notes.append(f"{len(codes)} of {len(listings)} listings matched a provider")
        publish_links(sorted(by_code.values(), key=lambda r: r["org_code"]), stage)
        if self.districts_of_sub_icb is not None:
            notes += directory_areas(listings, codes, stage, self.districts_of_sub_icb)
        return notes

    @staticmethod
    def _match(listing, providers, links_by_code) -> str | None:
        """The active provider a listing belongs to: by ODS code, else by a website host or a name
        that only one provider has. Several services of one trust share a site (e.g.
        talkingtherapies.cnwl.nhs.uk), so a shared host is settled by the name or not at all:
        a listing that cannot be told apart is attributed to no one."""
        codes = {p["org_code"] for p in providers if p.get("status") == "Active"}
        code = getattr(listing, "code", None)
        if code in codes:
            return code
        host = host_of(listing.website)
        key = name_key(listing.name)
        by_host = {
            row["org_code"]
            for row in links_by_code.values()
            if row["org_code"] in codes and host and host_of(row.get("website")) == host
        }
        if len(by_host) == 1:
            return by_host.pop()
        by_name = {
            row["org_code"]
            for row in links_by_code.values()
            if row["org_code"] in codes
            and key
            and key in (name_key(row.get("service_name")), name_key(row.get("org_name")))
        } | {
            p["org_code"]
            for p in providers
            if p["org_code"] in codes and key and key == name_key(p.get("org_name"))
        }
        if by_host:
            by_name &= by_host
        return by_name.pop() if len(by_name) == 1 else None


def _take_contacts(row: dict, listing: Any) -> None:
    """A listing's contacts into its provider's service_links row (a phone already held as a
    self-referral phone is not repeated); its source joins the evidence."""
    if listing.website:
        row["website"] = listing.website
    if listing.self_referral_url:
        row["self_referral_url"] = listing.self_referral_url
    if listing.phone and listing.phone not in (row.get("self_referral_phones") or []):
        row["self_referral_phone_text"] = listing.phone
    if listing.source and listing.source not in row.setdefault("evidence_urls", []):
        row["evidence_urls"] = [*row["evidence_urls"], listing.source]


class NhsukDirectorySource(NhsDirectorySource):
    """The same directory read from nhs.uk's "Find an NHS talking therapies service" pages, with no
    key: the route the refresh takes when NHS_API_KEY is not set."""

    name = "nhsuk"
    description = "nhs.uk Find an NHS talking therapies service pages (keyless; when NHS_API_KEY is not set)"

    def skip_reason(self) -> str | None:
        if settings().nhs_api_key:
            return f"{NHS_API_KEY_ENV} is set: the Service Search API (source nhs) is read instead"
        return StagedNhsSource.skip_reason(self)

    def listings(self, fetch: CountingFetch, providers: list[dict]) -> tuple[list[Any], list[str]]:
        """Search nhs.uk around each active provider's headquarters postcode, by whichever flow
        (GP surgery first, or postcode) the page answers."""
        from scrapers import nhsuk

        locations = sorted(
            {p["postcode"] for p in providers if p.get("status") == "Active" and p.get("postcode")}
        )
        if not locations:
            return [], ["no active provider postcode to search nhs.uk around"]
        probe = nhsuk.probe(fetch, locations[0])
        if probe.unreachable:
            raise probe.errors[0]  # a network problem, reported as a fetch failure
        if probe.flow is None:
            raise ParseError(probe.detail)
        found: list[nhsuk.NhsukService] = []
        failures: list[FetchError | ParseError] = []
        by_ccg: dict[str, list[nhsuk.NhsukService]] = {}
        for location in locations:
            try:
                found += nhsuk.search(fetch, location, probe.flow, by_ccg)
            except (FetchError, ParseError) as error:
                failures.append(error)
        read_enough(len(locations) - len(failures), failures, "nhs.uk searches")
        listings, page_failures = _completed_from_pages(fetch, nhsuk.merged(found))
        notes = [f"read from nhs.uk search pages (no {NHS_API_KEY_ENV}): {probe.detail}"]
        if failures:
            notes.append(f"{len(failures)} of {len(locations)} nhs.uk searches failed")
        if page_failures:
            notes.append(
                f"{page_failures} nhs.uk service pages could not be read (results-page details used)"
            )
        return listings, notes


def _completed_from_pages(fetch: CountingFetch, listings: list[Any]) -> tuple[list[Any], int]:
    """Each listing lacking a phone or a self-referral link completed from its own nhs.uk page,
    read once however many searches listed it; and how many pages could not be read."""
    from scrapers import nhsuk

    completed, failed = [], 0
    for listing in listings:
        missing = not (listing.phone and listing.self_referral_url)
        if missing and listing.page_url and urlsplit(listing.page_url).netloc in nhsuk.NHS_HOSTS:
            try:
                page = nhsuk.parse_service_page(fetch(listing.page_url).text, listing.page_url)
            except (FetchError, ParseError):
                failed += 1
            else:
                listing = nhsuk.completed_from_page(listing, page)
        completed.append(listing)
    return completed, failed


def districts_of_sub_icb(sub_icb_code: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """The districts of a sub-ICB location (the directory's `RelatedIAPTCCGs` codes are sub-ICB,
    formerly CCG, codes), each as (district code, name, every sub-ICB the district lies in), from
    data/'s area tables."""
    from finder import areas

    loaded = areas.tables()
    return [
        (
            area.district_code,
            area.district_name,
            loaded.sub_icbs_of_district(area.district_code) if loaded else (),
        )
        for area in areas.districts_of_sub_icb(sub_icb_code)
    ]


def current_sub_icbs(code: str) -> tuple[str, ...]:
    """Today's sub-ICB codes for a code the directory lists, from data/'s area tables."""
    from finder import areas

    return areas.current_sub_icbs(code)
