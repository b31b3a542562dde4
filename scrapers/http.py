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

Politeness rules of the real `Fetcher` (the issue's "one shared HTTP layer"):
- a User-Agent naming the project and its repository;
- robots.txt honoured per host (RFC 9309: a robots.txt answering 4xx allows everything; one that
  answers 5xx or 429 or cannot be reached means "do not crawl this host" for the rest of the run);
- at most one request per `min_interval` seconds per host (or the robots.txt Crawl-delay, if longer);
- a timeout on every read, and a limit on the whole answer (`max_body_seconds` for a page,
  `max_download_seconds` for a file) that is not retried; retries with exponential backoff on
  429, 5xx and network errors, waiting what `Retry-After` asks (seconds or an HTTP date) unless
  that is longer than `max_retry_wait`, in which case the page counts as failed for this run;
- conditional requests: a page that came with an ETag or Last-Modified is stored in a small SQLite
  cache at `cache_path`, and asked for again with If-None-Match / If-Modified-Since, so an unchanged
  page is answered 304 and not downloaded again. Entries older than `cache_days` are dropped.
  Every call still asks the server (a 304 *is* a re-check), so "last verified" stays honest.
  `download()` keeps a copy of each file beside the cache, so an unchanged statistics zip or
  postcode release is not downloaded again either;
- only http(s) URLs, redirects included; a redirect to another origin keeps only harmless request
  headers (never an API key); a body shorter than its Content-Length raises FetchError;
  a 404 is returned as a Response (callers decide what a missing page means), other 4xx raise.

Why the retry loop is written here rather than urllib3's `Retry`: the refresh has a deadline per
source and per run that must bound the retries, the waits that `Retry-After` asks for and a slowly
trickling body together, and `Retry` sees only the first two, one request at a time.
"""

from __future__ import annotations

import email.utils
import hashlib
import ipaddress
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

from finder import PROJECT_NAME, PROJECT_URL
from finder.schema import is_http_url  # the one link rule: http(s), a host, no user name
from finder.settings import settings

ROBOTS_MAX_REDIRECTS = 5
ROBOTS_MAX_BYTES = 500_000  # RFC 9309 asks crawlers to read at least 500 KiB
USER_AGENT = f"{PROJECT_NAME}/0.1 (+{PROJECT_URL}; finds NHS talking therapies and IPT practitioners)"

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 5
MAX_CRAWL_DELAY = 30.0  # a robots.txt Crawl-delay longer than this is capped, not obeyed for hours
# The caller's headers that may follow a redirect to another origin; the rest (an API key such as
# the NHS Service Search `subscription-key`) stay with the site they were meant for.
CROSS_ORIGIN_HEADERS = frozenset({"accept", "accept-language"})


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


def full_url(url: str, params: Mapping[str, object] | None) -> str:
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params, doseq=True)}"


def _read_capped(url: str, reply, limit: int) -> None:
    """Read the body (decompressed) into the reply, refusing more than `limit` bytes."""
    chunks, total = [], 0
    for chunk in reply.iter_content(65536):
        total += len(chunk)
        if total > limit:
            reply.close()
            raise FetchError(url, f"answer is over the {limit:,}-byte limit; not read further")
        chunks.append(chunk)
    reply._content = b"".join(chunks)
    reply._content_consumed = True


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


def _write_file(path: Path, content: bytes) -> None:
    """Write through a .part file and a rename, so a killed run never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(content)
    partial.replace(path)


def body_text(reply) -> str:
    """The body as text: in the charset the server declares, else UTF-8 (what pages almost always
    declare inside themselves; HTTP's ISO-8859-1 default would publish "SiobhÃ¡n" for "Siobhán"),
    else Windows-1252, the usual older alternative."""
    if "charset=" in reply.headers.get("Content-Type", "").lower():
        return reply.text
    try:
        return reply.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return reply.content.decode("cp1252", errors="replace")


class ConditionalCache:
    """ETag / Last-Modified store in SQLite: url -> validators and the last body received.

    Only pages that carry a validator are stored (nothing else could be revalidated); the file
    lives outside data/ (it is a cache, not published data)."""

    def __init__(self, path: Path, max_age_days: float):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_age = max_age_days * 86400
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        # A cache, not a record: losing the last write in a crash only costs one re-download.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS pages (url TEXT PRIMARY KEY, status INTEGER, etag TEXT, "
            "last_modified TEXT, headers TEXT, body TEXT, final_url TEXT, stored_at REAL)"
        )
        self._db.execute("DELETE FROM pages WHERE stored_at < ?", (time.time() - self.max_age,))
        self._db.commit()

    def get(self, url: str) -> dict | None:
        with self._lock:
            row = self._db.execute(
                "SELECT status, etag, last_modified, headers, body, final_url, stored_at FROM pages WHERE url = ?",
                (url,),
            ).fetchone()
        if row is None or row[6] < time.time() - self.max_age:
            return None
        status, etag, last_modified, headers, body, final_url, _ = row
        return {
            "status": status,
            "etag": etag,
            "last_modified": last_modified,
            "headers": json.loads(headers),
            "body": body,
            "final_url": final_url,
        }

    def put(self, url: str, response: Response) -> None:
        headers = {k.lower(): v for k, v in response.headers.items()}
        etag, last_modified = headers.get("etag"), headers.get("last-modified")
        if not (etag or last_modified) or "no-store" in headers.get("cache-control", ""):
            return
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    url,
                    response.status,
                    etag,
                    last_modified,
                    json.dumps(dict(response.headers)),
                    response.text,
                    response.url,
                    time.time(),
                ),
            )
            self._db.commit()

    def touch(self, url: str) -> None:
        with self._lock:
            self._db.execute("UPDATE pages SET stored_at = ? WHERE url = ?", (time.time(), url))
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()


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
        cache_days: int = 7,
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
        import requests

        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.user_agent = user_agent
        self.min_interval = min_interval
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.respect_robots = respect_robots
        self.max_retry_wait = max_retry_wait
        self.max_body_seconds = max_body_seconds
        self.max_download_seconds = max_download_seconds
        # Bytes after decompression: a page (or a gzip bomb) can't fill the machine's memory.
        self.max_bytes = max_bytes
        self.max_download_bytes = max_download_bytes
        # Tests serve pages from 127.0.0.1 and say so with FINDER_ALLOW_PRIVATE_HOSTS=1.
        self.allow_private = settings().allow_private_hosts if allow_private is None else allow_private
        self._sleep = sleep
        self._clock = clock
        self._time_left: Callable[[], float | None] | None = None
        self.cache = ConditionalCache(Path(cache_path), cache_days) if cache_path else None
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}  # host -> earliest time of its next request
        self._host_interval: dict[str, float] = {}
        self._robots: dict[str, RobotFileParser | str] = {}  # host -> parser, or why it is closed
        self._stats = dict.fromkeys(
            (
                "requests",
                "robots_requests",
                "downloads",
                "not_modified",
                "cache_hits",
                "retries",
                "failures",
                "robots_disallowed",
                "bytes",
            ),
            0,
        )

    # -- public -------------------------------------------------------------------------------
    def get(self, url: str, params=None, headers=None) -> Response:
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

        When `destination` already holds the previous download, or the fetcher kept a copy of it
        beside its cache (the refresh downloads into a new staging directory each run), and the
        server confirms it is unchanged (304), no body is downloaded: `destination` is left as it is
        or filled from the copy, and `not_modified` is True."""
        destination = Path(destination)
        if not is_http_url(url):
            raise FetchError(url, "only http(s) URLs are fetched")
        headers: dict[str, str] = {}
        kept = self._kept_copy(url)
        have = destination if destination.exists() else (kept if kept is not None and kept.exists() else None)
        cached = self.cache.get(url) if self.cache is not None and have is not None else None
        if cached:
            if cached["etag"]:
                headers["If-None-Match"] = cached["etag"]
            if cached["last_modified"]:
                headers["If-Modified-Since"] = cached["last_modified"]
        try:
            final_url, reply = self._follow(url, headers, self.max_download_seconds, self.max_download_bytes)
            if reply.status_code == 304 and cached:
                self._count("not_modified")
                self.cache.touch(url)
                if have != destination:
                    _write_file(destination, have.read_bytes())
                return Download(destination, True, destination.stat().st_size)
            if reply.status_code != 200:
                raise FetchError(final_url, f"HTTP {reply.status_code}")
            body = self._check_complete(final_url, reply)
        except FetchError:
            self._count("failures")
            raise
        _write_file(destination, body)
        self._count("downloads")
        self._count("bytes", len(body))
        if self.cache is not None and kept is not None:
            validators = {k.lower() for k in reply.headers} & {"etag", "last-modified"}
            if validators:
                _write_file(kept, body)  # before the validators: they must never describe an older copy
            self.cache.put(url, Response(url, 200, "", dict(reply.headers)))
        return Download(destination, False, len(body))

    def _kept_copy(self, url: str) -> Path | None:
        """Where the fetcher keeps its copy of a downloaded file, beside the cache (None: no cache)."""
        if self.cache is None:
            return None
        return self.cache.path.parent / "downloads" / hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]

    def stats(self) -> dict:
        with self._lock:
            return dict(self._stats)

    def set_time_left(self, time_left: Callable[[], float | None] | None) -> None:
        """The caller's remaining time (seconds), or None for no limit: no request, retry wait or
        slow answer is allowed to outlast it (the refresh sets each source's deadline here)."""
        self._time_left = time_left

    def _left(self) -> float | None:
        return self._time_left() if self._time_left is not None else None

    def close(self) -> None:
        self.session.close()
        if self.cache is not None:
            self.cache.close()

    # -- internals ----------------------------------------------------------------------------
    def _count(self, key: str, amount: int = 1) -> None:
        with self._lock:
            self._stats[key] += amount

    def _get(self, url: str, headers: dict) -> Response:
        requested = url
        cached = self.cache.get(url) if self.cache is not None else None
        if cached:
            if cached["etag"]:
                headers.setdefault("If-None-Match", cached["etag"])
            if cached["last_modified"]:
                headers.setdefault("If-Modified-Since", cached["last_modified"])
        url, reply = self._follow(url, headers)
        status = reply.status_code
        if status == 304 and cached:
            self._count("not_modified")
            self._count("cache_hits")
            self.cache.touch(requested)
            return Response(cached["final_url"], cached["status"], cached["body"], cached["headers"], True)
        if status >= 400 and status != 404:
            attempts = f" after {self.retries + 1} attempts" if status in RETRYABLE_STATUSES else ""
            raise FetchError(url, f"HTTP {status}{attempts}")
        body = self._check_complete(url, reply)
        self._count("downloads")
        self._count("bytes", len(body))
        response = Response(reply.url or url, status, body_text(reply), dict(reply.headers))
        if status == 200 and self.cache is not None:
            self.cache.put(requested, response)
        return response

    def _follow(
        self, url: str, headers: dict, max_seconds: float | None = None, max_bytes: int | None = None
    ):
        """GET with redirects followed by hand, so every hop is checked: http(s) only, robots.txt,
        and the per-host rate limit. Returns the final URL and reply."""
        requested = url
        for _hop in range(MAX_REDIRECTS + 1):
            if not self.allow_private:
                check_public_address(url)
            if self.respect_robots:
                self._check_robots(url)
            reply = self._request_with_retries(
                url, headers, max_seconds or self.max_body_seconds, max_bytes or self.max_bytes
            )
            if reply.status_code in (301, 302, 303, 307, 308) and reply.headers.get("Location"):
                target = urljoin(url, reply.headers["Location"])
                if not is_http_url(target):
                    raise FetchError(url, f"redirected to a non-http(s) URL {target[:80]!r}")
                if urlsplit(target)[:2] != urlsplit(url)[:2]:
                    headers = {k: v for k, v in headers.items() if k.lower() in CROSS_ORIGIN_HEADERS}
                url = target
                headers.pop("If-None-Match", None)  # validators belong to the first URL
                headers.pop("If-Modified-Since", None)
                continue
            return url, reply
        raise FetchError(requested, f"more than {MAX_REDIRECTS} redirects")

    @staticmethod
    def _check_complete(url: str, reply) -> bytes:
        """The body, or FetchError when fewer bytes arrived than Content-Length announced, or,
        without a Content-Length, when the format shows the body was cut short."""
        body = reply.content
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

    def _read_body(self, url: str, reply, max_seconds: float, max_bytes: int | None = None) -> None:
        """Read the whole body within `max_seconds`. The timeout bounds each read, not the answer:
        a server sending a byte now and then would hold the refresh for hours. A watchdog shuts
        the answer down (urllib3's shutdown() is made to interrupt a read in another thread)."""
        limit = max_bytes or self.max_bytes
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

    def _request_with_retries(
        self, url: str, headers: dict, max_seconds: float, max_bytes: int | None = None
    ):
        import requests

        host = urlsplit(url).netloc
        for attempt in range(self.retries + 1):
            self._wait_turn(host)
            wait = self.backoff * (2**attempt)
            left = self._left()
            if left is not None and left <= 0:
                raise FetchError(url, "time limit reached before this request; left for the next run")
            try:
                self._count("requests")
                reply = self.session.get(
                    url,
                    headers=headers,
                    timeout=self.timeout if left is None else max(0.1, min(self.timeout, left)),
                    allow_redirects=False,
                    stream=True,
                )
                # Read the body now, so a truncated one fails inside the retry loop.
                self._read_body(
                    url, reply, max_seconds if left is None else min(max_seconds, left), max_bytes
                )
            except requests.Timeout:
                problem = f"no answer within {self.timeout:g} s"
            except requests.exceptions.ChunkedEncodingError:
                problem = "truncated body (connection closed early)"
            except requests.RequestException as error:
                problem = f"network error ({type(error).__name__})"
            else:
                if reply.status_code not in RETRYABLE_STATUSES:
                    return reply
                problem = f"HTTP {reply.status_code}"
                asked = retry_after_seconds(reply.headers.get("Retry-After"))
                if asked is not None:
                    if asked > self.max_retry_wait:
                        raise FetchError(
                            url,
                            f"{problem}; server asked to retry after {asked:.0f} s "
                            f"(more than {self.max_retry_wait:.0f} s): try next run",
                        )
                    wait = max(asked, 0.0)
                if attempt == self.retries:
                    return reply
            if attempt == self.retries:
                raise FetchError(url, f"{problem} after {self.retries + 1} attempts")
            left = self._left()
            if left is not None and min(wait, self.max_retry_wait) >= left:
                raise FetchError(url, f"{problem}; a retry would pass the time limit, try next run")
            self._count("retries")
            self._sleep(min(wait, self.max_retry_wait))
        raise AssertionError("unreachable")

    def _wait_turn(self, host: str) -> None:
        """Reserve the host's next request slot and sleep until it comes."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + self._host_interval.get(host, self.min_interval)
        if slot > now:
            self._sleep(slot - now)

    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            rules = self._robots.get(key)
        if rules is None:
            rules = self._load_robots(key)
            with self._lock:
                self._robots[key] = rules
        if isinstance(rules, str):
            self._count("robots_disallowed")
            raise RobotsDisallowed(url, rules)
        if not rules.can_fetch(self.user_agent, url):
            self._count("robots_disallowed")
            raise RobotsDisallowed(url, "disallowed by robots.txt")

    def _load_robots(self, base: str) -> RobotFileParser | str:
        import requests

        robots_url = f"{base}/robots.txt"
        host = urlsplit(base).netloc
        self._wait_turn(host)
        self._count("requests")
        self._count("robots_requests")
        try:
            url = robots_url
            # Redirects are followed by hand (RFC 9309: at least five) with the same checks as pages.
            for _hop in range(ROBOTS_MAX_REDIRECTS + 1):
                left = self._left()
                if left is not None and left <= 0:
                    raise FetchError(url, "time limit reached before this request")
                timeout = self.timeout if left is None else max(0.1, min(self.timeout, left))
                reply = self.session.get(url, timeout=timeout, stream=True, allow_redirects=False)
                location = reply.headers.get("Location")
                if reply.status_code not in (301, 302, 303, 307, 308) or not location:
                    break
                reply.close()
                url = urljoin(url, location)
                if not is_http_url(url):
                    raise FetchError(url, "robots.txt redirected to a non-http(s) URL")
                if not self.allow_private:
                    check_public_address(url)
            else:
                raise FetchError(robots_url, "too many redirects")
            left = self._left()
            seconds = self.max_body_seconds if left is None else max(0.1, min(self.max_body_seconds, left))
            self._read_body(url, reply, seconds, ROBOTS_MAX_BYTES)
        except (requests.RequestException, FetchError) as error:
            return (
                f"robots.txt could not be fetched ({type(error).__name__}); not crawling this host this run"
            )
        parser = RobotFileParser(robots_url)
        if reply.status_code >= 500 or reply.status_code == 429:
            # A host that is down or asks us to slow down is not crawled (RFC 9309 2.3.1.4; a 429
            # is the server saying "too many requests", never "no rules").
            return f"robots.txt answered HTTP {reply.status_code}; not crawling this host this run"
        if reply.status_code >= 400:
            parser.parse([])  # RFC 9309: an unavailable (4xx) robots.txt allows everything
            return parser
        parser.parse(body_text(reply).splitlines())
        delay = parser.crawl_delay(self.user_agent)
        if delay:
            with self._lock:
                self._host_interval[host] = max(self.min_interval, min(float(delay), MAX_CRAWL_DELAY))
        return parser
