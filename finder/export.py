"""Export the NHS service directory for reuse by other directories.

- `openreferral`: Open Referral UK (HSDS 3.0 with the UK profile) JSON: the HSDS tables the
  directory fills (`organization`, `organization_identifier`, `service`, `service_area`, `location`,
  `address`, `service_at_location`, `contact`, `phone`, `taxonomy`, `taxonomy_term`, `attribute`),
  one row per object, linked by ids. finder.oruk.mapping makes every row (the API serves the same
  objects nested); the README of tests/fixtures/openreferral says which schemas they pass.
- `csv`: one row per service with the facts a person needs (contacts, eligibility, IPT, outcomes).

Only http(s) links are exported (the directory holds no others) and CSV cells that a spreadsheet
would run as a formula are neutralised.
"""

from __future__ import annotations

from collections.abc import Iterable

from finder import services as services_module
from finder.csvtext import csv_table
from finder.oruk import mapping
from finder.schema import is_http_url

FORMATS = ("openreferral", "csv")


def openreferral_document(records: Iterable[dict]) -> dict:
    return {
        "hsds_version": mapping.HSDS_VERSION,
        "profile": mapping.PROFILE_URL,
        **mapping.tables(records),
    }


CSV_COLUMNS = (
    "id",
    "name",
    "service_name",
    "postcode",
    "town",
    "lat",
    "lon",
    "location_precision",
    "icb_name",
    "phone",
    "email",
    "website",
    "self_referral",
    "self_referral_url",
    "self_referral_phone",
    "min_age_text",
    "catchment",
    "national",
    "areas_served",
    "role",
    "audience",
    "lead_id",
    "probably_ended",
    "offers_ipt",
    "ipt_basis",
    "ipt_evidence",
    "offers_dit",
    "outcomes_period",
    "referrals",
    "recovery_pct",
    "reliable_improvement_pct",
    "within_6_weeks_pct",
    "within_18_weeks_pct",
    "ipt_courses",
    "ipt_recovery_pct",
    "source",
    "last_verified",
)
_OUTCOME_COLUMNS = {
    "outcomes_period": "period",
    "referrals": "referrals",
    "recovery_pct": "recovery_pct",
    "reliable_improvement_pct": "reliable_improvement_pct",
    "within_6_weeks_pct": "within_6_weeks_pct",
    "within_18_weeks_pct": "within_18_weeks_pct",
    "ipt_courses": "ipt_courses",
    "ipt_recovery_pct": "ipt_recovery_pct",
}


_LINK_COLUMNS = frozenset({"website", "self_referral_url"})


def csv_text(records: Iterable[dict]) -> str:
    return csv_table(CSV_COLUMNS, (_csv_row(record) for record in records))


def _csv_row(record: dict) -> list[object]:
    outcomes = record.get("outcomes") or {}
    row = []
    for column in CSV_COLUMNS:
        value = outcomes.get(_OUTCOME_COLUMNS[column]) if column in _OUTCOME_COLUMNS else record.get(column)
        if column == "areas_served":
            # "Leeds (E08000035; name, high)": the evidence is in the Open Referral export.
            value = "; ".join(
                f"{a['name']} ({a['code']}; {a['basis']}, {a['confidence']})" for a in value or []
            )
        if column in _LINK_COLUMNS and not is_http_url(value):
            value = None  # only http(s) links leave the project
        row.append(value)
    return row


def export_text(fmt: str, records: list[dict] | None = None) -> str:
    import json

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    records = services_module.load_services() if records is None else records
    if fmt == "csv":
        return csv_text(records)
    return json.dumps(openreferral_document(records), indent=1, ensure_ascii=False) + "\n"
