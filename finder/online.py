"""Optional online fallbacks for locations the embedded data lacks. Off by default; never needed by
the tests or the app's normal path.

- postcodes.io, for postcodes newer than the embedded Code-Point release (and terminated ones:
  postcodes.io answers 404 for them on /postcodes and describes them on /terminated_postcodes).
- OpenStreetMap Nominatim via geopy for place names, restricted to GB, at most one request a
  second (Nominatim's usage policy), results cached for the life of the process.
"""

from __future__ import annotations

import functools

import requests

from finder import PROJECT_NAME, PROJECT_URL
from finder.postcodes import GSS_COUNTRY, Location
from finder.settings import settings

POSTCODES_IO = "https://api.postcodes.io"
USER_AGENT = f"{PROJECT_NAME} (+{PROJECT_URL})"
TIMEOUT_SECONDS = 5

COUNTRY_NAMES = set(GSS_COUNTRY.values())


@functools.lru_cache(maxsize=1024)
def postcodes_io(postcode: str) -> Location | None:
    """Look a full postcode up on postcodes.io; None when it is unknown or the service is down."""
    base = settings().postcodes_io_url  # tests point it at 127.0.0.1
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    quoted = requests.utils.quote(postcode)
    try:
        reply = session.get(f"{base}/postcodes/{quoted}", timeout=TIMEOUT_SECONDS)
        if reply.status_code == 200:
            result = reply.json()["result"]
            return _location(postcode, result, terminated=False)
        reply = session.get(f"{base}/terminated_postcodes/{quoted}", timeout=TIMEOUT_SECONDS)
        if reply.status_code == 200:
            return _location(postcode, reply.json()["result"], terminated=True)
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return None
    return None


def _location(query: str, result: dict, *, terminated: bool) -> Location | None:
    lat, lon = result.get("latitude"), result.get("longitude")
    if lat is None or lon is None:
        return None
    country = result.get("country") if result.get("country") in COUNTRY_NAMES else "Unknown"
    return Location(
        query,
        result.get("postcode", query),
        "postcode",
        float(lat),
        float(lon),
        country,
        "postcode",
        "postcodes.io",
        terminated,
        1.0 if country == "England" else 0.0,
    )


@functools.lru_cache(maxsize=1024)
def nominatim(place: str) -> Location | None:
    from geopy.extra.rate_limiter import RateLimiter
    from geopy.geocoders import Nominatim

    geocoder = Nominatim(user_agent=USER_AGENT, timeout=TIMEOUT_SECONDS)
    geocode = RateLimiter(geocoder.geocode, min_delay_seconds=1.0, max_retries=1, swallow_exceptions=True)
    found = geocode(place, country_codes="gb", addressdetails=True)
    if found is None:
        return None
    country = (found.raw.get("address") or {}).get("country", "")
    if country not in COUNTRY_NAMES:
        # Nominatim names the UK's nations in `address.state` ("England", "Scotland", ...).
        country = (found.raw.get("address") or {}).get("state", "Unknown")
        country = country if country in COUNTRY_NAMES else "Unknown"
    return Location(
        place,
        found.address.split(",")[0],
        "place",
        found.latitude,
        found.longitude,
        country,
        "place",
        "OpenStreetMap Nominatim",
        share_in_england=1.0 if country == "England" else 0.0,
    )
