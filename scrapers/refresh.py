"""The scheduled refresh: fetch every source again, check it, and publish only what passes.

Each source is a small adapter (`Source`): it fetches and parses with the shared polite fetcher,
loads the records currently in `data/`, validates, and publishes its files atomically through
`finder.store.publish`. `run_refresh` runs the adapters one after another, each on its own: a
failure in one (network, robots.txt, changed layout, empty page, a shrink beyond `max_shrink`) keeps
that source's last good data, is reported with the reason, and never stops the others.

Exit codes for the CLI (`exit_code`): 0 every source fine (updated, unchanged or skipped because it
is not configured), 1 at least one source kept its previous data.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from finder import store
from finder.changes import (
    ChangeSet,
    SourceReport,
    carry_last_verified,
    commit_message,
    diff_records,
    prepend_run,
    render_markdown,
)
from finder.errors import FinderError, ParseError, SourceFormatError
from finder.schema import (
    LINKS_FILE,
    MANIFEST_FILE,
    NHS_FILES,
    OUTCOMES_FILE,
    POSTCODE_FILES,
    POSTCODES_FILE,
    PRACTITIONERS_FILE,
    PROVIDERS_FILE,
    SERVICE_AREAS_FILE,
    SERVICES_FILE,
    RecordError,
    is_http_url,
    records_document,
    validate,
)
from finder.settings import POSTCODES_SOURCE_ENV, settings
from scrapers.http import FetchError, Response, RobotsDisallowed

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


class Source:
    """One refreshable source. Subclasses set `name` and implement `fetch`, `current`, `files`."""

    name: str = ""
    description: str = ""

    def skip_reason(self) -> str | None:
        """Why this source cannot run here (not configured), or None."""
        return None

    def fetch(self, fetch: Fetch, today: str) -> Candidate:
        raise NotImplementedError

    def current(self) -> Candidate | None:
        raise NotImplementedError

    def validate(self, candidate: Candidate) -> None:
        """Raise ValidationFailed (or any FinderError) when the candidate must not be published."""

    def compare(self, old: Candidate | None, new: Candidate) -> ChangeSet:
        return diff_records(old.records if old else None, new.records)

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
        manifest = store.read_json(MANIFEST_FILE, default={}) or {}
        return Candidate(tuple(records), manifest.get("sources", {}).get(self.name, {}))

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

    def __call__(self, url: str, params=None, headers=None) -> Response:
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

    def download(self, url: str, destination: Path):
        host = self._before(url)
        try:
            result = self._fetch.download(url, destination)
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

    def kept(reason: str, changes: ChangeSet | None = None) -> SourceReport:
        limits = counting.limits_note()
        return SourceReport(
            source.name, "kept", f"{reason}; {limits}" if limits else reason, changes, counting.counts
        )

    # data/ as this source found it: the publish (under the lock) checks that nobody changed it
    # while the source fetched without the lock.
    stamp = store.data_stamp()
    try:
        old = source.current()
    except (FinderError, ValueError, OSError) as error:
        # Unreadable current data: refresh anyway (the new data replaces it), but say so.
        old, note = None, f"current data unreadable ({error}); "
    except Exception as error:  # a bug: without the held records nothing can be compared
        return kept(why_failed(error))
    else:
        note = ""
    try:
        new = source.fetch(counting, options.today)
    except Exception as error:
        return kept(why_failed(error))
    if not source.size(new):
        before = source.size(old) if old else 0
        return kept(f"empty result (0 records); the previous {before} records are kept")
    try:
        if new.rechecked_ids is not None:
            records = carry_last_verified(old.records if old else None, new.records, new.rechecked_ids)
            new = replace(new, records=tuple(records))
        source.validate(new)
        changes = source.compare(old, new)
    except Exception as error:
        return kept(why_failed(error))
    if new.notes:
        changes = replace(changes, notes=changes.notes + tuple(new.notes))
    held = held_for_review(changes, options)
    if held:
        return kept(held, changes)
    nothing_to_write = new.files is not None and not new.files  # staged files identical to data/
    if nothing_to_write or (not changes.has_changes and not changes.reverified):
        return SourceReport(source.name, "unchanged", note.rstrip("; "), changes, counting.counts)
    if options.dry_run:
        return SourceReport(source.name, "dry-run", note.rstrip("; "), changes, counting.counts)
    reason = note + ("" if changes.has_changes else f"{changes.reverified} re-checked, no fact changed")
    report = SourceReport(source.name, "updated", reason.rstrip("; "), changes, counting.counts)
    try:
        files = dict(new.files if new.files is not None else source.files(new))
        if report_files is not None:
            files.update(report_files(report))
        publish_files(files, source.check_written, stamp)
    except Exception as error:
        return kept(f"publish failed, nothing replaced: {why_failed(error)}", changes)
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


class ProgressBars:
    """Progress for run_refresh on a terminal: one tqdm bar per source, counting its requests."""

    def __init__(self):
        from tqdm import tqdm

        self._tqdm = tqdm
        self._bar = None

    def __call__(self, name: str) -> Callable[[], None]:
        self.close()
        bar = self._tqdm(desc=f"{name:<14}", unit="req", leave=False, file=sys.stderr)
        self._bar = bar
        return lambda: bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def progress_bars(enabled: bool | None = None) -> ProgressBars | None:
    """Progress bars when standard error is a terminal; None (quiet) under cron, CI or a pipe."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    return ProgressBars() if enabled else None


