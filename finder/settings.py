"""Every environment variable the finder, the scrapers and the app read, with its default, in one
place. Production code calls `settings()`; nothing else reads `os.environ` (tests/test_architecture.py
checks this).

`settings()` reads the environment once per process and caches the answer, because
`store.data_dir()` is on every search's path. Tests that change a variable (monkeypatch.setenv)
reset the cache with `settings.cache_clear()` (tests/conftest.py does it on every setenv/delenv).

Secrets (NHS_API_KEY) come only from the environment and are kept out of the repr.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

POSTCODES_IO = "https://api.postcodes.io"
NOMINATIM = "https://nominatim.openstreetmap.org"
# NHS England's Directory of Healthcare Services (Service Search) API, version 3, production.
NHS_API_URL = "https://api.service.nhs.uk/service-search-api/"

# Variable names, as the operations guide (docs/operations.md) lists them.
DATA_DIR_ENV = "FINDER_DATA_DIR"
DEBUG_ENV = "FINDER_DEBUG"
POSTCODES_IO_URL_ENV = "FINDER_POSTCODES_IO_URL"
NOMINATIM_URL_ENV = "FINDER_NOMINATIM_URL"
CACHE_DIR_ENV = "FINDER_CACHE_DIR"
HTTP_CACHE_ENV = "FINDER_HTTP_CACHE"
NHS_API_KEY_ENV = "NHS_API_KEY"
NHS_API_URL_ENV = "FINDER_NHS_API_URL"
NHS_STATS_URLS_ENV = "FINDER_NHS_STATS_URLS"
POSTCODES_SOURCE_ENV = "FINDER_POSTCODES_SOURCE"
ALLOW_PRIVATE_HOSTS_ENV = "FINDER_ALLOW_PRIVATE_HOSTS"
REPORT_URL_ENV = "FINDER_REPORT_URL"
OFFLINE_CHECKS_ENV = "FINDER_OFFLINE_CHECKS"
LOCK_WAIT_ENV = "FINDER_LOCK_WAIT"

NAMES = (
    DATA_DIR_ENV,
    DEBUG_ENV,
    POSTCODES_IO_URL_ENV,
    NOMINATIM_URL_ENV,
    CACHE_DIR_ENV,
    HTTP_CACHE_ENV,
    NHS_API_KEY_ENV,
    NHS_API_URL_ENV,
    NHS_STATS_URLS_ENV,
    POSTCODES_SOURCE_ENV,
    ALLOW_PRIVATE_HOSTS_ENV,
    REPORT_URL_ENV,
    OFFLINE_CHECKS_ENV,
)


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "ipt-finder"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The configuration of one process. Every field has the default a fresh checkout runs with."""

    # FINDER_DATA_DIR: publish to and read from another data directory (tests, the refresh job);
    # None means the repository's data/.
    data_dir: Path | None = None
    # FINDER_DEBUG: show the traceback of an unexpected CLI error instead of one line.
    debug: bool = False
    # FINDER_POSTCODES_IO_URL / FINDER_NOMINATIM_URL: the online fallbacks' base URLs (tests point
    # them at 127.0.0.1).
    postcodes_io_url: str = POSTCODES_IO
    nominatim_url: str = NOMINATIM
    # FINDER_CACHE_DIR: the project's cache directory; FINDER_HTTP_CACHE: the refresh's
    # conditional-request cache file (default: http.sqlite in the cache directory).
    cache_dir: Path = field(default_factory=_default_cache_dir)
    http_cache: Path | None = None
    # NHS_API_KEY: the Service Search (v3) API key, sent in the `apikey` header (a secret: never
    # printed). FINDER_NHS_API_URL: the API's base URL (tests point it at 127.0.0.1; NHS England's
    # integration environment is https://int.api.service.nhs.uk/service-search-api/).
    nhs_api_key: str | None = field(default=None, repr=False)
    nhs_api_url: str = NHS_API_URL
    # FINDER_NHS_STATS_URLS: space-separated statistics file URLs, instead of the publication page.
    nhs_stats_urls: tuple[str, ...] = ()
    # FINDER_POSTCODES_SOURCE: URL or path of a newer Code-Point Open / ONSPD release.
    postcodes_source: str | None = None
    # FINDER_ALLOW_PRIVATE_HOSTS: tests only, let the fetcher reach 127.0.0.1.
    allow_private_hosts: bool = False
    # FINDER_REPORT_URL: where the app's "report a mistake" link goes (None: the issue tracker).
    report_url: str | None = None
    # FINDER_OFFLINE_CHECKS: the app checks registers from local data only (no network).
    offline_checks: bool = False
    # FINDER_LOCK_WAIT: seconds a writer waits for another before giving up (as typed; the store
    # parses it so a bad value is one clear message where it is used).
    lock_wait: str | None = None

    @property
    def http_cache_path(self) -> Path:
        return self.http_cache or self.cache_dir / "http.sqlite"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def flag(name: str) -> bool:
            # Set and not "0": FINDER_DEBUG=0 switches it off, as a person would expect.
            return (text(name) or "0") != "0"

        def path(name: str) -> Path | None:
            value = text(name)
            return Path(value) if value else None

        return cls(
            data_dir=path(DATA_DIR_ENV),
            debug=flag(DEBUG_ENV),
            postcodes_io_url=(text(POSTCODES_IO_URL_ENV) or POSTCODES_IO).rstrip("/"),
            nominatim_url=(text(NOMINATIM_URL_ENV) or NOMINATIM).rstrip("/"),
            cache_dir=path(CACHE_DIR_ENV) or _default_cache_dir(),
            http_cache=path(HTTP_CACHE_ENV),
            nhs_api_key=text(NHS_API_KEY_ENV),
            nhs_api_url=(text(NHS_API_URL_ENV) or NHS_API_URL).rstrip("/") + "/",
            nhs_stats_urls=tuple((text(NHS_STATS_URLS_ENV) or "").split()),
            postcodes_source=text(POSTCODES_SOURCE_ENV),
            allow_private_hosts=flag(ALLOW_PRIVATE_HOSTS_ENV),
            report_url=text(REPORT_URL_ENV),
            offline_checks=flag(OFFLINE_CHECKS_ENV),
            lock_wait=text(LOCK_WAIT_ENV),
        )


@functools.cache
def settings() -> Settings:
    """This process's settings, read from the environment on first use (reset: settings.cache_clear())."""
    return Settings.from_env()
