"""The polite `Fetcher` every scraper gets in production: the rules are in the package's docstring.

What it writes by hand, and why:
- The redirect loop. Each hop is checked before it is requested (http(s) only, a public address,
  robots.txt, the host's rate limit), which requests' own redirect following cannot do; so every
  request goes out with `allow_redirects=False` and requests-cache keeps one entry per hop.
- The retry loop, rather than urllib3's `Retry`: the refresh has a deadline per source and per run
  that must bound the retries, the waits that `Retry-After` asks for and a slowly trickling body
  together; a Retry-After longer than `max_retry_wait` means "failed this run", not a shorter
  wait; a truncated body is retried like a network error; and `Retry` sleeps inside urllib3
  with the real clock, where the politeness waits here share one injectable clock.
"""

from __future__ import annotations

import email.utils
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin, urlsplit

from protego import Protego

from finder import PROJECT_NAME, PROJECT_URL
from finder.schema import is_http_url  # the one link rule: http(s), a host, no user name
from finder.settings import settings
from scrapers.http.answers import Budget, Download, FetchError, Response, RobotsDisallowed
from scrapers.http.bodies import body_reader, body_text
from scrapers.http.caches import MEMORY, KeptCopies, open_session, write_file

if TYPE_CHECKING:
    import requests

ROBOTS_MAX_BYTES = 500_000  # RFC 9309 asks crawlers to read at least 500 KiB
USER_AGENT = f"{PROJECT_NAME}/0.1 (+{PROJECT_URL}; finds NHS talking therapies and IPT practitioners)"

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5  # RFC 9309 asks for at least five for robots.txt; pages get the same
MAX_CRAWL_DELAY = 30.0  # a robots.txt Crawl-delay longer than this is capped, not obeyed for hours
# The caller's headers that may follow a redirect to another origin; the rest (an API key such as
# the NHS Service Search `apikey`) stay with the site they were meant for.
CROSS_ORIGIN_HEADERS = frozenset({"accept", "accept-language"})


def full_url(url: str, params: Mapping[str, object] | None) -> str:
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params, doseq=True)}"