# -- the real sources -----------------------------------------------------------------------------
#
# The NHS sources (ODS, the directory, service websites, the annual statistics) feed one derived
# file, data/services.json, built by finder.imports.nhs from its stored source tables. Their
# adapters run the project's own importers against a staging copy of those files, so every rule
# of the importers (header checks, http(s)-only links, the declared service schema) applies, and
# then compare the staged services.json with the published one before anything is replaced.

NHS_TABLES = (*NHS_FILES, MANIFEST_FILE)
MIN_SHARE_READ = 0.5  # below this share of pages read, a source counts as failed, not partly refreshed


def _copy_into(stage: Path, names: Iterable[str]) -> None:
    import shutil

    source_dir = store.data_dir()
    for name in names:
        if (source_dir / name).exists():
            shutil.copyfile(source_dir / name, stage / name)


def _changed_files(stage: Path, names: Iterable[str]) -> dict[str, bytes]:
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


def _records_of(path: Path) -> list[dict]:
    if not path.exists():
        return []
    document = json.loads(path.read_text(encoding="utf-8"))
    return list(document.get("records", [])) if isinstance(document, dict) else []


def _host(url: str | None) -> str:
    host = urlsplit(url or "").netloc.lower()
    return host[4:] if host.startswith("www.") else host


def _name_key(name: str | None) -> str:
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

    def stage(self, fetch: Fetch, today: str, stage: Path) -> list[str]:
        """Fetch, and run the importers into `stage`; return notes for the report."""
        raise NotImplementedError

    def fetch(self, fetch: Fetch, today: str) -> Candidate:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="finder-refresh-") as tmp:
            stage = Path(tmp)
            _copy_into(stage, NHS_TABLES)
            notes = self.stage(fetch, today, stage)
            if not self.rechecks_ods_facts:
                _keep_location_dates(stage, rechecked=set())
            records = _records_of(stage / SERVICES_FILE)
            files = _changed_files(stage, NHS_TABLES)
        manifest = json.loads(files[MANIFEST_FILE]) if MANIFEST_FILE in files else {}
        return Candidate(
            tuple(records), manifest.get("sources", {}).get(self.name, {}), None, files, tuple(notes)
        )


def _providers_csv(records: Iterable[Mapping], path: Path) -> Path:
    import csv

    from finder.imports.nhs import PROVIDER_COLUMNS

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=PROVIDER_COLUMNS)
        writer.writeheader()
        for record in records:
            writer.writerow({key: record.get(key) or "" for key in PROVIDER_COLUMNS})
    return path


def _links_csv(records: Iterable[Mapping], path: Path) -> Path:
    """service_links.json rows back in the CSV layout `import service-links` reads."""
    import csv

    from finder.imports.nhs import LINK_COLUMNS

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=LINK_COLUMNS)
        writer.writeheader()
        for r in records:
            offers = {True: "yes", False: "no"}.get(r.get("offers_ipt"), "")
            writer.writerow(
                {
                    "org_code": r["org_code"],
                    "org_name": r.get("org_name") or "",
                    "service_name": r.get("service_name") or "",
                    "website": r.get("website") or "",
                    "self_referral_url": r.get("self_referral_url") or "",
                    "self_referral_phone": r.get("self_referral_phone_text") or "",
                    "min_age": "" if r.get("min_age") is None else str(r["min_age"]),
                    "offers_ipt": offers,
                    "catchment": r.get("catchment") or "",
                    "evidence_urls": " | ".join(r.get("evidence_urls") or []),
                    "notes": r.get("notes") or "",
                }
            )
    return path


