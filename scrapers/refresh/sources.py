"""The real sources `python -m finder refresh` knows, each an adapter around its scraper.

Order matters (`default_sources`): ODS first, the directory is built on its organisations.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from finder import store
from finder.changes import ChangeSet
from finder.errors import FinderError, ParseError, SourceFormatError
from finder.schema import (
    LINKS_FILE,
    MANIFEST_FILE,
    OUTCOMES_FILE,
    POSTCODE_FILES,
    POSTCODES_FILE,
    PRACTITIONERS_FILE,
    PROVIDERS_FILE,
    SERVICE_AREAS_FILE,
    SERVICES_FILE,
    is_http_url,
)
from finder.settings import NHS_API_KEY_ENV, POSTCODES_SOURCE_ENV, settings
from scrapers.http import FetchError
from scrapers.refresh.runner import (
    Candidate,
    CountingFetch,
    RecordFileSource,
    Source,
    ValidationFailed,
    read_document,
    why_failed,
)
from scrapers.refresh.staging import (
    StagedNhsSource,
    changed_files,
    copy_into,
    host_of,
    keep_location_dates,
    name_key,
    publish_areas,
    publish_links,
    publish_providers,
    read_enough,
    records_of,
)


class OdsSource(StagedNhsSource):
    """Status, dates and headquarters address of every provider from the ODS ORD API (no key)."""

    name = "ods"
    description = "NHS Organisation Data Service (ORD API): status, dates, headquarters postcode"
    rechecks_ods_facts = True

    def stage(self, fetch: CountingFetch, today: str, stage: Path) -> list[str]:
        from scrapers import ods

        providers = json.loads((stage / PROVIDERS_FILE).read_text(encoding="utf-8"))["records"]
        updated, failures, notes, done, rechecked = [], [], [], 0, set()
        for row in providers:
            try:
                found = ods.scrape(fetch, [row["org_code"]])[row["org_code"]]
            except (FetchError, ParseError) as error:
                failures.append(error)
                updated.append(row)  # not re-checked: as it was
                continue
            if found is None:
                # A code ODS no longer knows is kept as it was and reported; many of them at once
                # means the API moved, not that the NHS closed its services.
                failures.append(
                    FetchError(ods.ORD_URL.format(code=row["org_code"]), "ODS does not know this code")
                )
                notes.append(f"{row['org_code']}: ODS does not know this code any more (kept as it was)")
                updated.append(row)
                continue
            done += 1
            rechecked.add(row["org_code"])
            fresh = dict(row, status=found.status, end_date=found.end_date or None)
            if found.start_date:
                fresh["start_date"] = found.start_date
            if found.postcode:
                fresh["postcode"] = " ".join(found.postcode.upper().split())
            # ODS writes names and towns in capitals: only a real change (not case) replaces ours.
            for key, value in (("org_name", found.name), ("town", found.town)):
                if value and value.casefold() != (row.get(key) or "").casefold():
                    fresh[key] = value
            updated.append(fresh)
        read_enough(done, failures, "ODS organisations")
        if failures:
            notes.append(f"{len(failures)} organisations could not be re-checked (kept as they were)")
        publish_providers(updated, stage)
        if failures:
            keep_location_dates(stage, rechecked)
        return notes


class ServiceSitesSource(StagedNhsSource):
    """Each service's own website: self-referral link, phone, minimum age, catchment, IPT mention."""

    name = "service-sites"
    description = "services' own websites (self-referral link, phone, age, catchment, IPT)"
    requires = LINKS_FILE

    def stage(self, fetch: CountingFetch, today: str, stage: Path) -> list[str]:
        from scrapers import service_sites

        links = json.loads((stage / LINKS_FILE).read_text(encoding="utf-8"))["records"]
        updated, failures, notes, done = [], [], [], 0
        for row in links:
            if not row.get("website"):
                updated.append(row)
                continue
            try:
                found = service_sites.scrape(fetch, row["website"])
            except (FetchError, ParseError) as error:
                failures.append(error)
                updated.append(row)
                continue
            done += 1
            fresh = dict(row)
            # A fact the site no longer shows is kept (a restyled page is not proof it went away);
            # a fact it shows differently replaces ours and appears in the change report.
            if found.self_referral_url:
                fresh["self_referral_url"] = found.self_referral_url
            if found.phone and found.phone not in (row.get("self_referral_phones") or []):
                fresh["self_referral_phone_text"] = found.phone
            if found.min_age is not None:
                fresh["min_age"] = found.min_age
            if found.catchment:
                fresh["catchment"] = found.catchment
            if found.offers_ipt is not None:
                fresh["offers_ipt"] = found.offers_ipt
            evidence = list(row.get("evidence_urls") or [])
            evidence += [u for u in dict.fromkeys(found.evidence.values()) if u not in evidence]
            fresh["evidence_urls"] = evidence
            updated.append(fresh)
        read_enough(done, failures, "service websites")
        if failures:
            notes.append(
                f"{len(failures)} service websites could not be read (their links kept as they were): "
                + "; ".join(why_failed(f) for f in failures[:3])
            )
        publish_links(updated, stage)
        return notes


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

    With `districts_of_sub_icb` (sub-ICB ODS code -> (district code, name) pairs, e.g.
    finder.areas.districts_of_sub_icb) the areas each listing covers become the services'
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


