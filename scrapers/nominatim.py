"""OpenStreetMap Nominatim, the optional online fallback for a place name the embedded data lacks.

Restricted to Great Britain. Nominatim's usage policy asks for at most one request a second, a
User-Agent that names the application, and caching of results: the fetcher it is given waits a
second between requests to a host and names the project, and `finder.cli.live.online_fallback`
keeps the answers for the life of the process. Requests go through the one `scrapers.http.Fetcher`
(this replaced geopy's geocoder, which had an HTTP client of its own).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from finder.postcodes import GSS_COUNTRY, Location
from finder.settings import settings
from scrapers.http import FetchError, Response

COUNTRY_NAMES = frozenset(GSS_COUNTRY.values())
SOURCE = "OpenStreetMap Nominatim"

Fetch = Callable[..., Response]


def lookup(fetch: Fetch, place: str, *, base_url: str | None = None) -> Location | None:
    """The best GB match for a place name; None when there is none or the service is down."""
    base = base_url or settings().nominatim_url
    params = {"q": place, "format": "jsonv2", "countrycodes": "gb", "addressdetails": "1", "limit": "1"}
    try:
        reply = fetch(f"{base}/search", params=params)
        if reply.status != 200:
            return None
        return parse(place, reply.text)
    except (FetchError, ValueError, KeyError, TypeError):
        return None


def parse(query: str, text: str) -> Location | None:
    """The first result of a Nominatim /search answer (format=jsonv2) as a Location."""
    found: list[dict[str, Any]] = json.loads(text)
    if not found:
        return None
    first = found[0]
    address: dict[str, Any] = first.get("address") or {}
    country = address.get("country", "")
    if country not in COUNTRY_NAMES:
        # Nominatim names the UK's nations in `address.state` ("England", "Scotland", ...).
        country = address.get("state", "Unknown")
        country = country if country in COUNTRY_NAMES else "Unknown"
    return Location(
        query,
        str(first.get("display_name") or query).split(",")[0],
        "place",
        float(first["lat"]),
        float(first["lon"]),
        str(country),
        "place",
        SOURCE,
        share_in_england=1.0 if country == "England" else 0.0,
    )