def _read_enough(done: int, failures: list[BaseException], what: str) -> None:
    """Fail the source, as the first failure did (a layout change or a fetch problem), when fewer
    than MIN_SHARE_READ of its pages could be read."""
    total = done + len(failures)
    if failures and (total == 0 or done / total < MIN_SHARE_READ):
        first = failures[0]
        summary = f"only {done} of {total} {what} read; first failure: {getattr(first, 'reason', first)}"
        if isinstance(first, ParseError):
            raise ParseError(summary)
        raise FetchError(getattr(first, "url", what), summary)


class OdsSource(StagedNhsSource):
    """Status, dates and headquarters address of every provider from the ODS ORD API (no key)."""

    name = "ods"
    description = "NHS Organisation Data Service (ORD API): status, dates, headquarters postcode"
    rechecks_ods_facts = True

    def stage(self, fetch, today, stage):
        from finder.imports.nhs import import_providers
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
        _read_enough(done, failures, "ODS organisations")
        if failures:
            notes.append(f"{len(failures)} organisations could not be re-checked (kept as they were)")
        import_providers(_providers_csv(updated, stage / "ods_ord_api.csv"), directory=stage)
        if failures:
            _keep_location_dates(stage, rechecked)
        return notes


def _keep_location_dates(stage: Path, rechecked: set[str]) -> None:
    """The importer dates every organisation's ODS facts with the import day; a service whose
    organisation could not be looked up this time keeps the date it was last verified."""

    previous = {r["id"]: r for r in _records_of(store.data_dir() / SERVICES_FILE)}
    records = _records_of(stage / SERVICES_FILE)
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


class ServiceSitesSource(StagedNhsSource):
    """Each service's own website: self-referral link, phone, minimum age, catchment, IPT mention."""

    name = "service-sites"
    description = "services' own websites (self-referral link, phone, age, catchment, IPT)"
    requires = LINKS_FILE

    def stage(self, fetch, today, stage):
        from finder.imports.nhs import import_service_links
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
        _read_enough(done, failures, "service websites")
        if failures:
            notes.append(
                f"{len(failures)} service websites could not be read (their links kept as they were): "
                + "; ".join(why_failed(f) for f in failures[:3])
            )
        import_service_links(_links_csv(updated, stage / "service_links.csv"), directory=stage)
        return notes


def _area_rows_csv(rows: Iterable[Mapping], path: Path) -> Path:
    """service_areas.json rows back in the CSV layout `import service-areas` reads."""
    import csv

    from finder.imports.nhs_coverage import AREA_COLUMNS

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(AREA_COLUMNS)
        for r in rows:
            writer.writerow(
                [
                    r["org_code"],
                    r["org_name"],
                    r["code"],
                    r["name"],
                    r["basis"],
                    r["evidence"],
                    r["confidence"],
                ]
            )
    return path


def directory_areas(listings, codes: Mapping[int, str], stage: Path, districts_of_sub_icb) -> list[str]:
    """Put the directory's areas (`RelatedIAPTCCGs`, sub-ICB/CCG codes) into the staged
    service_areas table as basis `nhs_directory` and re-derive the directory; returns report
    lines: one per service whose areas changed, and the codes the lookup did not know.
    `codes` maps a listing's index to the provider it was matched to."""
    from finder.areas_served import area_change_lines, directory_area_rows, merge_directory_areas
    from finder.imports.nhs_coverage import import_service_areas

    held = (store.read_json(SERVICE_AREAS_FILE, stage, default=None) or {}).get("records", [])
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
    before = _records_of(stage / SERVICES_FILE)
    merged = merge_directory_areas(held, found)
    import_service_areas(
        _area_rows_csv(merged, stage / "service_areas.csv"), directory=stage, max_shrink=None
    )
    lines = [f"areas from the NHS directory for {len({r['org_code'] for r in found})} services"]
    lines += [f"areas: {line}" for line in area_change_lines(before, _records_of(stage / SERVICES_FILE))]
    if unknown:
        lines.append(f"sub-ICB codes not in the area lookup: {', '.join(sorted(unknown))}")
    return lines


