"""The refresh runner: run each source on its own, check it, and publish only what passes.

Each source is a small adapter (`Source`, see scrapers/refresh/sources.py): it fetches and parses
with the shared polite fetcher, loads the records currently in `data/`, validates, and publishes its
files atomically through `finder.store.publish`. `run_refresh` runs the adapters one after
another, each on its own: a failure in one (network, robots.txt, changed layout, empty page, a
shrink beyond `max_shrink`) keeps that source's last good data, is reported with the reason, and
never stops the others.

Exit codes for the CLI (`exit_code`): 0 every source fine (updated, unchanged or skipped because it
is not configured), 1 at least one source kept its previous data.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from finder import store
from finder.changes import (
    ChangeSet,
    SourceReport,
    carry_last_verified,
    commit_message,
    diff_records,
    found_in,
    prepend_run,
    render_markdown,
)
from finder.errors import FinderError, ParseError, SourceFormatError
from finder.schema import (
    MANIFEST_FILE,
    RecordError,
    records_document,
    validate,
)
from scrapers.http import Download, FetchError, Response, RobotsDisallowed

Fetch = Callable[..., Response]

CHANGES_FILE = "CHANGES.md"
REPORT_FILE = "refresh-report.json"
DEFAULT_MAX_SHRINK = 0.2
# The weekly job must end, whatever the sites do: the whole run and each source have a time limit
# (a source past it keeps its data, the rest is left for next week's run).
DEFAULT_DEADLINE = 540.0  # seconds for the whole run: under the 10 minutes the job is given
DEFAULT_SOURCE_DEADLINE = 240.0
# A host that fails this many requests in a row is not asked again by that source in this run
# (233 organisations answered 500 would otherwise cost half an hour of retries).
DEFAULT_BREAKER = 5
# Names and links changing for more than this share of a source's records at once look like a
# scraper reading the wrong thing (every provider renamed to markup), not like the NHS: held for
# review unless --accept-mass-change. Sources with fewer records than MASS_CHANGE_MIN are exempt.
DEFAULT_MAX_CHANGE = 0.3
MASS_CHANGE_MIN = 20
REVIEW_FIELDS = (
    "name",
    "provider",
    "service_name",
    "website",
    "self_referral_url",
    "phone",
    "self_referral_phone",
)


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


class Downloader(Protocol):
    """A fetcher that can also save a file (the statistics zips, a postcode release)."""

    def download(self, url: str, destination: Path) -> Download: ...


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


# -- running ----------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RefreshOptions:
    dry_run: bool = False
    max_shrink: float = DEFAULT_MAX_SHRINK
    today: str = field(default_factory=lambda: datetime.now(UTC).date().isoformat())  # as the importers date
    deadline: float = DEFAULT_DEADLINE
    source_deadline: float = DEFAULT_SOURCE_DEADLINE
    breaker: int = DEFAULT_BREAKER
    max_change: float = DEFAULT_MAX_CHANGE
    accept_mass_change: bool = False
    mass_change_min: int = MASS_CHANGE_MIN
    clock: Callable[[], float] = time.monotonic  # injected by tests: time limits without sleeping


class DeadlineReached(FetchError):
    """The source's time limit passed: its remaining requests are left for the next run."""


class CircuitOpen(FetchError):
    """The host failed too many requests in a row: not asked again by this source in this run."""


class CountingFetch:
    """Wraps a fetcher for one source: counts its requests, moves its progress bar, enforces the
    source's time limit and the per-host circuit breaker."""

    def __init__(
        self,
        fetch: Fetch,
        on_request: Callable[[], None] | None = None,
        *,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        breaker: int = DEFAULT_BREAKER,
    ):
        self._fetch = fetch
        self._on_request = on_request
        self._deadline = deadline
        self._clock = clock
        self._breaker = breaker
        self._in_a_row: dict[str, int] = {}
        self.tripped: dict[str, str] = {}  # host -> the failure that tripped it
        self.deadline_hit = False
        self.counts = {"pages": 0, "unchanged_304": 0, "failed": 0}
        set_time_left = getattr(fetch, "set_time_left", None)
        if set_time_left is not None:  # so one slow answer cannot outlast the limit either
            set_time_left(self.time_left if deadline is not None else None)

    def time_left(self) -> float | None:
        return None if self._deadline is None else self._deadline - self._clock()

    def _before(self, url: str) -> str:
        host = urlsplit(url).netloc.lower()
        left = self.time_left()
        if left is not None and left <= 0:
            self.deadline_hit = True
            raise DeadlineReached(url, "the source's time limit was reached; left for the next run")
        if host in self.tripped:
            raise CircuitOpen(
                url, f"{host} failed {self._breaker} requests in a row; not asked again this run"
            )
        return host

    def _failed(self, host: str, error: FetchError) -> None:
        self.counts["failed"] += 1
        if isinstance(error, DeadlineReached | CircuitOpen):
            self.deadline_hit |= isinstance(error, DeadlineReached)
            return
        self._in_a_row[host] = self._in_a_row.get(host, 0) + 1
        if self._in_a_row[host] >= self._breaker:
            self.tripped[host] = error.reason

    def __call__(
        self, url: str, params: Mapping[str, object] | None = None, headers: Mapping[str, str] | None = None
    ) -> Response:
        host = self._before(url)
        try:
            response = self._fetch(url, params=params, headers=headers)
        except FetchError as error:
            self._failed(host, error)
            raise
        finally:
            if self._on_request:
                self._on_request()
        self._in_a_row[host] = 0
        self.counts["pages"] += 1
        if response.from_cache:
            self.counts["unchanged_304"] += 1
        return response

    get = __call__

    def download(self, url: str, destination: Path) -> Download:
        host = self._before(url)
        try:
            # Only sources that download (statistics, postcodes) call this: their fetcher can.
            result = cast(Downloader, self._fetch).download(url, destination)
        except FetchError as error:
            self._failed(host, error)
            raise
        self._in_a_row[host] = 0
        self.counts["pages"] += 1
        if result.not_modified:
            self.counts["unchanged_304"] += 1
        return result

    def limits_note(self) -> str:
        """Why the source stopped early, for its report line ('' when no limit was reached)."""
        parts = []
        if self.deadline_hit:
            parts.append("its time limit was reached (the rest is left for the next run)")
        for host, reason in self.tripped.items():
            parts.append(f"circuit breaker: {host} failed {self._breaker} requests in a row ({reason})")
        return "; ".join(parts)


