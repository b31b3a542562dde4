"""The one place where the project talks HTTP to other people's sites.

Every scraper's `scrape(fetch)` takes a fetcher: any callable `fetch(url, params=None,
headers=None) -> Response` that raises `FetchError` for anything that is not a usable answer.
`Fetcher` is the real one; tests pass saved pages through their own fetchers (tests/helpers.py).

INTERFACE (stable; other modules depend on it):
- Response(url, status, text, headers, from_cache)
- FetchError(url, reason) and its subclass RobotsDisallowed
- Fetcher(user_agent=USER_AGENT, min_interval=1.0, timeout=15.0, retries=3, backoff=1.0,
          cache_path=None, cache_days=7, respect_robots=True, max_retry_wait=120.0,
          max_body_seconds=120.0, max_download_seconds=1800.0).get(url, params=None, headers=None)
  and Fetcher.__call__ = get; Fetcher.stats() -> dict of request counts.
  `cache_path=":memory:"` keeps the cache in this process only (the app's register checks: the
  names people look up are never written to disk).

Politeness rules of the real `Fetcher` (the issue's "one shared HTTP layer"):
- a User-Agent naming the project and its repository;
- robots.txt honoured per host, parsed by protego (RFC 9309: the longest matching rule wins,
  wildcards, Crawl-delay). A robots.txt answering 4xx allows everything; one that answers 5xx or
  429 or cannot be reached means "do not crawl this host" for the rest of the run;
- at most one request per `min_interval` seconds per host (or the robots.txt Crawl-delay, if longer);
- a timeout on every read, and a limit on the whole answer (`max_body_seconds` for a page,
  `max_download_seconds` for a file) that is not retried; retries with exponential backoff on
  429, 5xx and network errors, waiting what `Retry-After` asks (seconds or an HTTP date) unless
  that is longer than `max_retry_wait`, in which case the page counts as failed for this run;
- conditional requests through requests-cache: a page that came with an ETag or Last-Modified is
  kept (SQLite at `cache_path`, or memory) and asked for again with If-None-Match /
  If-Modified-Since, so an unchanged page is answered 304 and not downloaded again. The cache
  ALWAYS revalidates (entries expire the moment they are stored and carry a validator, and a
  failed revalidation raises instead of falling back to the stored copy), so every call still
  asks the server: a 304 *is* a re-check, and "last verified" stays honest. Entries first stored
  more than `cache_days` ago are dropped when a fetcher opens the cache.
  `download()` keeps a copy of each file beside the cache, so an unchanged statistics zip or
  postcode release is not downloaded again either;
- only http(s) URLs, redirects included; every host is checked to be a public address; a
  redirect to another origin keeps only harmless request headers (never an API key, which is also
  left out of what the cache stores); a body shorter than its Content-Length raises FetchError;
  a 404 is returned as a Response (callers decide what a missing page means), other 4xx raise.

What stays hand-written, and why:
- The redirect loop. Each hop is checked before it is requested (http(s) only, a public address,
  robots.txt, the host's rate limit), which requests' own redirect following cannot do; so every
  request goes out with `allow_redirects=False` and requests-cache keeps one entry per hop.
- Reading the body. requests-cache 1.3 reads a cacheable answer's whole body as soon as it arrives
  (even with stream=True), with no byte limit and no deadline. So the Fetcher reads every body in
  a requests `response` hook, which runs before requests-cache stores anything: the byte cap
  (after decompression: a gzip bomb stops at the cap), the whole-answer watchdog and the
  truncation checks apply to every answer, and a cut-short body is never cached.
- Downloads bypass the page cache: a statistics zip or a postcode release (hundreds of MB) belongs
  in a file, not in a row of the cache database or in memory. Its copy and its validators (a small
  JSON file) are kept beside the cache, and the conditional request is built here.
- The retry loop, rather than urllib3's `Retry`: the refresh has a deadline per source and per run
  that must bound the retries, the waits that `Retry-After` asks for and a slowly trickling body
  together; a Retry-After longer than `max_retry_wait` means "failed this run", not a shorter
  wait; a truncated body is retried like a network error; and `Retry` sleeps inside urllib3
  with the real clock, where the politeness waits here share one injectable clock.
"""

from __future__ import annotations

import email.utils
import hashlib
import ipaddress
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin, urlsplit

from protego import Protego

from finder import PROJECT_NAME, PROJECT_URL
from finder.schema import is_http_url  # the one link rule: http(s), a host, no user name
from finder.settings import settings

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
# Request headers and parameters the cache must never store (requests-cache redacts them).
SECRET_PARAMETERS = ("apikey",)
MEMORY = ":memory:"  # the cache_path that keeps the cache in this process only
VALIDATORS = ("etag", "last-modified")


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)
    from_cache: bool = False