class NhsDirectorySource(StagedNhsSource):
    """The NHS service directory: the Service Search API when NHS_API_KEY is set, else nhs.uk.

    With `districts_of_sub_icb` (sub-ICB ODS code -> (district code, name) pairs, e.g.
    finder.areas.districts_of_sub_icb) the areas each listing covers become the services'
    strongest area basis (`nhs_directory`) and the report lists every change of area; without it
    the areas are left as they are."""

    name = "nhs"
    description = "NHS service directory (Service Search API with NHS_API_KEY, else nhs.uk pages)"
    requires = LINKS_FILE

    def __init__(self, districts_of_sub_icb=None):
        self.districts_of_sub_icb = districts_of_sub_icb

    def stage(self, fetch, today, stage):
        from finder.imports.nhs import import_service_links

        providers = json.loads((stage / PROVIDERS_FILE).read_text(encoding="utf-8"))["records"]
        links = json.loads((stage / LINKS_FILE).read_text(encoding="utf-8"))["records"]
        if settings().nhs_api_key:
            from scrapers import nhs_api

            listings, notes = nhs_api.scrape(fetch), ["read from the NHS Service Search API"]
        else:
            listings, notes = self._from_nhsuk(fetch, providers)
        by_code = {r["org_code"]: dict(r) for r in links}
        matched = 0
        codes: dict[int, str] = {}
        for index, listing in enumerate(listings):
            code = self._match(listing, providers, by_code)
            if code is None:
                continue
            matched += 1
            codes[index] = code
            row = by_code.setdefault(code, {"org_code": code, "evidence_urls": []})
            if listing.website:
                row["website"] = listing.website
            if listing.self_referral_url:
                row["self_referral_url"] = listing.self_referral_url
            if listing.phone and listing.phone not in (row.get("self_referral_phones") or []):
                row["self_referral_phone_text"] = listing.phone
            if listing.source and listing.source not in row.setdefault("evidence_urls", []):
                row["evidence_urls"] = [*row["evidence_urls"], listing.source]
        if listings and not matched:
            raise ParseError(f"none of the {len(listings)} directory listings matched a known provider")
        notes.append(f"{matched} of {len(listings)} listings matched a provider")
        import_service_links(
            _links_csv(sorted(by_code.values(), key=lambda r: r["org_code"]), stage / "service_links.csv"),
            directory=stage,
        )
        if self.districts_of_sub_icb is not None:
            notes += directory_areas(listings, codes, stage, self.districts_of_sub_icb)
        return notes

    @staticmethod
    def _from_nhsuk(fetch, providers):
        """Search nhs.uk around each active provider's headquarters postcode."""
        from scrapers import nhsuk

        locations = sorted(
            {p["postcode"] for p in providers if p.get("status") == "Active" and p.get("postcode")}
        )
        # Results pages only; each service's own nhs.uk page is then read once, not once per
        # search that lists it (neighbouring searches overlap a lot).
        by_key, failures, page_failures = {}, [], []
        for location in locations:
            try:
                found = nhsuk.scrape(fetch, location, follow_pages=False)
            except (FetchError, ParseError) as error:
                failures.append(error)
                continue
            for listing in found:
                by_key.setdefault(listing.page_url or (listing.name, listing.website), listing)
        listings = []
        for listing in by_key.values():
            missing = not (listing.phone and listing.self_referral_url)
            if missing and listing.page_url and urlsplit(listing.page_url).netloc in nhsuk.NHS_HOSTS:
                try:
                    page = nhsuk.parse_service_page(fetch(listing.page_url).text, listing.page_url)
                except (FetchError, ParseError) as error:
                    page_failures.append(error)
                else:
                    listing = nhsuk.completed_from_page(listing, page)
            listings.append(listing)
        _read_enough(len(locations) - len(failures), failures, "nhs.uk searches")
        notes = ["read from nhs.uk search pages (no NHS_API_KEY)"]
        if failures:
            notes.append(f"{len(failures)} of {len(locations)} nhs.uk searches failed")
        if page_failures:
            notes.append(
                f"{len(page_failures)} nhs.uk service pages could not be read (results-page details used)"
            )
        return listings, notes

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
        host = _host(listing.website)
        key = _name_key(listing.name)
        by_host = {
            row["org_code"]
            for row in links_by_code.values()
            if row["org_code"] in codes and host and _host(row.get("website")) == host
        }
        if len(by_host) == 1:
            return by_host.pop()
        by_name = {
            row["org_code"]
            for row in links_by_code.values()
            if row["org_code"] in codes
            and key
            and key in (_name_key(row.get("service_name")), _name_key(row.get("org_name")))
        } | {
            p["org_code"]
            for p in providers
            if p["org_code"] in codes and key and key == _name_key(p.get("org_name"))
        }
        if by_host:
            by_name &= by_host
        return by_name.pop() if len(by_name) == 1 else None


