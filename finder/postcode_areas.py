"""The NHS area of a location: a full postcode's own district (and ward where the district is
split), or a sector, outcode or town's area when all its live postcodes agree, else every
candidate.
"""

from __future__ import annotations

import numpy as np

from finder import areas
from finder.areas import Area
from finder.postcode_query import COUNTRIES, Location, place_key
from finder.postcode_tables import _BASE, _WIDTH, PostcodeTables, encode_key


def with_area(location: Location, t: PostcodeTables, loaded: areas.AreaTables | None) -> Location:
    """`location` with its area from the `loaded` area tables: a full postcode's own district
    (and ward in a split district); a sector, outcode or town's area when all its live postcodes
    agree, else the candidates."""
    if loaded is None or t.district is None or location.precision == "nation":
        return location
    found: tuple[Area, ...] = ()
    outside = False
    if location.kind == "postcode":
        i = t.find(location.postcode.replace(" ", ""))
        if i is not None:
            found = loaded.resolve(_code(t, "district", i), _code(t, "ward", i), "postcode")
    sector_known = False
    if not found and location.kind in ("postcode", "sector"):
        # An unknown postcode (or one without a district) is placed by its sector, as its position
        # is; a sector wholly in Wales or Scotland has no area, whatever its outcode holds.
        outcode, _, inward = location.postcode.partition(" ")
        found, outside, sector_known = _prefix_areas(
            t, loaded, outcode + inward[:1], len(outcode) + 3, "sector"
        )
    if not found and not sector_known and location.kind in ("postcode", "sector", "outcode"):
        outcode = location.postcode.split(" ")[0]
        found, outside, _ = _prefix_areas(t, loaded, outcode, len(outcode) + 3, "outcode")
    if location.kind == "place" and location.source != "OpenStreetMap Nominatim":
        row = t.places.get(place_key(location.postcode))
        outcodes = str(row.get("outcodes") or "").split() if row is not None else []
        if outcodes:
            rows = np.concatenate([_rows(t, o, len(o) + 3) for o in outcodes])
            found, outside, _ = _areas_of_rows(t, loaded, rows, "place")
    if not found:
        return location
    area: Area | None
    candidates: tuple[Area, ...]
    area, candidates = (found[0], ()) if len(found) == 1 else areas.merge(found)
    if area is not None and outside:
        # Part of the sector, outcode or town is in Wales or Scotland: England's area is a candidate only.
        candidates = (area,)
        area = None
    # A copy with the two area fields set, without dataclasses.replace's re-validation of every
    # field (it tripled the cost of a postcode lookup); `location` itself is never changed.
    located = object.__new__(Location)
    located.__dict__.update(location.__dict__, area=area, area_candidates=candidates)
    return located


def _prefix_areas(
    t: PostcodeTables, loaded: areas.AreaTables, prefix: str, length: int, found_by: str
) -> tuple[tuple[Area, ...], bool, bool]:
    """`_areas_of_rows` of a sector or outcode, remembered for the life of the loaded tables."""
    cache = t.__dict__.setdefault("_prefix_areas", {})
    key = (id(loaded), prefix, length, found_by)
    if key not in cache:
        if len(cache) > 50_000:
            cache.clear()
        cache[key] = _areas_of_rows(t, loaded, _rows(t, prefix, length), found_by)
    return cache[key]


def _code(t: PostcodeTables, column: str, i: int) -> str:
    index = getattr(t, column).item(i)
    return (t.district_codes if column == "district" else t.ward_codes)[index]


def _rows(t: PostcodeTables, prefix: str, length: int) -> np.ndarray:
    """Indices of the postcodes `length` characters long (without the space) that start with
    `prefix`: "LS14" with length 6 is the sector LS1 4, not the outcode LS14 (length 7)."""
    low = encode_key(prefix)
    high = low + _BASE ** (_WIDTH - len(prefix))
    start, stop = (int(x) for x in t.keys.searchsorted([low, high]))
    indices = np.arange(start, stop)
    if length < _WIDTH:
        indices = indices[t.keys[start:stop] % _BASE ** (_WIDTH - length) == 0]
    return indices


def _areas_of_rows(
    t: PostcodeTables, loaded: areas.AreaTables, rows: np.ndarray, found_by: str
) -> tuple[tuple[Area, ...], bool, bool]:
    """The areas of these postcodes' distinct (district, ward) pairs, whether any of them is
    outside England, and whether there were any postcodes. Terminated postcodes and English
    postcodes without a district are left out."""
    rows = rows[~t.terminated[rows]]
    england = t.country[rows] == COUNTRIES.index("England")
    outside = bool((~england).any())
    if t.district is None or t.ward is None:  # a table built before areas were kept
        return (), outside, len(rows) > 0
    pairs = np.unique(t.district[rows].astype(np.int32) * 65536 + t.ward[rows].astype(np.int32) % 65536)
    found: list[Area] = []
    for pair in pairs.tolist():
        district, ward = t.district_codes[pair // 65536], t.ward_codes[pair % 65536]
        found.extend(loaded.resolve(district, ward, found_by))
    return tuple(found), outside, len(rows) > 0
