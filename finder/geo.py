"""Straight-line distances on the Earth's surface."""

from __future__ import annotations

import numpy as np

# Mean Earth radius (IUGG). Haversine on a sphere differs from the WGS84 geodesic by at most about
# 0.5%, well below what matters for "how far is this service".
EARTH_RADIUS_MILES = 3958.7613


def haversine_miles(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Distances in miles from one point to many (degrees in, vectorised)."""
    lat1 = np.radians(lat)
    lat2 = np.radians(lats)
    dlat = lat2 - lat1
    dlon = np.radians(lons) - np.radians(lon)
    a = np.sin(dlat / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
