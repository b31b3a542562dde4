"""Straight-line distances on the Earth's surface."""

from __future__ import annotations

import math

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


class Points:
    """Many fixed points (a dataset's records) with their radians and cosines worked out once, so
    each query's distances to all of them cost only the terms that depend on the query: the same
    haversine as `haversine_miles`, in half the time."""

    def __init__(self, lats: np.ndarray, lons: np.ndarray):
        self.lat = np.radians(np.asarray(lats, dtype=np.float64))
        self.lon = np.radians(np.asarray(lons, dtype=np.float64))
        self.cos_lat = np.cos(self.lat)

    def miles_from(self, lat: float, lon: float) -> np.ndarray:
        # The query's own terms with math (NumPy's ufuncs on one number cost a microsecond each).
        lat1, lon1 = math.radians(lat), math.radians(lon)
        half_dlat = np.sin((self.lat - lat1) * 0.5)
        half_dlon = np.sin((self.lon - lon1) * 0.5)
        a = half_dlat * half_dlat
        a += (math.cos(lat1) * self.cos_lat) * (half_dlon * half_dlon)
        # Never negative (a sum of squares, cosines of latitudes are not); rounding may take it
        # just over 1. np.minimum, not np.clip: clip's Python wrapper cost more than the sines.
        np.minimum(a, 1.0, out=a)
        np.sqrt(a, out=a)
        np.arcsin(a, out=a)
        a *= 2 * EARTH_RADIUS_MILES
        return a
