"""The NHS Talking Therapies service record: its declared schema, validation, and the readers the
app and the search use.

A service is one NHS organisation (ODS code) that delivers NHS Talking Therapies. Its record joins
four sources by organisation code: the ODS list (name, headquarters postcode, ICB, status), NHS
England's annual statistics (outcomes, waits, IPT courses), `service_links.csv` (websites,
self-referral routes, age limits and IPT mentions seen on public pages) and, when run, the live
scrapers. Every group of facts carries its source and the date it was last verified in
`provenance`; the record's `source` is the main source (the ODS file).

The record model (`SERVICE_FIELDS`) and its validation live in finder/schema.py.
"""

from __future__ import annotations

from pathlib import Path

from finder import store
from finder.schema import OUTCOMES_FILE, SERVICES_FILE

# The location note shown with every NHS service: ODS gives the organisation's headquarters.
LOCATION_NOTE = (
    "Located by the organisation's headquarters postcode; the service may run clinics elsewhere in its area."
)


# --- Readers ----------------------------------------------------------------------------------


def load_services(directory: Path | None = None) -> list[dict]:
    document = store.read_json(SERVICES_FILE, directory, default=None)
    if not document:
        return []
    return list(document.get("records", []))


def _outcomes_document(directory: Path | None = None) -> dict:
    return store.read_json(OUTCOMES_FILE, directory, default=None) or {}


def england_outcomes(directory: Path | None = None) -> dict | None:
    """England's figures for the latest period held (or None before any import): period,
    recovery_pct, reliable_improvement_pct, within_6_weeks_pct, within_18_weeks_pct, referrals,
    source."""
    main = _outcomes_document(directory).get("main", {})
    if not main:
        return None
    period = max(main)
    england = main[period].get("england")
    if not england:
        return None
    return {
        "period": period,
        "recovery_pct": england.get("recovery_pct"),
        "reliable_improvement_pct": england.get("reliable_improvement_pct"),
        "within_6_weeks_pct": england.get("within_6_weeks_pct"),
        "within_18_weeks_pct": england.get("within_18_weeks_pct"),
        "referrals": england.get("referrals"),
        "source": main[period].get("source"),
    }


def england_outcomes_by_period(directory: Path | None = None) -> dict[str, dict]:
    """England's main figures for every period held, so a service whose latest published year is
    older is compared with England in that same year."""
    main = _outcomes_document(directory).get("main", {})
    return {
        str(period): {**entry["england"], "period": str(period), "source": entry.get("source")}
        for period, entry in main.items()
        if isinstance(entry, dict) and isinstance(entry.get("england"), dict)
    }


def therapy_outcomes(directory: Path | None = None) -> list[dict]:
    """England's outcomes by therapy type for every period held: period, therapy_type, courses,
    recovery_pct, improvement_pct, reliable_recovery_pct, source. Sorted by period, therapy."""
    therapy = _outcomes_document(directory).get("therapy", {})
    rows = []
    for period in sorted(therapy):
        source = therapy[period].get("source")
        for row in therapy[period].get("england", []):
            rows.append(
                {
                    "period": period,
                    "therapy_type": row["therapy_type"],
                    "courses": row.get("courses"),
                    "recovery_pct": row.get("recovery_pct"),
                    "improvement_pct": row.get("improvement_pct"),
                    "reliable_recovery_pct": row.get("reliable_recovery_pct"),
                    "source": source,
                }
            )
    return sorted(rows, key=lambda r: (r["period"], r["therapy_type"]))