def check_public_address(url: str) -> None:
    """Refuse a host that resolves to a loopback, private, link-local or otherwise non-public
    address: URLs come from data and from pages, and a refresh must never be steered at the
    machine's own services or a cloud metadata endpoint. (The address is checked, not pinned: a
    host that changes its DNS between this check and the request is not caught.)"""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise FetchError(url, f"cannot resolve {host!r}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global or address.is_multicast:
            raise FetchError(url, f"{host} is a non-public address ({address}); not fetched")


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


STAT_KEYS = (
    "requests",
    "robots_requests",
    "downloads",
    "not_modified",
    "cache_hits",
    "retries",
    "failures",
    "robots_disallowed",
    "bytes",
)


class Fetcher:
    """The polite fetcher every scraper gets in production (see the module docstring)."""

    def __init__(
        self,
        *,
        user_agent: str = USER_AGENT,
        min_interval: float = 1.0,
        timeout: float = 15.0,
        retries: int = 3,
        backoff: float = 1.0,
        cache_path: str | Path | None = None,
        cache_days: float = 7,
        respect_robots: bool = True,
        max_retry_wait: float = 120.0,
        max_body_seconds: float = 120.0,
        max_download_seconds: float = 1800.0,
        max_bytes: int = 20_000_000,
        max_download_bytes: int = 1_000_000_000,
        allow_private: bool | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.session = open_session(cache_path, cache_days)
        self.session.headers["User-Agent"] = user_agent
        self.user_agent = user_agent
        self.min_interval = min_interval
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.respect_robots = respect_robots
        self.max_retry_wait = max_retry_wait
        self.max_body_seconds = max_body_seconds
        # How long a page is kept (always re-checked before use); None: no cache.
        self.cache_days = cache_days if cache_path is not None else None
        self._purged_at = clock()
        # Bytes after decompression: a page (or a gzip bomb) can't fill the machine's memory.
        self._page = Budget(seconds=max_body_seconds, max_bytes=max_bytes, attempts=retries + 1)
        self._file = replace(
            self._page, seconds=max_download_seconds, max_bytes=max_download_bytes, cached=False
        )
        self._robots_budget = replace(
            self._page, max_bytes=ROBOTS_MAX_BYTES, attempts=1, cached=False, robots=False
        )
        # Tests serve pages from 127.0.0.1 and say so with FINDER_ALLOW_PRIVATE_HOSTS=1.
        self.allow_private = settings().allow_private_hosts if allow_private is None else allow_private
        self._sleep = sleep
        self._clock = clock
        self._time_left: Callable[[], float | None] | None = None
        self.kept: KeptCopies | None = None
        if cache_path is not None and str(cache_path) != MEMORY:
            self.kept = KeptCopies(Path(cache_path).parent / "downloads", cache_days)
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}  # host -> earliest time of its next request
        self._host_interval: dict[str, float] = {}
        self._robots: dict[str, Protego | str] = {}  # origin -> rules, or why it is closed
        self._stats = dict.fromkeys(STAT_KEYS, 0)

    # -- public -------------------------------------------------------------------------------
    def get(
        self,
        url: str,
        params: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        url = full_url(url, params)
        if not is_http_url(url):
            raise FetchError(url, "only http(s) URLs are fetched")
        try:
            return self._get(url, dict(headers or {}))
        except FetchError:
            self._count("failures")
            raise

    __call__ = get

    def download(self, url: str, destination: str | Path) -> Download:
        """Save a (binary) file such as a statistics zip to `destination`, politely.

        When the fetcher kept a copy of the file beside its cache (the refresh downloads into a
        new staging directory each run) and the server confirms it is unchanged (304), no body is
        downloaded: `destination` is filled from the copy, and `not_modified` is True."""
        destination = Path(destination)
        if not is_http_url(url):
            raise FetchError(url, "only http(s) URLs are fetched")
        try:
            return self._download(url, destination)
        except FetchError:
            self._count("failures")
            raise

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self._stats)

    def set_time_left(self, time_left: Callable[[], float | None] | None) -> None:
        """The caller's remaining time (seconds), or None for no limit: no request, retry wait or
        slow answer is allowed to outlast it (the refresh sets each source's deadline here)."""
        self._time_left = time_left

    def close(self) -> None:
        self.session.close()

    # -- pages and files ----------------------------------------------------------------------
    def _get(self, url: str, headers: dict[str, str]) -> Response:
        self._purge_old_pages()
        url, reply = self._follow(url, headers, self._page)
        status = reply.status_code
        if getattr(reply, "from_cache", False):
            # requests-cache answered from its copy after the server said 304 Not Modified.
            self._count("not_modified")
            self._count("cache_hits")
            return Response(reply.url or url, status, body_text(reply), dict(reply.headers), True)
        if status >= 400 and status != 404:
            attempts = f" after {self.retries + 1} attempts" if status in RETRYABLE_STATUSES else ""
            raise FetchError(url, f"HTTP {status}{attempts}")
        self._count("downloads")
        self._count("bytes", len(reply.content))
        return Response(reply.url or url, status, body_text(reply), dict(reply.headers))

    def _purge_old_pages(self) -> None:
        """Drop pages first kept more than `cache_days` ago, hourly: the app runs for weeks, and
        the register pages in its memory carry the names people looked up."""
        cache = getattr(self.session, "cache", None)
        if cache is None or self.cache_days is None or self._clock() - self._purged_at < 3600:
            return
        try:
            cache.delete(older_than=timedelta(days=self.cache_days))
        except RuntimeError:  # another thread stored a page meanwhile (memory is a dict): next call
            return
        self._purged_at = self._clock()

    def _download(self, url: str, destination: Path) -> Download:
        kept = self.kept.find(url) if self.kept is not None else None
        final_url, reply = self._follow(url, dict(kept[1]) if kept else {}, self._file)
        if reply.status_code == 304 and kept is not None and self.kept is not None:
            self._count("not_modified")
            self.kept.confirmed(url)
            write_file(destination, kept[0].read_bytes())
            return Download(destination, True, destination.stat().st_size)
        if reply.status_code != 200:
            raise FetchError(final_url, f"HTTP {reply.status_code}")
        body: bytes = reply.content
        write_file(destination, body)
        self._count("downloads")
        self._count("bytes", len(body))
        if self.kept is not None:
            self.kept.keep(url, body, reply.headers)
        return Download(destination, False, len(body))

    def _follow(self, url: str, headers: dict[str, str], budget: Budget) -> tuple[str, requests.Response]:
        """GET with redirects followed by hand, so every hop is checked before it is requested:
        http(s) only, a public address, robots.txt and the per-host rate limit. Returns the final
        URL and reply."""
        requested = url
        for _hop in range(MAX_REDIRECTS + 1):
            if not self.allow_private:
                check_public_address(url)
            if budget.robots and self.respect_robots:
                self._check_robots(url)
            reply = self._request_with_retries(url, headers, budget)
            location = reply.headers.get("Location")
            if reply.status_code not in REDIRECT_STATUSES or not location:
                return url, reply
            target = urljoin(url, location)
            if not is_http_url(target):
                raise FetchError(url, f"redirected to a non-http(s) URL {target[:80]!r}")
            if urlsplit(target)[:2] != urlsplit(url)[:2]:
                headers = {k: v for k, v in headers.items() if k.lower() in CROSS_ORIGIN_HEADERS}
            # A download's validators describe the file at the first URL, not where it now points.
            headers = {k: v for k, v in headers.items() if k not in ("If-None-Match", "If-Modified-Since")}
            url = target
        raise FetchError(requested, f"more than {MAX_REDIRECTS} redirects")

    # -- one request, retried -----------------------------------------------------------------
    def _request_with_retries(self, url: str, headers: dict[str, str], budget: Budget) -> requests.Response:
        host = urlsplit(url).netloc
        for attempt in range(budget.attempts):
            last = attempt == budget.attempts - 1
            self._wait_turn(host)
            reply, problem, error = self._attempt(url, headers, budget)
            asked = None
            if reply is not None:
                if reply.status_code not in RETRYABLE_STATUSES:
                    return reply
                problem = f"HTTP {reply.status_code}"
                asked = self._asked_wait(url, problem, reply)
                if last:
                    return reply
            if last:
                raise FetchError(url, f"{problem} after {budget.attempts} attempts") from error
            self._pause(url, problem, self.backoff * (2**attempt) if asked is None else asked)
        raise AssertionError("unreachable")  # budget.attempts is at least one

    def _attempt(
        self, url: str, headers: dict[str, str], budget: Budget
    ) -> tuple[requests.Response | None, str, Exception | None]:
        """One request with its body read: the reply, or None, what went wrong and the error."""
        import requests

        left = self._left()
        if left is not None and left <= 0:
            raise FetchError(url, "time limit reached before this request; left for the next run")
        seconds = budget.seconds if left is None else max(0.1, min(budget.seconds, left))
        options: dict[str, Any] = {}
        if not budget.cached and hasattr(self.session, "cache"):
            from requests_cache import DO_NOT_CACHE

            options["expire_after"] = DO_NOT_CACHE  # neither read nor written
        self._count("requests")
        try:
            reply = self.session.request(
                "GET",
                url,
                headers=headers,
                timeout=self.timeout if left is None else max(0.1, min(self.timeout, left)),
                allow_redirects=False,
                stream=True,
                # Read inside the attempt, so a truncated body fails inside the retry loop.
                hooks={"response": [body_reader(url, seconds, budget.max_bytes)]},
                **options,
            )
        except requests.Timeout as error:
            return None, f"no answer within {self.timeout:g} s", error
        except requests.exceptions.ChunkedEncodingError as error:
            return None, "truncated body (connection closed early)", error
        except requests.RequestException as error:
            return None, f"network error ({type(error).__name__})", error
        return reply, "", None

    def _asked_wait(self, url: str, problem: str, reply: requests.Response) -> float | None:
        """The wait a Retry-After asks for; FetchError when it is longer than we wait in a run."""
        asked = retry_after_seconds(reply.headers.get("Retry-After"))
        if asked is not None and asked > self.max_retry_wait:
            raise FetchError(
                url,
                f"{problem}; server asked to retry after {asked:.0f} s "
                f"(more than {self.max_retry_wait:.0f} s): try next run",
            )
        return asked

    def _pause(self, url: str, problem: str, wait: float) -> None:
        wait = min(max(wait, 0.0), self.max_retry_wait)
        left = self._left()
        if left is not None and wait >= left:
            raise FetchError(url, f"{problem}; a retry would pass the time limit, try next run")
        self._count("retries")
        self._sleep(wait)

    def _left(self) -> float | None:
        return self._time_left() if self._time_left is not None else None

    def _count(self, key: str, amount: int = 1) -> None:
        with self._lock:
            self._stats[key] += amount

    def _wait_turn(self, host: str) -> None:
        """Reserve the host's next request slot and sleep until it comes."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + self._host_interval.get(host, self.min_interval)
        if slot > now:
            self._sleep(slot - now)

    # -- robots.txt ---------------------------------------------------------------------------
    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            rules = self._robots.get(origin)
        if rules is None:
            rules = self._load_robots(origin)
            with self._lock:
                self._robots[origin] = rules
        if isinstance(rules, str):
            self._count("robots_disallowed")
            raise RobotsDisallowed(url, rules)
        if not rules.can_fetch(url, self.user_agent):
            self._count("robots_disallowed")
            raise RobotsDisallowed(url, "disallowed by robots.txt")

    def _load_robots(self, origin: str) -> Protego | str:
        """The host's rules, or why it is not crawled this run. Redirects are followed with the
        same checks as pages (RFC 9309: at least five)."""
        self._count("robots_requests")
        try:
            _url, reply = self._follow(f"{origin}/robots.txt", {}, self._robots_budget)
        except FetchError as error:
            kind = type(error.__cause__ or error).__name__  # ConnectionError, ReadTimeout, FetchError
            return f"robots.txt could not be fetched ({kind}); not crawling this host this run"
        if reply.status_code >= 500 or reply.status_code == 429:
            # A host that is down or asks us to slow down is not crawled (RFC 9309 2.3.1.4; a 429
            # is the server saying "too many requests", never "no rules").
            return f"robots.txt answered HTTP {reply.status_code}; not crawling this host this run"
        if reply.status_code >= 400:
            return Protego.parse("")  # RFC 9309: an unavailable (4xx) robots.txt allows everything
        rules = Protego.parse(body_text(reply))
        delay = rules.crawl_delay(self.user_agent)
        if delay:
            with self._lock:
                self._host_interval[urlsplit(origin).netloc] = max(
                    self.min_interval, min(float(delay), MAX_CRAWL_DELAY)
                )
        return rules
