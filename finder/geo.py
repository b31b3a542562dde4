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
    """Many fixed points (a dataset's records) as unit vectors, worked out once, so each query's
    distances to all of them are one matrix product and a few operations on its result: the
    haversine of `haversine_miles` (sin²(θ/2) is (1 - cos θ)/2, and cos θ is the vectors' dot
    product), the same distance to a billionth of a mile, in under half the time. Points
    without coordinates (NaN) are at a NaN distance."""

    def __init__(self, lats: np.ndarray, lons: np.ndarray):
        lat = np.radians(np.asarray(lats, dtype=np.float64))
        lon = np.radians(np.asarray(lons, dtype=np.float64))
        cos_lat = np.cos(lat)
        # Halved: the dot product is then cos θ / 2 and (1 - cos θ)/2 one subtraction (scaling by
        # a half is exact in binary floating point, so the distances are the same to the bit).
        self.half_unit = 0.5 * np.ascontiguousarray(
            np.column_stack((cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)))
        )

    def miles_from(self, lat: float, lon: float) -> np.ndarray:
        # The query's own vector with math (NumPy's ufuncs on one number cost a microsecond each).
        lat1, lon1 = math.radians(lat), math.radians(lon)
        cos_lat1 = math.cos(lat1)
        here = np.array((cos_lat1 * math.cos(lon1), cos_lat1 * math.sin(lon1), math.sin(lat1)))
        a = self.half_unit @ here
        np.subtract(0.5, a, out=a)
        # Rounding may take it just outside [0, 1]. np.maximum and np.minimum, not np.clip: clip's
        # Python wrapper cost more than the arithmetic.
        np.maximum(a, 0.0, out=a)
        np.minimum(a, 1.0, out=a)
        np.sqrt(a, out=a)
        np.arcsin(a, out=a)
        a *= 2 * EARTH_RADIUS_MILES
        return a
