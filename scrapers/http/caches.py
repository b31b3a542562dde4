"""The caches: requests-cache's page cache, which always revalidates (a 304 *is* a re-check, so
"last verified" stays honest), and the copies of downloaded files kept beside it.

Why downloads bypass the page cache: a statistics zip or a postcode release (hundreds of MB)
belongs in a file, not in a row of the cache database or in memory. Its copy and its validators (a
small JSON file) are kept beside the cache, and the conditional request is built here.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests

# Request headers and parameters the cache must never store (requests-cache redacts them).
SECRET_PARAMETERS = ("apikey",)
MEMORY = ":memory:"  # the cache_path that keeps the cache in this process only
VALIDATORS = ("etag", "last-modified")


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
            write_file(copy, body)
            write_file(meta, json.dumps(validators).encode("utf-8"))


def write_file(path: Path, content: bytes) -> None:
    """Write through a .part file and a rename, so a killed run never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(content)
    partial.replace(path)