ANNUAL_REPORTS_URL = (
    "https://digital.nhs.uk/data-and-information/publications/statistical/"
    "nhs-talking-therapies-for-anxiety-and-depression-annual-reports"
)


def expected_periods(today: str, known: Iterable[str]) -> list[str]:
    """Financial years (e.g. "2024-25") that have ended by `today` and are newer than all `known`."""
    day = date.fromisoformat(today)
    last_end = day.year if day.month >= 4 else day.year - 1  # a year ends on 31 March
    latest_known = max((int(p[:4]) for p in known), default=last_end - 2)
    return [f"{start}-{(start + 1) % 100:02d}" for start in range(latest_known + 1, last_end)]


def publication_files(html: str, page_url: str) -> list[str]:
    """Links to CSV or zip files on an NHS England publication page."""
    from urllib.parse import urljoin

    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    files = []
    for link in soup.find_all("a", href=True):
        url = urljoin(page_url, link["href"])
        if is_http_url(url) and urlsplit(url).path.lower().endswith((".csv", ".zip")) and url not in files:
            files.append(url)
    return files


class NhsStatisticsSource(StagedNhsSource):
    """NHS England's annual NHS Talking Therapies reports: a new year's files when published."""

    name = "nhs-statistics"
    description = "NHS England annual reports (main measures, therapy-based outcomes)"

    def stage(self, fetch, today, stage):
        from finder.imports.nhs import import_outcomes

        notes: list[str] = []
        configured = list(settings().nhs_stats_urls)
        if configured:
            files = configured
        else:
            outcomes = store.read_json(OUTCOMES_FILE, stage, default={}) or {}
            known = set(outcomes.get("main", {})) | set(outcomes.get("therapy", {}))
            files = []
            for period in expected_periods(today, known):
                page = fetch(f"{ANNUAL_REPORTS_URL}/{period}")
                if page.status == 404:
                    notes.append(f"{period} annual report not published yet")
                    continue
                found = publication_files(page.text, page.url)
                if not found:
                    raise ParseError(
                        f"{page.url}: the {period} publication page links no CSV or zip file; "
                        "the page layout may have changed"
                    )
                files += found
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

        return _host(str(record.get("source", ""))) == _host(iptuk.DIRECTORY_URL)

    def current(self) -> Candidate | None:
        held = super().current()
        if held is None:
            return None
        return Candidate(tuple(r for r in held.records if self._owned(r)), held.info)

    def fetch(self, fetch, today):
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

        held = store.read_json(self.file_name, default=None) or {}
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

    def fetch(self, fetch, today):
        import tempfile

        from finder.imports.postcodes import import_postcodes

        given = settings().postcodes_source or ""
        with tempfile.TemporaryDirectory(prefix="finder-postcodes-") as tmp:
            stage = Path(tmp)
            _copy_into(stage, (MANIFEST_FILE,))
            if is_http_url(given):
                path = stage / (Path(urlsplit(given).path).name or "postcodes.zip")
                fetch.download(given, path)
            else:
                path = Path(given)
            report = import_postcodes(path, directory=stage, max_shrink=None)  # --max-shrink applies
            keys = _postcode_keys(stage / POSTCODES_FILE)
            files = _changed_files(stage, POSTCODE_TABLES)
        return Candidate((), {"keys": keys, "source": report.source}, None, files, tuple(report.lines()))

    def size(self, candidate: Candidate) -> int:
        return len(candidate.info["keys"])

    def compare(self, old, new) -> ChangeSet:
        import numpy as np

        new_keys = new.info["keys"]
        old_keys = old.info["keys"] if old else np.array([], dtype=np.int64)
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
        if not len(candidate.info["keys"]):
            raise ValidationFailed("the new postcode table is empty")


def _postcode_keys(path: Path):
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=["key"]).column("key").to_numpy()


def districts_of_sub_icb(sub_icb_code: str) -> list[tuple[str, str]]:
    """The districts of a sub-ICB location (the directory's `RelatedIAPTCCGs` codes are sub-ICB,
    formerly CCG, codes), as (district code, name) pairs from data/'s area tables."""
    from finder import areas

    return [(area.district_code, area.district_name) for area in areas.districts_of_sub_icb(sub_icb_code)]


def default_sources() -> list[Source]:
    """Every source `python -m finder refresh` knows, in the order they run (ODS first: the
    directory is built on its organisations)."""
    return [
        OdsSource(),
        NhsDirectorySource(districts_of_sub_icb=districts_of_sub_icb),
        ServiceSitesSource(),
        NhsStatisticsSource(),
        IptukSource(),
        PostcodesSource(),
    ]
