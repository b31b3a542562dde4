"""What a refreshable source is: a `Source` gives a `Candidate` (its records and manifest entry)
fetched now, and what data/ holds; `RecordFileSource` is the one whose data is a single records
file. `publish_files` is the one guarded publish every source's files go through."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finder import store
from finder.changes import ChangeSet, diff_records, found_in
from finder.errors import FinderError, SourceFormatError
from finder.schema import MANIFEST_FILE, RecordError, records_document, validate
from scrapers.refresh.limits import CountingFetch


class ValidationFailed(FinderError):
    """Fetched records that break the data contract: the source keeps its previous data."""


@dataclass(frozen=True)
class Candidate:
    """What a source holds: its records (dicts with a stable `id`) and its manifest entry.

    `rechecked_ids`: ids whose facts were re-checked in this run (None: all of them); records not
    in it keep their previous `last_verified`."""

    records: tuple[Mapping, ...]
    info: Mapping[str, object] = field(default_factory=dict)
    rechecked_ids: frozenset[str] | None = None
    files: Mapping[str, bytes] | None = None  # ready-made data files (staged sources)
    notes: tuple[str, ...] = ()  # what the report should say besides the diff
    # What the source read, counted for the report (FOUND_COUNTS); None: counted from `records`.
    found: Mapping[str, int] | None = None


def read_document(name: str, directory: Path | None = None) -> dict[str, Any]:
    """A JSON document of data/ (or `directory`); {} when missing or not an object."""
    document = store.read_json(name, directory, default=None)
    return document if isinstance(document, dict) else {}


def manifest_entry(source: str, directory: Path | None = None) -> dict[str, Any]:
    """The manifest's entry for `source` ({} when it has none)."""
    return dict(read_document(MANIFEST_FILE, directory).get("sources", {}).get(source, {}))


class Source:
    """One refreshable source. Subclasses set `name` and implement `fetch`, `current`, `files`."""

    name: str = ""
    description: str = ""

    def skip_reason(self) -> str | None:
        """Why this source cannot run here (not configured), or None."""
        return None

    def fetch(self, fetch: CountingFetch, today: str) -> Candidate:
        """The source's records as its site gives them now, fetched through `fetch`."""
        raise NotImplementedError

    def current(self) -> Candidate | None:
        raise NotImplementedError

    def validate(self, candidate: Candidate) -> None:
        """Raise ValidationFailed (or any FinderError) when the candidate must not be published."""

    def compare(self, old: Candidate | None, new: Candidate) -> ChangeSet:
        return diff_records(old.records if old else None, new.records)

    def found(self, candidate: Candidate) -> dict[str, int]:
        """What the source read this run, counted for the operator's report."""
        return dict(candidate.found) if candidate.found is not None else found_in(candidate.records)

    def size(self, candidate: Candidate) -> int:
        """How many records the candidate holds (0 means an empty result, never published)."""
        return len(candidate.records)

    def files(self, candidate: Candidate) -> dict[str, bytes]:
        """Data files (name -> bytes) to publish together, manifest.json included."""
        raise NotImplementedError

    def check_written(self, temps: Mapping[str, Path]) -> None:
        """Re-read the written temp files before anything is renamed; raise to abort."""
        for name, path in temps.items():
            if name.endswith(".json"):
                try:
                    json.loads(path.read_text(encoding="utf-8"))
                except ValueError as error:
                    raise ValidationFailed(f"{name} did not read back as JSON: {error}") from error


class RecordFileSource(Source):
    """A source whose data is one `{"schema_version": 1, "records": [...]}` JSON file in data/."""

    file_name: str = ""
    kind: str | None = None  # the record model checked before publishing (None: the search contract)

    def current(self) -> Candidate | None:
        document = store.read_json(self.file_name, default=None)
        if not document:
            return None
        records = document.get("records") if isinstance(document, dict) else None
        if not isinstance(records, list):
            raise SourceFormatError(f"data/{self.file_name} has no 'records' list")
        return Candidate(tuple(records), manifest_entry(self.name))

    def validate(self, candidate: Candidate) -> None:
        records = [dict(r) for r in candidate.records]
        try:
            validate(records, level="full" if self.kind else "contract", kind=self.kind)
        except RecordError as error:
            raise ValidationFailed(str(error)) from None

    def files(self, candidate: Candidate) -> dict[str, bytes]:
        records = sorted((dict(r) for r in candidate.records), key=lambda r: str(r["id"]))
        return {
            self.file_name: store.json_bytes(records_document(records)),
            MANIFEST_FILE: store.update_manifest(self.name, candidate.info),
        }

    def check_written(self, temps: Mapping[str, Path]) -> None:
        super().check_written(temps)
        if self.file_name not in temps:
            return
        document = json.loads(temps[self.file_name].read_text(encoding="utf-8"))
        if not document.get("records"):
            raise ValidationFailed(f"{self.file_name} was written without records")


def publish_files(
    files: Mapping[str, bytes], check: Callable[[Mapping[str, Path]], None], stamp: object = None
) -> None:
    """Publish under the writer lock (held only for this). `stamp`: data/ as the source read it;
    if another writer published since, nothing is replaced (its update would be lost)."""

    def validate(temps: Mapping[str, Path]) -> None:
        if stamp is not None and store.data_stamp() != stamp:
            raise ValidationFailed(
                "data/ was changed by another import while this source was fetching; "
                "nothing replaced, the next run will refresh it"
            )
        check(temps)

    store.publish(dict(files), validate=validate)