class NhsStatisticsSource(StagedNhsSource):
    """NHS England's annual NHS Talking Therapies reports: a new year's files when published."""

    name = "nhs-statistics"
    description = "NHS England annual reports (main measures, therapy-based outcomes)"

    def stage(self, fetch: CountingFetch, today: str, stage: Path) -> list[str]:
        from finder.imports.nhs import import_outcomes
        from scrapers import nhs_stats

        configured = list(settings().nhs_stats_urls)
        if configured:
            files, notes = configured, list[str]()
        else:
            outcomes = read_document(OUTCOMES_FILE, stage)
            known = set(outcomes.get("main", {})) | set(outcomes.get("therapy", {}))
            files, notes = nhs_stats.scrape(fetch, today, known)
            if not files:
                notes.append("no new annual report to import")
                return notes
        imported, refused = 0, []
        for number, url in enumerate(files):
            name = Path(urlsplit(url).path).name or f"file-{number}"
            target = stage / "downloads" / name
            fetch.download(url, target)
            try:
                import_outcomes(target, directory=stage)
            except SourceFormatError as error:
                refused.append(f"{name}: {error}")
                continue
            imported += 1
        if not imported:
            raise SourceFormatError(
                "no downloaded file is in a known statistics layout: " + "; ".join(refused[:3])
            )
        notes.append(f"imported {imported} statistics file(s)")
        if refused:
            notes.append(f"{len(refused)} other file(s) not in the statistics layouts were ignored")
        return notes


class IptukSource(RecordFileSource):
    """IPT UK's Find a Therapist directory -> the IPT UK records of data/practitioners.json.

    Records from other sources (a register export imported by hand) are left as they are."""

    name = "iptuk"
    description = "IPT UK Find a Therapist directory (accredited IPT practitioners)"
    file_name = PRACTITIONERS_FILE
    kind = "private"

    @staticmethod
    def _owned(record: Mapping) -> bool:
        from scrapers import iptuk

        return host_of(str(record.get("source", ""))) == host_of(iptuk.DIRECTORY_URL)

    def current(self) -> Candidate | None:
        held = super().current()
        if held is None:
            return None
        return Candidate(tuple(r for r in held.records if self._owned(r)), held.info)

    def fetch(self, fetch: CountingFetch, today: str) -> Candidate:
        from finder import practitioners
        from scrapers import iptuk

        listings = iptuk.scrape(fetch)
        records, refused = [], []
        for listing in listings:
            try:
                records.append(practitioners.build_record(listing.to_record_fields(last_verified=today)))
            except FinderError as error:
                refused.append(f"{listing.name}: {error}")
        records, merged = practitioners.merge_duplicates(records)
        notes = []
        if refused:
            notes.append(f"{len(refused)} listings could not be used: " + "; ".join(refused[:3]))
        if merged:
            notes.append(f"{merged} duplicate listings merged")
        return Candidate(
            tuple(records), {"source": iptuk.DIRECTORY_URL, "fetched": today}, None, None, tuple(notes)
        )

    def files(self, candidate: Candidate) -> dict[str, bytes]:
        from finder import practitioners

        held = read_document(self.file_name)
        others = [r for r in held.get("records", []) if not self._owned(r)]
        # A therapist already held from another import (same id or registration number) keeps that
        # record: merging would hand it to IPT UK, and a later delisting would then lose it.
        held_ids = {r["id"] for r in others}
        held_numbers = {(g["register"], g["number"]) for r in others for g in r.get("registrations", [])}
        fresh = [
            r
            for r in candidate.records
            if r["id"] not in held_ids
            and not {(g["register"], g["number"]) for g in r.get("registrations", [])} & held_numbers
        ]
        records = [*others, *fresh]
        manifest_entry = {
            **candidate.info,
            "records": len(records),
            "iptuk_records": len(fresh),
            "iptuk_listings_held_from_another_import": len(candidate.records) - len(fresh),
        }
        return {
            self.file_name: practitioners.practitioners_bytes(records),
            MANIFEST_FILE: store.update_manifest(practitioners.MANIFEST_SOURCE, manifest_entry),
        }


