"""Test and benchmark helpers that used to ship in production modules: fetchers over saved pages or
a 127.0.0.1 server. Production code keeps none of them (tests/test_architecture.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from scrapers.http import FetchError, Response

Fetch = Callable[..., Response]


class StaticFetcher:
    """A fetcher over saved pages: {url: text} or {url: (status, text)}; unknown URLs raise."""

    def __init__(self, pages: Mapping[str, object]):
        self.pages = dict(pages)
        self.requested: list[str] = []

    def __call__(self, url: str, params=None, headers=None) -> Response:
        full = f"{url}?{urlencode(params)}" if params else url
        self.requested.append(full)
        for candidate in (full, url):
            if candidate in self.pages:
                page = self.pages[candidate]
                status, text = page if isinstance(page, tuple) else (200, page)
                return Response(full, status, text)
        raise FetchError(full, "no saved page for this URL")

    get = __call__


class RedirectAll:
    """Send every request to one base URL (scheme and host replaced, path kept).

    It points all real adapters at a 127.0.0.1 server so that no
    traffic leaves the machine."""

    def __init__(self, fetch: Fetch, base_url: str):
        self._fetch = fetch
        base = urlsplit(base_url)
        self._scheme, self._netloc = base.scheme, base.netloc

    def _rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((self._scheme, self._netloc, parts.path, parts.query, ""))

    def __call__(self, url: str, params=None, headers=None) -> Response:
        response = self._fetch(self._rewrite(url), params=params, headers=headers)
        # Answer as the real host would, so scrapers resolve links and cite sources as in production.
        served = urlsplit(response.url)
        if served.netloc == self._netloc:
            original = urlsplit(url)
            response = replace(response, url=urlunsplit((original.scheme, original.netloc, *served[2:])))
        return response

    get = __call__

    def download(self, url: str, destination: Path):
        return self._fetch.download(self._rewrite(url), destination)

    def set_time_left(self, time_left) -> None:
        setter = getattr(self._fetch, "set_time_left", None)
        if setter is not None:
            setter(time_left)

    def stats(self) -> dict:
        return self._fetch.stats()

    def close(self) -> None:
        self._fetch.close()
