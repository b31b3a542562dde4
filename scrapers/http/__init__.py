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

The package, by what each part does: `answers` (what a fetch gives or raises, and what one kind
of request may take), `bodies` (reading a body within its limits, and telling a cut-short one),
`caches` (the always-revalidating page cache and the kept copies of downloads) and `fetcher` (the
`Fetcher`: redirects, retries, rate limits, robots.txt). Each says what it writes by hand and why.
"""

from scrapers.http.answers import Download, FetchError, Response, RobotsDisallowed
from scrapers.http.bodies import body_text, check_complete, incomplete_body
from scrapers.http.caches import MEMORY
from scrapers.http.fetcher import USER_AGENT, Fetcher, check_public_address, full_url, retry_after_seconds

__all__ = [
    "MEMORY",
    "USER_AGENT",
    "Download",
    "FetchError",
    "Fetcher",
    "Response",
    "RobotsDisallowed",
    "body_text",
    "check_complete",
    "check_public_address",
    "full_url",
    "incomplete_body",
    "retry_after_seconds",
]
