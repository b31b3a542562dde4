"""The run's reports: data/CHANGES.md (each run's section on top) and data/refresh-report.json,
published with the data they describe, and the exit code (0 every source fine, 1 at least one kept
its previous data)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from finder import store
from finder.changes import SourceReport, commit_message, prepend_run, render_markdown
from scrapers.refresh.limits import RefreshOptions
from scrapers.refresh.source import publish_files

CHANGES_FILE = "CHANGES.md"
REPORT_FILE = "refresh-report.json"


class RunReports(list):
    """run_refresh's reports, one per source, with data/CHANGES.md as the run found it: each
    publish rewrites this run's section on top of that text (see `report_files`)."""

    changes_before: str | None = None


def changes_text() -> str | None:
    path = store.data_dir() / CHANGES_FILE
    return path.read_text(encoding="utf-8") if path.exists() else None


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
    before = reports.changes_before if isinstance(reports, RunReports) else changes_text()
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
