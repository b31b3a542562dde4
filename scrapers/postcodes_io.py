"""postcodes.io, the optional online fallback for a full postcode the embedded data lacks: one newer
than the embedded Code-Point release, or a terminated one (postcodes.io answers 404 for those on
/postcodes and describes them on /terminated_postcodes).

Off by default. The CLI (`--online`, `--online-lookup`) injects `lookup` into
`finder.postcodes.lookup(fallback=...)` through `finder.cli.live.online_fallback`; finder itself
never fetches. Requests go through the one `scrapers.http.Fetcher`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from finder.postcodes import GSS_COUNTRY, Location
from finder.settings import settings
from scrapers.http import FetchError, Response

COUNTRY_NAMES = frozenset(GSS_COUNTRY.values())
SOURCE = "postcodes.io"

Fetch = Callable[..., Response]


def lookup(fetch: Fetch, postcode: str, *, base_url: str | None = None) -> Location | None:
    """Look a full postcode up on postcodes.io; None when it is unknown or the service is down."""
    base = base_url or settings().postcodes_io_url  # tests point it at 127.0.0.1
    quoted = quote(postcode)
    try:
        reply = fetch(f"{base}/postcodes/{quoted}")
        if reply.status == 200:
            return parse(postcode, reply.text, terminated=False)
        reply = fetch(f"{base}/terminated_postcodes/{quoted}")
        if reply.status == 200:
            return parse(postcode, reply.text, terminated=True)
    except (FetchError, ValueError, KeyError, TypeError):
        return None
    return None


def parse(query: str, text: str, *, terminated: bool) -> Location | None:
    """A postcodes.io answer ({"status": 200, "result": {...}}) as a Location; None without a position."""
    result: dict[str, Any] = json.loads(text)["result"]
    lat, lon = result.get("latitude"), result.get("longitude")
    if lat is None or lon is None:
        return None
    # Terminated postcodes come without a nation: "Unknown" lets the caller fill it from the outcode.
    country = result.get("country") if result.get("country") in COUNTRY_NAMES else "Unknown"
    return Location(
        query,
        str(result.get("postcode") or query),
        "postcode",
        float(lat),
        float(lon),
        str(country),
        "postcode",
        SOURCE,
        terminated,
        1.0 if country == "England" else 0.0,
    )
