"""What the NHS sources share: a staging copy of the NHS tables, run through the importers.

The NHS sources (ODS, the directory, service websites, the annual statistics) feed one derived
file, data/services.json, built by finder.imports.nhs from its stored source tables. Their
adapters run the project's own importers against a staging copy of those files, so every rule
of the importers (http(s)-only links, the declared service schema) applies, and then compare the
staged services.json with the published one before anything is replaced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from finder import store
from finder.errors import ParseError
from finder.schema import (
    MANIFEST_FILE,
    NHS_FILES,
    PROVIDERS_FILE,
    SERVICES_FILE,
    records_document,
)
from scrapers.http import FetchError
from scrapers.refresh.limits import CountingFetch
from scrapers.refresh.source import Candidate, RecordFileSource

NHS_TABLES = (*NHS_FILES, MANIFEST_FILE)
MIN_SHARE_READ = 0.5  # below this share of pages read, a source counts as failed, not partly refreshed


def copy_into(stage: Path, names: Iterable[str]) -> None:
    import shutil

    source_dir = store.data_dir()
    for name in names:
        if (source_dir / name).exists():
            shutil.copyfile(source_dir / name, stage / name)


def changed_files(stage: Path, names: Iterable[str]) -> dict[str, bytes]:
    source_dir = store.data_dir()
    changed = {}
    for name in names:
        staged = stage / name
        if not staged.exists():
            continue
        content = staged.read_bytes()
        current = source_dir / name
        if not current.exists() or current.read_bytes() != content:
            changed[name] = content
    return changed


def records_of(path: Path) -> list[dict]:
    if not path.exists():
        return []
    document = json.loads(path.read_text(encoding="utf-8"))
    return list(document.get("records", [])) if isinstance(document, dict) else []


def host_of(url: str | None) -> str:
    host = urlsplit(url or "").netloc.lower()
    return host[4:] if host.startswith("www.") else host


def name_key(name: str | None) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", (name or "").lower()).split())


class StagedNhsSource(RecordFileSource):
    """An NHS source refreshed through finder.imports.nhs on a staging copy of the NHS tables."""

    file_name = SERVICES_FILE
    kind = "nhs"
    requires = PROVIDERS_FILE
    # Only the ODS source re-checks what a service's `last_verified` dates (its organisation's
    # status and headquarters). The importers date every re-derived service with the providers
    # table's import day, so the other NHS sources put back the published dates.
    rechecks_ods_facts = False

    def skip_reason(self) -> str | None:
        if self.requires and not (store.data_dir() / self.requires).exists():
            return (
                f"no {self.requires} in the data directory yet (run `python -m finder import nhs-providers`)"
            )
        return None

    def stage(self, fetch: CountingFetch, today: str, stage: Path) -> list[str]:
        """Fetch, and run the importers into `stage`; return notes for the report."""
        raise NotImplementedError

    def fetch(self, fetch: CountingFetch, today: str) -> Candidate:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="finder-refresh-") as tmp:
            stage = Path(tmp)
            copy_into(stage, NHS_TABLES)
            notes = self.stage(fetch, today, stage)
            if not self.rechecks_ods_facts:
                keep_location_dates(stage, rechecked=set())
            records = records_of(stage / SERVICES_FILE)
            files = changed_files(stage, NHS_TABLES)
        manifest = json.loads(files[MANIFEST_FILE]) if MANIFEST_FILE in files else {}
        return Candidate(
            tuple(records), manifest.get("sources", {}).get(self.name, {}), None, files, tuple(notes)
        )


# The names the refreshed tables are recorded under in data/ (their `source`), the same as when
# the refresh wrote them to a CSV file for the importers: the rows never were a file, so no file
# checksum is recorded for them.
ODS_TABLE = "ods_ord_api.csv"
LINKS_TABLE = "service_links.csv"
AREAS_TABLE = "service_areas.csv"


def publish_providers(records: Iterable[Mapping[str, Any]], stage: Path) -> list[str]:
    """Provider records (the stored layout) checked and published into `stage` by the importer's
    own rules, services.json re-derived."""
    from finder.imports import nhs

    rows = nhs.source_rows(records, nhs.PROVIDER_COLUMNS, ODS_TABLE)
    return nhs.publish_providers(nhs.provider_records(rows, ODS_TABLE), source=ODS_TABLE, directory=stage)


def publish_links(records: Iterable[Mapping[str, Any]], stage: Path) -> list[str]:
    """service_links.json records checked and published into `stage` by the importer's own rules
    (http(s)-only links, phone numbers re-read), services.json re-derived."""
    from finder.imports import nhs

    rows = nhs.source_rows([nhs.link_row(r) for r in records], nhs.LINK_COLUMNS, LINKS_TABLE)
    return nhs.publish_service_links(nhs.link_records(rows, LINKS_TABLE), source=LINKS_TABLE, directory=stage)


def publish_areas(records: Iterable[Mapping[str, Any]], stage: Path) -> list[str]:
    """service_areas.json rows checked and published into `stage` by the importer's own rules,
    services.json re-derived."""
    from finder.imports import nhs, nhs_coverage

    rows = nhs.source_rows(
        [nhs_coverage.area_source_row(r) for r in records], nhs_coverage.AREA_COLUMNS, AREAS_TABLE
    )
    return nhs_coverage.publish_service_areas(
        nhs_coverage.areas_to_records(rows, name=AREAS_TABLE),
        source=AREAS_TABLE,
        directory=stage,
        max_shrink=None,
    )


def read_enough(done: int, failures: Sequence[BaseException], what: str) -> None:
    """Fail the source, as the first failure did (a layout change or a fetch problem), when fewer
    than MIN_SHARE_READ of its pages could be read."""
    total = done + len(failures)
    if failures and (total == 0 or done / total < MIN_SHARE_READ):
        first = failures[0]
        summary = f"only {done} of {total} {what} read; first failure: {getattr(first, 'reason', first)}"
        if isinstance(first, ParseError):
            raise ParseError(summary)
        raise FetchError(getattr(first, "url", what), summary)


def keep_location_dates(stage: Path, rechecked: set[str]) -> None:
    """The importer dates every organisation's ODS facts with the import day; a service whose
    organisation could not be looked up this time keeps the date it was last verified."""

    previous = {r["id"]: r for r in records_of(store.data_dir() / SERVICES_FILE)}
    records = records_of(stage / SERVICES_FILE)
    moved = False
    for record in records:
        old = previous.get(record["id"])
        if old is None or record["id"] in rechecked:
            continue
        dates = [(record, old)]
        old_location = (old.get("provenance") or {}).get("location")
        if old_location and "location" in (record.get("provenance") or {}):
            dates.append((record["provenance"]["location"], old_location))
        for new_holder, old_holder in dates:
            if new_holder.get("last_verified") != old_holder.get("last_verified"):
                new_holder["last_verified"] = old_holder.get("last_verified")
                moved = True
    if moved:
        (stage / SERVICES_FILE).write_bytes(store.json_bytes(records_document(records)))