def why_failed(error: BaseException) -> str:
    if isinstance(error, RobotsDisallowed):
        return f"robots.txt: {error.reason} ({error.url})"
    if isinstance(error, FetchError):
        return f"fetch failed: {error.url}: {error.reason}"
    if isinstance(error, ParseError):
        return f"page layout changed: {error}"
    if isinstance(error, SourceFormatError):
        return f"source format changed: {error}"
    if isinstance(error, ValidationFailed):
        return f"failed validation: {error}"
    if isinstance(error, FinderError):
        return str(error)
    return f"unexpected error {type(error).__name__}: {error}"


class _Kept(Exception):
    """A source keeps its previous data: why, and the changes it would have made (if known)."""

    def __init__(
        self,
        reason: str,
        changes: ChangeSet | None = None,
        found: Mapping[str, int] | None = None,
        held: bool = False,
    ):
        super().__init__(reason)
        self.reason = reason
        self.changes = changes
        self.found = found
        self.held = held


def _held_now(source: Source) -> tuple[Candidate | None, str]:
    """What the source holds in data/ now, and a note for the report when it cannot be read."""
    try:
        return source.current(), ""
    except (FinderError, ValueError, OSError) as error:
        # Unreadable current data: refresh anyway (the new data replaces it), but say so.
        return None, f"current data unreadable ({error}); "
    except Exception as error:  # a bug: without the held records nothing can be compared
        raise _Kept(why_failed(error)) from error


def _fetched(
    source: Source, fetch: CountingFetch, options: RefreshOptions, old: Candidate | None
) -> tuple[Candidate, ChangeSet]:
    """The source's new candidate, checked and compared with `old`; raises _Kept when it must not
    be published (a fetch or parse failure, an empty result, a failed check, a change held for
    review)."""
    try:
        new = source.fetch(fetch, options.today)
    except Exception as error:
        raise _Kept(why_failed(error)) from error
    found = source.found(new)
    if not source.size(new):
        before = source.size(old) if old else 0
        raise _Kept(f"empty result (0 records); the previous {before} records are kept", None, found)
    try:
        if new.rechecked_ids is not None:
            records = carry_last_verified(old.records if old else None, new.records, new.rechecked_ids)
            new = replace(new, records=tuple(records))
        source.validate(new)
        changes = source.compare(old, new)
    except Exception as error:
        raise _Kept(why_failed(error), None, found) from error
    if new.notes:
        changes = replace(changes, notes=changes.notes + tuple(new.notes))
    held = held_for_review(changes, options)
    if held:
        raise _Kept(held, changes, found, held=True)
    return new, changes


def _not_published(new: Candidate, changes: ChangeSet, options: RefreshOptions) -> str | None:
    """The status of a checked candidate that is not published: unchanged, or a dry run."""
    nothing_to_write = new.files is not None and not new.files  # staged files identical to data/
    if nothing_to_write or (not changes.has_changes and not changes.reverified):
        return "unchanged"
    return "dry-run" if options.dry_run else None


