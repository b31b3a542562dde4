"""Distances, approximate locations, ages and where each fact of a record came from."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import SupportsFloat

from finder.presentation.text import md_escape, md_link
from finder.schema import safe_url

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


def age_text(min_age: object) -> str | None:
    if min_age is None or min_age == "":
        return None
    age = whole_number(min_age)
    if age is None:
        return None
    return f"For people aged {age} and over"


_PROVENANCE_TITLES = {
    "location": "Location",
    "contacts": "Contact details",
    "outcomes": "Outcomes",
    "ipt": "IPT",
}


def provenance_lines(provenance: Mapping | None, *, max_links: int = 3) -> list[str]:
    """Markdown lines, one per group of facts: where it came from and when it was checked.
    Source names are escaped; only http(s) evidence pages become links."""
    if not isinstance(provenance, Mapping):
        return []
    lines = []
    for group, entry in provenance.items():
        if not isinstance(entry, Mapping):
            continue
        title = _PROVENANCE_TITLES.get(group, str(group).replace("_", " ").capitalize())
        parts = []
        if entry.get("source"):
            parts.append(md_escape(entry["source"]))
        checked = entry.get("last_verified")
        if not checked:
            parts.append("date checked not known")
        elif safe_url(entry.get("source")):
            parts.append(f"checked {md_escape(checked)}")
        else:
            # A file of unknown age was imported that day: that is not a check of the service.
            parts.append(f"imported {md_escape(checked)}")
        if entry.get("note"):
            parts.append(md_escape(entry["note"]))
        urls = [u for u in entry.get("evidence_urls") or [] if safe_url(u)][:max_links]
        if urls:
            parts.append("seen on " + ", ".join(md_link(f"page {i}", u) for i, u in enumerate(urls, 1)))
        lines.append(f"{md_escape(title)}: " + "; ".join(parts))
    return lines
