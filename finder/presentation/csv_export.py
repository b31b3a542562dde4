"""The results as a CSV file to download, in words as on the page."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from finder.csvtext import csv_table
from finder.ipt_evidence import figures_shared_by
from finder.presentation.cards import KIND_NAMES, source_words
from finder.schema import public_url

CSV_COLUMNS = (
    ("name", "Name"),
    ("kind", "Type"),
    ("distance_miles", "Distance in miles (straight line)"),
    ("self_referral_url", "Refer yourself online"),
    ("phone", "Phone"),
    ("website", "Website"),
    ("email", "Email"),
    ("offers_ipt", "Offers IPT"),
    ("works_online", "Works online"),
    ("works_in_person", "Works in person"),
    ("min_age", "Minimum age"),
    ("catchment", "Area covered"),
    ("outcomes.recovery_pct", "Recovery % (NHS England figures)"),
    ("outcomes.within_6_weeks_pct", "Started treatment within 6 weeks %"),
    ("outcomes.period", "Period of the figures"),
    ("last_verified", "Last verified"),
    ("source", "Source"),
    # Whether the service takes the person (search coverage); last, so older columns keep places.
    ("service_name", "Service name"),
    ("coverage", "Takes people from your area"),
    ("coverage_basis", "How we know the area it covers"),
    ("coverage_confidence", "How sure we are"),
    ("coverage_evidence", "Evidence for the area it covers"),
    ("coverage_part", "Only this part of your area"),
    # Where NHS England's figures count several of the provider's services together.
    ("figures_shared_by", "The IPT and recovery figures are for"),
)


_CSV_LINKS = ("self_referral_url", "website")
COVERAGE_WORDS = {
    "covers": "Covers your area",
    "covers_part": "Covers part of the place searched for",
    "national": "Open to people anywhere in England",
    "same_icb": "Based in your NHS area; the areas it covers are not known",
    "elsewhere": "May only accept people registered with a GP in its own area",
}


# How we know which areas a service takes people from, and how sure that is, in words.
BASIS_WORDS = {
    "nhs_directory": "The NHS directory lists the areas",
    "name": "Its registered name names the area",
    "catchment": "Its own pages say whom it takes",
    "public_page": "A public page says so",
    "hq_area": "Only its headquarters is in the area",
    "national": "Open to all of England",
}
CONFIDENCE_WORDS = {"high": "Sure", "medium": "Fairly sure", "low": "Not sure: please check"}
_IN_WORDS = {
    "kind": KIND_NAMES,
    "coverage": COVERAGE_WORDS,
    "coverage_basis": BASIS_WORDS,
    "coverage_confidence": CONFIDENCE_WORDS,
}


def _csv_value(record: Mapping, key: str) -> object:
    if key == "figures_shared_by":
        provider = figures_shared_by(record)
        return f"All of {provider}'s services together" if provider else None
    value = _field(record, key)
    if key in _IN_WORDS and isinstance(value, str):
        value = _IN_WORDS[key].get(value, value)  # in words, as on the page
    if key == "source" and value and not public_url(value):
        value = source_words(value)  # a register's page stays a link; our own files are named in words
    if key in _CSV_LINKS:
        return public_url(value)  # only links to public http(s) pages, as on the page
    return " ".join(value.split()) if isinstance(value, str) else value


def _field(record: Mapping, dotted: str) -> object:
    """record["outcomes"]["period"] for "outcomes.period"; None where any step is missing."""
    value: object = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def results_csv(results: Iterable[Mapping]) -> bytes:
    """The results as CSV (UTF-8 with BOM so spreadsheet programs read the £ and accents)."""
    rows = ([_csv_value(record, key) for key, _ in CSV_COLUMNS] for record in results)
    return ("\ufeff" + csv_table([title for _, title in CSV_COLUMNS], rows)).encode("utf-8")
