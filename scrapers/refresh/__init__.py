"""The scheduled refresh: fetch every source again, check it, and publish only what passes.

- `runner`: Candidate, Source, RefreshOptions, the per-source limits (CountingFetch),
  refresh_source, run_refresh, the change reports and exit_code;
- `sources`: the adapters of the real sources and `default_sources()`; the NHS ones share the
  staging of `staging`;

`from scrapers import refresh` gives all of them as `refresh.X`. The CLI looks
`refresh.default_sources` up here at run time, so a test replaces it on this package.
"""

from finder.changes import commit_message
from scrapers.refresh.runner import (
    CHANGES_FILE,
    DEFAULT_BREAKER,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_CHANGE,
    DEFAULT_MAX_SHRINK,
    DEFAULT_SOURCE_DEADLINE,
    MASS_CHANGE_MIN,
    REPORT_FILE,
    REVIEW_FIELDS,
    Candidate,
    CircuitOpen,
    CountingFetch,
    DeadlineReached,
    Fetch,
    RecordFileSource,
    RefreshOptions,
    RunReports,
    Source,
    ValidationFailed,
    exit_code,
    held_for_review,
    publish_files,
    refresh_source,
    report_files,
    report_json,
    run_refresh,
    why_failed,
    write_reports,
)
from scrapers.refresh.sources import (
    IptukSource,
    NhsDirectorySource,
    NhsStatisticsSource,
    NhsukDirectorySource,
    OdsSource,
    PostcodesSource,
    ServiceSitesSource,
    default_sources,
    directory_areas,
    districts_of_sub_icb,
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
