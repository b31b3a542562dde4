"""`python -m finder refresh`: re-fetch every source, check it, publish only what passes.

Exit codes: 0 every source fine (updated, unchanged, or skipped as not configured); 1 at least
one source kept its previous data (the summary line says why); 2 bad usage.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from finder.cli.progress import progress_bars
from finder.errors import FinderError
from finder.settings import HTTP_CACHE_ENV as CACHE_ENV
from finder.settings import settings

HELP = "Refresh the data from its sources (each on its own; a failed source keeps its last good data)."


# The cache holds validators (ETag, Last-Modified), never answers: every page is still asked for.
# Kept well past the weekly schedule, so a run that starts late, or after a missed week, still
# finds last run's validators and unchanged pages are answered 304 instead of downloaded again.
CACHE_DAYS = 35
# The refresh's fetcher: a server asking for more than this wait (Retry-After) is tried next run,
# and one answer may take at most this long to arrive (a trickling host is cut off).
MAX_RETRY_WAIT = 30.0
MAX_BODY_SECONDS = 60.0


def _fraction(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number between 0 and 1") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1 (0.2 means 20%)")
    return value


def _seconds(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 86400 seconds")
    return value


def add_arguments(parser):
    from scrapers.refresh import (
        DEFAULT_BREAKER,
        DEFAULT_DEADLINE,
        DEFAULT_MAX_CHANGE,
        DEFAULT_SOURCE_DEADLINE,
    )

    parser.add_argument(
        "--deadline",
        type=_seconds,
        default=DEFAULT_DEADLINE,
        metavar="SECONDS",
        help=f"stop the whole run after this long; sources not finished keep their data (default {DEFAULT_DEADLINE:g})",
    )
    parser.add_argument(
        "--source-deadline",
        type=_seconds,
        default=DEFAULT_SOURCE_DEADLINE,
        metavar="SECONDS",
        help=f"time limit for each source (default {DEFAULT_SOURCE_DEADLINE:g})",
    )
    parser.add_argument(
        "--breaker",
        type=int,
        default=DEFAULT_BREAKER,
        metavar="N",
        help=f"stop asking a host after N failed requests in a row (default {DEFAULT_BREAKER})",
    )
    parser.add_argument(
        "--max-change",
        type=_fraction,
        default=DEFAULT_MAX_CHANGE,
        metavar="FRACTION",
        help="hold a source for review if more than this share of its records change name, link or "
        f"phone at once (default {DEFAULT_MAX_CHANGE:g})",
    )
    parser.add_argument(
        "--accept-mass-change",
        action="store_true",
        help="publish a change held for review by --max-change (after checking it)",
    )
    parser.add_argument(
        "--follow-symlink",
        action="store_true",
        help="when --summary-file is a symbolic link, write to the file it points to",
    )
    parser.add_argument(
        "--source",
        action="append",
        metavar="NAME",
        dest="sources",
        help="refresh only this source (repeatable); default: all. "
        "Names: ods, nhs, nhsuk, service-sites, nhs-statistics, iptuk, postcodes",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="fetch and compare, print what would change, write nothing"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print the report as one JSON object: {"sources": [{"name", "status" (ok, failed, held or '
        'skipped), "records", "self_referral_links", "phones", "with_areas", "changed", "notes"}]}',
    )
    parser.add_argument(
        "--max-shrink",
        type=_fraction,
        default=0.2,
        metavar="FRACTION",
        help="keep a source's old data if the refresh would remove more than this share "
        "of its records (default 0.2 = 20%%)",
    )
    parser.add_argument(
        "--summary-file",
        type=Path,
        metavar="PATH",
        help="also write a commit message summarising the run to PATH (a regular file; - for standard output)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help=f"do not use the conditional-request cache (default: ${CACHE_ENV} or "
        "~/.cache/ipt-finder/http.sqlite)",
    )


def cache_path(disabled: bool) -> Path | None:
    """$FINDER_HTTP_CACHE, else http.sqlite in the project's cache directory ($FINDER_CACHE_DIR,
    default ~/.cache/ipt-finder, shared with the app's live checks but in a file of its own)."""
    if disabled:
        return None
    return settings().http_cache_path


