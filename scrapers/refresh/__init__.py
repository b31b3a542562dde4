"""The scheduled refresh: fetch every source again, check it, and publish only what passes.

- `limits`: RefreshOptions, the time limits and circuit breaker of each source (CountingFetch) and
  the changes held for review;
- `source`: what a source is (Source, Candidate, RecordFileSource) and the guarded publish;
- `runner`: refresh_source and run_refresh, each source on its own;
- `reports`: data/CHANGES.md, refresh-report.json and exit_code;
- `sources`: the adapters of the real sources and `default_sources()`; the NHS ones share the
  staging of `staging`, and the NHS directory (API or nhs.uk pages) has `directory`;

`from scrapers import refresh` gives all of them as `refresh.X`. The CLI looks
`refresh.default_sources` up here at run time, so a test replaces it on this package.
"""

from finder.changes import commit_message
from scrapers.refresh.directory import (
    NhsDirectorySource,
    NhsukDirectorySource,
    directory_areas,
    districts_of_sub_icb,
)
from scrapers.refresh.limits import (
    DEFAULT_BREAKER,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_CHANGE,
    DEFAULT_MAX_SHRINK,
    DEFAULT_SOURCE_DEADLINE,
    MASS_CHANGE_MIN,
    REVIEW_FIELDS,
    CircuitOpen,
    CountingFetch,
    DeadlineReached,
    Fetch,
    RefreshOptions,
    held_for_review,
)
from scrapers.refresh.reports import (
    CHANGES_FILE,
    REPORT_FILE,
    RunReports,
    exit_code,
    report_files,
    report_json,
    write_reports,
)
from scrapers.refresh.runner import refresh_source, run_refresh, why_failed
from scrapers.refresh.source import Candidate, RecordFileSource, Source, ValidationFailed, publish_files
from scrapers.refresh.sources import (
    IptukSource,
    NhsStatisticsSource,
    OdsSource,
    PostcodesSource,
    ServiceSitesSource,
    default_sources,
)
from scrapers.refresh.staging import StagedNhsSource

__all__ = [
    "CHANGES_FILE",
    "DEFAULT_BREAKER",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_CHANGE",
    "DEFAULT_MAX_SHRINK",
    "DEFAULT_SOURCE_DEADLINE",
    "MASS_CHANGE_MIN",
    "REPORT_FILE",
    "REVIEW_FIELDS",
    "Candidate",
    "CircuitOpen",
    "CountingFetch",
    "DeadlineReached",
    "Fetch",
    "IptukSource",
    "NhsDirectorySource",
    "NhsStatisticsSource",
    "NhsukDirectorySource",
    "OdsSource",
    "PostcodesSource",
    "RecordFileSource",
    "RefreshOptions",
    "RunReports",
    "ServiceSitesSource",
    "Source",
    "StagedNhsSource",
    "ValidationFailed",
    "commit_message",
    "default_sources",
    "directory_areas",
    "districts_of_sub_icb",
    "exit_code",
    "held_for_review",
    "publish_files",
    "refresh_source",
    "report_files",
    "report_json",
    "run_refresh",
    "why_failed",
    "write_reports",
]
