"""The refresh runner: run each source on its own, check it, and publish only what passes.

Each source is a small adapter (`Source`, see scrapers/refresh/source.py; the real ones are in
sources.py): it fetches and parses with the shared polite fetcher, loads the records currently in
`data/`, validates, and publishes its files atomically through `finder.store.publish`.
`run_refresh` runs the adapters one after another, each on its own: a failure in one (network,
robots.txt, changed layout, empty page, a shrink beyond `max_shrink`) keeps that source's last good
data, is reported with the reason, and never stops the others.

Exit codes for the CLI (`exit_code`, in reports.py): 0 every source fine (updated, unchanged or
skipped because it is not configured), 1 at least one source kept its previous data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from finder import store
from finder.changes import ChangeSet, SourceReport, carry_last_verified
from finder.errors import FinderError, ParseError, SourceFormatError
from scrapers.http import FetchError, RobotsDisallowed
from scrapers.refresh.limits import CountingFetch, Fetch, RefreshOptions, held_for_review
from scrapers.refresh.reports import RunReports, changes_text, report_files
from scrapers.refresh.source import Candidate, Source, ValidationFailed, publish_files


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


def run_refresh(
    sources: Sequence[Source],
    fetch: Fetch,
    options: RefreshOptions,
    progress: Callable[[str], Callable[[], None] | None] | None = None,
) -> RunReports:
    """Refresh each source on its own, in order. `progress(name)` may return a per-request tick.

    Each source that publishes writes the change report so far along with its data."""
    reports = RunReports()
    reports.changes_before = changes_text()
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
