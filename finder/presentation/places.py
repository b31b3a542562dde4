"""Distances, approximate locations, ages and where each fact of a record came from."""

from __future__ import annotations

import math
from typing import SupportsFloat

_APPROXIMATE_WORDS = {
    "sector": "approximate location (postcode sector)",
    "outcode": "approximate location (postcode district)",
    "place": "approximate location (town centre)",
}


def distance_text(miles: float | None, *, works_online: bool = False) -> str:
    """'2.3 miles away (straight line)'; distances are as the crow flies, not by road."""
    if miles is None or (isinstance(miles, float) and math.isnan(miles)):
        return "Works online (no local address)" if works_online else "Distance not known"
    if miles < 0.1:
        return "Less than 0.1 miles away (straight line)"
    shown = f"{miles:.1f}"
    unit = "mile" if shown == "1.0" else "miles"
    return f"{shown} {unit} away (straight line)"


def location_note(precision: str | None) -> str | None:
    """Words for a record whose position is the centre of an area rather than its address."""
    if not precision or precision == "postcode":
        return None
    return _APPROXIMATE_WORDS.get(precision, "approximate location")


def whole_number(value: object) -> int | None:
    """A published whole number (an age, say) as an int; None when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, str | SupportsFloat):
        return None
    try:
        return int(float(value))
    except (ValueError, OverflowError):
        return None
