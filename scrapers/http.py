"""The one place where the project talks HTTP to other people's sites.

Every scraper's `scrape(fetch)` takes a fetcher: any callable `fetch(url, params=None,
headers=None) -> Response` that raises `FetchError` for anything that is not a usable answer.
`Fetcher` is the real one; tests pass saved pages through `StaticFetcher`.

INTERFACE (stable; other modules depend on it):
- Response(url, status, text, headers, from_cache)
- FetchError(url, reason) and its subclass RobotsDisallowed
- Fetcher(user_agent=USER_AGENT, min_interval=1.0, timeout=15.0, retries=3, backoff=1.0,
          cache_path=None, cache_days=7, respect_robots=True).get(url, params=None, headers=None)
  and Fetcher.__call__ = get; Fetcher.stats() -> dict of request counts.
- StaticFetcher({url: text or (status, text)}) for tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from finder import PROJECT_NAME, PROJECT_URL

USER_AGENT = f"{PROJECT_NAME}/0.1 (+{PROJECT_URL}; finds NHS talking therapies and IPT practitioners)"


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)
    from_cache: bool = False


class FetchError(Exception):
    """The page could not be fetched: network down, timeout, HTTP error after retries, robots.txt."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class RobotsDisallowed(FetchError):
    pass


class StaticFetcher:
    """A fetcher over saved pages: {url: text} or {url: (status, text)}; unknown URLs raise."""

    def __init__(self, pages: Mapping[str, object]):
        self.pages = dict(pages)
        self.requested: list[str] = []

    def __call__(self, url: str, params=None, headers=None) -> Response:
        from urllib.parse import urlencode

        full = f"{url}?{urlencode(params)}" if params else url
        self.requested.append(full)
        for candidate in (full, url):
            if candidate in self.pages:
                page = self.pages[candidate]
                status, text = page if isinstance(page, tuple) else (200, page)
                return Response(full, status, text)
        raise FetchError(full, "no saved page for this URL")

    get = __call__
