"""What a fetch gives (a page's `Response`, a file's `Download`) or raises (`FetchError`, and
`RobotsDisallowed` where robots.txt says no), and what one kind of request may take (`Budget`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


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
