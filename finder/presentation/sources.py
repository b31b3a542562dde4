"""About the data: plain titles for the sources the data was built from."""

from __future__ import annotations

from collections.abc import Mapping

from finder.presentation.text import md_escape, md_link
from finder.schema import safe_url

# Plain titles for the manifest's source names; unknown names are tidied up instead.
SOURCE_TITLES = {
    "postcodes": "Postcodes (Ordnance Survey Code-Point Open)",
    "places": "Town names for place search",
    "nhs-providers": "NHS Talking Therapies providers (NHS Organisation Data Service)",
    "nhs-outcomes": "Outcomes and waiting times (NHS England statistics)",
    "service-links": "Service websites, self-referral links and IPT mentions (public web pages)",
    "services": "NHS Talking Therapies services as searched (built from the sources above)",
    "areas": "NHS areas: districts, sub-ICB locations and ICBs (Office for National Statistics)",
    "gp-practices": "GP surgeries and their NHS area (NHS Organisation Data Service)",
    "service-areas": "Which areas each service takes people from (public pages and registered names)",
    "service-roles": "What each service is to the public: local service, partner, specialist",
    "practitioners": "Private IPT practitioners (register export)",
}


def source_title(name: object) -> str:
    text = str(name)
    return SOURCE_TITLES.get(text) or text.replace("_", " ").replace("-", " ").capitalize()


def _numbers(mapping: Mapping) -> dict:
    return {k: v for k, v in mapping.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def source_rows(entry: Mapping) -> list[dict]:
    """One source of the manifest as rows of a two-column table (Markdown, escaped): what it is,
    its licence, when it was refreshed, its counts and the attribution it asks for."""
    rows = []
    refreshed = entry.get("refreshed_at") or entry.get("imported_at")
    labels = (("source", "What"), ("licence", "Licence"))
    for key, label in labels:
        if entry.get(key):
            value = entry[key]
            text = md_link(value, value) if safe_url(value) else md_escape(value)
            rows.append({"": label, " ": text})
    if refreshed:
        rows.append({"": "Last refreshed", " ": md_escape(refreshed)})
    counts = entry.get("counts")
    numbers = _numbers(counts if isinstance(counts, dict) else entry)
    if numbers:
        rows.append(
            {
                "": "Counts",
                " ": md_escape(", ".join(f"{k.replace('_', ' ')}: {v:,}" for k, v in numbers.items())),
            }
        )
    attribution = entry.get("attribution")
    if attribution:
        if isinstance(attribution, list | tuple):
            attribution = "; ".join(str(a) for a in attribution)
        rows.append({"": "Attribution", " ": md_escape(attribution)})
    return rows
