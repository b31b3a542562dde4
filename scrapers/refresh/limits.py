"""What a refresh run may do: its options, the time limits of the run and of each source, the
per-host circuit breaker (`CountingFetch`, the fetch every source is given) and the changes held for
a person to review (`held_for_review`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, cast
from urllib.parse import urlsplit

from finder.changes import ChangeSet
from scrapers.http import Download, FetchError, Response

Fetch = Callable[..., Response]

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


class Downloader(Protocol):
    """A fetcher that can also save a file (the statistics zips, a postcode release)."""

    def download(self, url: str, destination: Path) -> Download: ...


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
