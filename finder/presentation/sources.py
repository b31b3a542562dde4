"""About the data: plain titles for the sources the data was built from."""

from __future__ import annotations

# Plain titles for the manifest's source names; unknown names are tidied up instead.
SOURCE_TITLES = {
    "postcodes": "Postcodes (Ordnance Survey Code-Point Open)",
    "places": "Town names for place search",
    "nhs-providers": "NHS Talking Therapies providers (NHS Organisation Data Service)",
    "nhs-outcomes": "Outcomes and waiting times (NHS England statistics)",
    "service-links": "Service websites, self-referral links and IPT mentions (public web pages)",
    "services": "NHS Talking Therapies services as searched (built from the sources above)",
    "practitioners": "Private IPT practitioners (register export)",
}


def source_title(name: object) -> str:
    text = str(name)
    return SOURCE_TITLES.get(text) or text.replace("_", " ").replace("-", " ").capitalize()