POSTCODE_TABLES = (*POSTCODE_FILES, MANIFEST_FILE)


class PostcodesSource(Source):
    """A newer OS Code-Point Open or ONS postcode directory, by URL or path in FINDER_POSTCODES_SOURCE."""

    name = "postcodes"
    description = "OS Code-Point Open / ONSPD release (URL or path in FINDER_POSTCODES_SOURCE)"

    def skip_reason(self) -> str | None:
        if not settings().postcodes_source:
            return f"no newer release given (set {POSTCODES_SOURCE_ENV} to a Code-Point Open or ONSPD zip URL or path)"
        return None

    def current(self) -> Candidate | None:
        path = store.data_dir() / POSTCODES_FILE
        if not path.exists():
            return None
        return Candidate((), {"keys": _postcode_keys(path)})

    def fetch(self, fetch: CountingFetch, today: str) -> Candidate:
        import tempfile

        from finder.imports.postcodes import import_postcodes

        given = settings().postcodes_source or ""
        with tempfile.TemporaryDirectory(prefix="finder-postcodes-") as tmp:
            stage = Path(tmp)
            copy_into(stage, (MANIFEST_FILE,))
            if is_http_url(given):
                path = stage / (Path(urlsplit(given).path).name or "postcodes.zip")
                fetch.download(given, path)
            else:
                path = Path(given)
            report = import_postcodes(path, directory=stage, max_shrink=None)  # --max-shrink applies
            keys = _postcode_keys(stage / POSTCODES_FILE)
            files = changed_files(stage, POSTCODE_TABLES)
        return Candidate((), {"keys": keys, "source": report.source}, None, files, tuple(report.lines()))

    def size(self, candidate: Candidate) -> int:
        return len(_keys(candidate))

    def compare(self, old: Candidate | None, new: Candidate) -> ChangeSet:
        import numpy as np

        new_keys = _keys(new)
        old_keys = _keys(old) if old else np.array([], dtype=np.int64)
        added = int(np.setdiff1d(new_keys, old_keys, assume_unique=True).size)
        removed = int(np.setdiff1d(old_keys, new_keys, assume_unique=True).size)
        # Counted, not listed: a release adds and retires thousands of postcodes.
        return ChangeSet(
            len(old_keys),
            len(new_keys),
            reverified=0 if (added or removed) else len(new_keys),
            unlisted_added=added,
            unlisted_removed=removed,
        )

    def validate(self, candidate: Candidate) -> None:
        if not len(_keys(candidate)):
            raise ValidationFailed("the new postcode table is empty")


def _keys(candidate: Candidate) -> Any:
    """The candidate's postcode keys: a numpy array of int64, one per postcode."""
    return candidate.info["keys"]


def _postcode_keys(path: Path) -> Any:
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=["key"]).column("key").to_numpy()


def districts_of_sub_icb(sub_icb_code: str) -> list[tuple[str, str]]:
    """The districts of a sub-ICB location (the directory's `RelatedIAPTCCGs` codes are sub-ICB,
    formerly CCG, codes), as (district code, name) pairs from data/'s area tables."""
    from finder import areas

    return [(area.district_code, area.district_name) for area in areas.districts_of_sub_icb(sub_icb_code)]


def current_sub_icbs(code: str) -> tuple[str, ...]:
    """Today's sub-ICB codes for a code the directory lists, from data/'s area tables."""
    from finder import areas

    return areas.current_sub_icbs(code)


def default_sources() -> list[Source]:
    """Every source `python -m finder refresh` knows, in the order they run (ODS first: the
    directory is built on its organisations)."""
    return [
        OdsSource(),
        NhsDirectorySource(districts_of_sub_icb=districts_of_sub_icb, current_sub_icbs=current_sub_icbs),
        NhsukDirectorySource(districts_of_sub_icb=districts_of_sub_icb, current_sub_icbs=current_sub_icbs),
        ServiceSitesSource(),
        NhsStatisticsSource(),
        IptukSource(),
        PostcodesSource(),
    ]
