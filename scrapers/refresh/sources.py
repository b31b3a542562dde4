"""The real sources `python -m finder refresh` knows, each an adapter around its scraper: the NHS
tables' ODS facts, the services' own websites and NHS England's statistics (staged, see staging.py),
IPT UK's directory and a newer postcode release. The NHS directory has its own module, directory.py.

Order matters (`default_sources`): ODS first, the directory is built on its organisations.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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
    is_http_url,
)
from finder.settings import POSTCODES_SOURCE_ENV, settings
from scrapers.http import FetchError
from scrapers.refresh.directory import (
    NhsDirectorySource,
    NhsukDirectorySource,
    current_sub_icbs,
    districts_of_sub_icb,
)
from scrapers.refresh.limits import CountingFetch
from scrapers.refresh.runner import why_failed
from scrapers.refresh.source import Candidate, RecordFileSource, Source, ValidationFailed, read_document
from scrapers.refresh.staging import (
    StagedNhsSource,
    changed_files,
    copy_into,
    host_of,
    keep_location_dates,
    publish_links,
    publish_providers,
    read_enough,
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