@dataclass(frozen=True)
class Download:
    path: Path
    not_modified: bool
    size: int


class FetchError(Exception):
    """The page could not be fetched: network down, timeout, HTTP error after retries, robots.txt."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class RobotsDisallowed(FetchError):
    pass


@dataclass(frozen=True, kw_only=True)
class Budget:
    """What one kind of request may take: the whole answer's seconds and bytes, how many attempts,
    whether its answer may be kept in the page cache and whether robots.txt is asked first."""

    seconds: float
    max_bytes: int
    attempts: int
    cached: bool = True
    robots: bool = True


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


def incomplete_body(url: str, content_type: str, body: bytes) -> str | None:
    """Why a body that came without a Content-Length is evidently cut short, where its format
    allows telling: JSON that does not parse, a CSV without its final newline, HTML without its
    closing tag, a zip without its central directory. None when it looks whole (or can't tell)."""
    kind = content_type.split(";")[0].strip().lower()
    path = urlsplit(url).path.lower()
    if kind.endswith("json") or path.endswith(".json"):
        try:
            json.loads(body)
        except ValueError:
            return "the JSON does not parse to its end"
    elif kind in ("text/csv", "application/csv") or path.endswith(".csv"):
        if not body.endswith(b"\n"):
            return "the CSV ends without its final newline"
    elif kind == "text/html" or path.endswith((".html", ".htm")):
        if b"</html" not in body[-4096:].lower():
            return "the HTML ends before its closing </html> tag"
    elif kind in ("application/zip", "application/x-zip-compressed") or path.endswith(".zip"):
        if b"PK\x05\x06" not in body[-70_000:]:
            return "the zip has no central directory at its end"
    return None


def body_text(reply: requests.Response) -> str:
    """The body as text: in the charset the server declares, else UTF-8 (what pages almost always
    declare inside themselves; HTTP's ISO-8859-1 default would publish "SiobhÃ¡n" for "Siobhán"),
    else Windows-1252, the usual older alternative."""
    if "charset=" in reply.headers.get("Content-Type", "").lower():
        return str(reply.text)
    content: bytes = reply.content
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


# -- reading a body within its limits ------------------------------------------------------------
def _read_capped(url: str, reply: requests.Response, limit: int) -> None:
    """Read the body (decompressed) into the reply, refusing more than `limit` bytes."""
    chunks: list[bytes] = []
    total = 0
    for chunk in reply.iter_content(65536):
        total += len(chunk)
        if total > limit:
            reply.close()
            raise FetchError(url, f"answer is over the {limit:,}-byte limit; not read further")
        chunks.append(chunk)
    reply._content = b"".join(chunks)
    reply._content_consumed = True


def read_body(url: str, reply: requests.Response, max_seconds: float, limit: int) -> None:
    """Read the whole body within `max_seconds` and `limit` bytes. The timeout bounds each read,
    not the answer: a server sending a byte now and then would hold the refresh for hours. A
    watchdog shuts the answer down (urllib3's shutdown() is made to interrupt a read in another
    thread)."""
    declared = reply.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        reply.close()
        raise FetchError(url, f"answer of {int(declared):,} bytes is over the {limit:,}-byte limit")
    shutdown = getattr(reply.raw, "shutdown", None)
    if shutdown is None:  # urllib3 older than 2.3: the per-read timeout is all there is
        _read_capped(url, reply, limit)
        return
    stopped = threading.Event()

    def stop() -> None:
        stopped.set()
        shutdown()

    watchdog = threading.Timer(max_seconds, stop)
    watchdog.daemon = True
    watchdog.start()
    try:
        _read_capped(url, reply, limit)
    except Exception:
        if not stopped.is_set():
            raise
    finally:
        watchdog.cancel()
    if stopped.is_set():
        reply.close()
        raise FetchError(url, f"answer still arriving after {max_seconds:g} s; not waiting any longer")


def check_complete(url: str, reply: requests.Response) -> bytes:
    """The body, or FetchError when fewer bytes arrived than Content-Length announced, or, without a
    Content-Length, when the format shows the body was cut short."""
    body: bytes = reply.content
    expected = reply.headers.get("Content-Length")
    if (
        expected
        and expected.isdigit()
        and not reply.headers.get("Content-Encoding")
        and len(body) != int(expected)
    ):
        raise FetchError(url, f"truncated body: {len(body)} of {expected} bytes")
    if not expected and reply.status_code == 200 and body:
        problem = incomplete_body(url, reply.headers.get("Content-Type", ""), body)
        if problem:
            raise FetchError(url, f"truncated body (no Content-Length): {problem}")
    return body


def body_reader(url: str, max_seconds: float, limit: int) -> Callable[..., None]:
    """A requests `response` hook that reads the answer's body within its limits and checks it is
    whole. It runs before requests-cache sees the answer, so nothing over a limit or cut short is
    ever stored. It reads once: requests-cache dispatches the hook again on what it returns."""
    done = False

    def read(reply: requests.Response, *_args: object, **_kwargs: object) -> None:
        nonlocal done
        if done:
            return
        done = True
        read_body(url, reply, max_seconds, limit)
        check_complete(url, reply)

    return read


# -- the caches ----------------------------------------------------------------------------------
def _has_validator(headers: Mapping[str, str]) -> bool:
    return any(headers.get(name) for name in VALIDATORS)


def _worth_keeping(reply: requests.Response) -> bool:
    """requests-cache's filter: a 200 is kept only with a validator (nothing else could be
    revalidated, and an entry without one would be served without asking) and without no-store."""
    if reply.status_code != 200:
        return True  # requests-cache keeps only 200s anyway; a passing error must not evict an entry
    return _has_validator(reply.headers) and "no-store" not in reply.headers.get("Cache-Control", "")


def open_session(cache_path: str | Path | None, cache_days: float) -> requests.Session:
    """A requests session; with a cache_path, a requests-cache session that always revalidates."""
    import requests

    if cache_path is None:
        return requests.Session()
    from requests_cache import DEFAULT_IGNORED_PARAMS, EXPIRE_IMMEDIATELY, CachedSession
    from requests_cache.backends.sqlite import SQLiteCache

    backend: str | SQLiteCache = "memory"
    if str(cache_path) != MEMORY:
        path = Path(cache_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # JSON, not pickle: a cache file is read back without running code from it.
        backend = SQLiteCache(path, serializer="json", wal=True)
    session = CachedSession(
        backend=backend,
        # Expired from the moment it is stored: every use asks the server (If-None-Match /
        # If-Modified-Since), and a failed revalidation is an error, never the stored copy.
        expire_after=EXPIRE_IMMEDIATELY,
        always_revalidate=True,
        stale_if_error=False,
        cache_control=False,  # a server's max-age must not let a page skip the re-check
        allowable_codes=(200,),
        filter_fn=_worth_keeping,
        ignored_parameters=(*DEFAULT_IGNORED_PARAMS, *SECRET_PARAMETERS),
    )
    session.cache.delete(older_than=timedelta(days=cache_days))
    return session


class KeptCopies:
    """Downloaded files kept beside the cache, each with the validators it came with, so an
    unchanged file is revalidated (304) instead of downloaded into each new staging directory."""

    def __init__(self, directory: Path, max_age_days: float):
        self.directory = directory
        self.max_age = max_age_days * 86400

    def _paths(self, url: str) -> tuple[Path, Path]:
        name = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
        return self.directory / name, self.directory / f"{name}.json"

    def find(self, url: str) -> tuple[Path, dict[str, str]] | None:
        """The kept copy and the conditional-request headers that describe it (None: no copy)."""
        copy, meta = self._paths(url)
        if not (copy.exists() and meta.exists()) or meta.stat().st_mtime < time.time() - self.max_age:
            return None
        stored = json.loads(meta.read_text(encoding="utf-8"))
        headers = {"If-None-Match": stored.get("etag"), "If-Modified-Since": stored.get("last-modified")}
        return copy, {k: v for k, v in headers.items() if v}

    def confirmed(self, url: str) -> None:
        os.utime(self._paths(url)[1])

    def keep(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        copy, meta = self._paths(url)
        lowered = {k.lower(): v for k, v in headers.items()}
        validators = {name: lowered[name] for name in VALIDATORS if lowered.get(name)}
        meta.unlink(missing_ok=True)  # validators must never describe an older copy
        if validators and "no-store" not in lowered.get("cache-control", ""):
            _write_file(copy, body)
            _write_file(meta, json.dumps(validators).encode("utf-8"))


def _write_file(path: Path, content: bytes) -> None:
    """Write through a .part file and a rename, so a killed run never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(content)
    partial.replace(path)


# -- the fetcher ---------------------------------------------------------------------------------
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
            _write_file(destination, kept[0].read_bytes())
            return Download(destination, True, destination.stat().st_size)
        if reply.status_code != 200:
            raise FetchError(final_url, f"HTTP {reply.status_code}")
        body: bytes = reply.content
        _write_file(destination, body)
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