def make_fetcher(args):
    """The production fetcher; tests replace this function to point every request at 127.0.0.1."""
    from scrapers.http import Fetcher

    return Fetcher(
        cache_path=cache_path(args.no_cache),
        cache_days=CACHE_DAYS,
        max_retry_wait=MAX_RETRY_WAIT,
        max_body_seconds=MAX_BODY_SECONDS,
    )


def select_sources(available, wanted):
    if not wanted:
        return list(available)
    by_name = {source.name: source for source in available}
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        raise FinderError(f"unknown source {', '.join(unknown)}; choose from {', '.join(by_name)}")
    return [by_name[name] for name in dict.fromkeys(wanted)]


def run(args) -> int:
    from finder import store
    from scrapers import refresh

    sources = select_sources(refresh.default_sources(), args.sources)
    if args.breaker < 1:
        raise FinderError("--breaker must be at least 1")
    summary = args.summary_file
    if args.json and summary is not None and str(summary) == "-":
        raise FinderError("--json and --summary-file - would both write to standard output; give a file")
    if summary is not None and str(summary) != "-":
        # Found out now, not after every source has been fetched and published: the same checks
        # as the write itself (a regular file only), on empty content that is never written.
        _check_summary_target(summary, args.follow_symlink)
    options = refresh.RefreshOptions(
        dry_run=args.dry_run,
        max_shrink=args.max_shrink,
        deadline=args.deadline,
        source_deadline=min(args.source_deadline, args.deadline),
        breaker=args.breaker,
        max_change=args.max_change,
        accept_mass_change=args.accept_mass_change,
    )
    # Finish a publish an earlier, killed run left half-renamed before reading data/. Under the
    # writer lock only: a dry run holds no lock and must not touch another writer's files.
    store.recover_if_needed()
    fetcher = make_fetcher(args)
    progress = progress_bars()
    try:
        reports = refresh.run_refresh(sources, fetcher, options, progress)
    finally:
        if progress is not None:
            progress.close()
        close = getattr(fetcher, "close", None)
        if close:
            close()
    if args.json:
        print(json.dumps({"sources": [r.to_summary() for r in reports]}, ensure_ascii=False, indent=2))
    else:
        print_in_words(reports)
    if not args.json and args.dry_run and any(r.changes and r.changes.has_changes for r in reports):
        from finder.changes import render_markdown

        print()
        print(render_markdown(options.today, reports, dry_run=True), end="")
    wrote = refresh.write_reports(reports, options)
    if summary is not None:
        message = refresh.commit_message(options.today, reports)
        if str(summary) == "-":
            sys.stdout.write(message)
        else:
            store.write_output(summary, message.encode("utf-8"), follow_symlink=args.follow_symlink)
    stats = fetcher.stats() if hasattr(fetcher, "stats") else {}
    if stats:
        print(
            f"requests: {stats.get('requests', 0)} sent, {stats.get('downloads', 0)} bodies downloaded, "
            f"{stats.get('not_modified', 0)} unchanged (304), {stats.get('retries', 0)} retries",
            file=sys.stderr,
        )
    if wrote:
        print(
            f"change report: {refresh.CHANGES_FILE} and {refresh.REPORT_FILE} in the data directory",
            file=sys.stderr,
        )
    return refresh.exit_code(reports)


def print_in_words(reports) -> None:
    """Each source's summary line, what it read and its notes (the JSON report in sentences)."""
    for report in reports:
        print("\n".join(report.in_words()))


def _check_summary_target(path: Path, follow_symlink: bool) -> None:
    import stat

    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISLNK(mode) and not follow_symlink:
        raise FinderError(
            f"--summary-file {path} is a symbolic link; not replaced (--follow-symlink writes through it)"
        )
    target = path.resolve() if mode is not None else path
    if target.exists() and not target.is_file():
        raise FinderError(
            f"--summary-file {path} is not a regular file (a device, pipe or directory); use - for standard output"
        )
    if not target.parent.is_dir():
        raise FinderError(f"--summary-file: the directory {path.parent} does not exist")