def refresh_source(
    source: Source,
    fetch: Fetch,
    options: RefreshOptions,
    on_request: Callable[[], None] | None = None,
    report_files: Callable[[SourceReport], Mapping[str, bytes]] | None = None,
    deadline: float | None = None,
) -> SourceReport:
    """Run one source end to end; never raises for a source-level problem.

    `report_files(report)` gives the change-report files to publish together with the source's
    data, so a run that stops later can never leave a published change unreported."""
    skip = source.skip_reason()
    if skip:
        return SourceReport(source.name, "skipped", skip)
    counting = CountingFetch(
        fetch, on_request, deadline=deadline, clock=options.clock, breaker=options.breaker
    )

    def kept(reason: str, changes: ChangeSet | None = None, found=None, held=False) -> SourceReport:
        limits = counting.limits_note()
        reason = f"{reason}; {limits}" if limits else reason
        return SourceReport(source.name, "kept", reason, changes, counting.counts, found, held)

    # data/ as this source found it: the publish (under the lock) checks that nobody changed it
    # while the source fetched without the lock.
    stamp = store.data_stamp()
    try:
        old, note = _held_now(source)
        new, changes = _fetched(source, counting, options, old)
    except _Kept as stopped:
        return kept(stopped.reason, stopped.changes, stopped.found, stopped.held)
    found = source.found(new)
    status = _not_published(new, changes, options)
    if status:
        return SourceReport(source.name, status, note.rstrip("; "), changes, counting.counts, found)
    reason = note + ("" if changes.has_changes else f"{changes.reverified} re-checked, no fact changed")
    report = SourceReport(source.name, "updated", reason.rstrip("; "), changes, counting.counts, found)
    try:
        files = dict(new.files if new.files is not None else source.files(new))
        if report_files is not None:
            files.update(report_files(report))
        publish_files(files, source.check_written, stamp)
    except Exception as error:
        return kept(f"publish failed, nothing replaced: {why_failed(error)}", changes, found)
    return report


def held_for_review(changes: ChangeSet, options: RefreshOptions) -> str | None:
    """Why a validated change must not be published without a person looking: it would remove
    more than --max-shrink of the records, or change names or links of more than --max-change."""
    if changes.shrink > options.max_shrink:
        return (
            f"would remove {changes.shrink:.0%} of records ({changes.before_count} -> {changes.after_count}), "
            f"more than --max-shrink {options.max_shrink:.0%}"
        )
    mass = changes.changed_share(REVIEW_FIELDS)
    if (
        mass > options.max_change
        and changes.before_count >= options.mass_change_min
        and not options.accept_mass_change
    ):
        return (
            f"held for review: {mass:.0%} of records would change name, link or phone at once "
            f"(more than --max-change {options.max_change:.0%}); check the listed changes, then rerun "
            "with --accept-mass-change to publish"
        )
    return None


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


class RunReports(list):
    """run_refresh's reports, one per source, with data/CHANGES.md as the run found it: each
    publish rewrites this run's section on top of that text (see `report_files`)."""

    changes_before: str | None = None


def _changes_text() -> str | None:
    path = store.data_dir() / CHANGES_FILE
    return path.read_text(encoding="utf-8") if path.exists() else None


def run_refresh(
    sources: Sequence[Source],
    fetch: Fetch,
    options: RefreshOptions,
    progress: Callable[[str], Callable[[], None] | None] | None = None,
) -> RunReports:
    """Refresh each source on its own, in order. `progress(name)` may return a per-request tick.

    Each source that publishes writes the change report so far along with its data."""
    reports = RunReports()
    reports.changes_before = _changes_text()
    run_ends = options.clock() + options.deadline

    def with_report(report: SourceReport) -> dict[str, bytes]:
        return report_files([*reports, report], options, reports.changes_before)

    for source in sources:
        now = options.clock()
        if now >= run_ends:
            reports.append(
                SourceReport(
                    source.name,
                    "kept",
                    f"not started: the run's time limit (--deadline {options.deadline:g} s) was reached; "
                    "its data is kept for the next run",
                )
            )
            continue
        tick = progress(source.name) if progress else None
        deadline = min(now + options.source_deadline, run_ends)
        reports.append(refresh_source(source, fetch, options, tick, with_report, deadline))
    return reports


def exit_code(reports: Iterable[SourceReport]) -> int:
    return 1 if any(r.status == "kept" for r in reports) else 0


def report_files(
    reports: Sequence[SourceReport], options: RefreshOptions, changes_before: str | None
) -> dict[str, bytes]:
    """data/CHANGES.md with this run's section on top of `changes_before`, and refresh-report.json."""
    return {
        CHANGES_FILE: prepend_run(changes_before, render_markdown(options.today, reports)).encode("utf-8"),
        REPORT_FILE: store.json_bytes(report_json(reports, options)),
    }


def write_reports(reports: Sequence[SourceReport], options: RefreshOptions) -> bool:
    """Write the whole run (kept and skipped sources included) to data/CHANGES.md and
    data/refresh-report.json, atomically together.

    Only when some source published something: a run that changed nothing leaves data/ untouched,
    so the scheduled job has nothing to commit. Pass the list run_refresh returned: its sources
    already wrote this run's section, which is replaced here, not added twice."""
    if options.dry_run or not any(r.status == "updated" for r in reports):
        return False
    before = reports.changes_before if isinstance(reports, RunReports) else _changes_text()
    publish_files(report_files(reports, options, before), lambda temps: None)
    return True


def report_json(reports: Sequence[SourceReport], options: RefreshOptions) -> dict:
    return {
        "run_date": options.today,
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dry_run": options.dry_run,
        "max_shrink": options.max_shrink,
        "deadline": options.deadline,
        "exit_code": exit_code(reports),
        "commit_message": commit_message(options.today, reports),
        "sources": [r.to_json() for r in reports],
    }
