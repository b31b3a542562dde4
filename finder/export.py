"""Export the NHS service directory for reuse by other directories.

- `openreferral`: Open Referral UK / HSDS 3.0 JSON, as the tables `organization`, `service`,
  `location`, `service_at_location`, `phone` and `service_area` (one row per district served, the
  basis, confidence and evidence in its description; a national service has one row for England),
  linked by ids. HSDS ids are UUIDs: they are
  derived from the NHS organisation code (uuid5), so the same service keeps the same ids in
  every export. How to refer yourself goes in `service.application_process`.
- `csv`: one row per service with the facts a person needs (contacts, eligibility, IPT, outcomes).

Only http(s) links are exported (the directory holds no others) and CSV cells that a spreadsheet
would run as a formula are neutralised.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable

from finder import services as services_module
from finder.schema import is_http_url

FORMATS = ("openreferral", "csv")
HSDS_VERSION = "3.0"
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/nhs-talking-therapies-ipt-finder")


def _uuid(kind: str, code: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind}/{code}"))


def application_process(record: dict) -> str:
    """How to refer yourself, in words, from what the sources show (nothing guessed)."""
    parts = []
    if is_http_url(record.get("self_referral_url")):
        parts.append(f"Refer yourself online: {record['self_referral_url'].strip()}")
    if record.get("self_referral_phone"):
        parts.append(f"Refer yourself by phone: {record['self_referral_phone']}")
    if not parts:
        parts.append("Self-referral route not confirmed by our sources; ask your GP or contact the service.")
    if record.get("min_age_text"):
        parts.append(f"Minimum age: {record['min_age_text']}.")
    if record.get("catchment"):
        parts.append(f"Who can use it: {record['catchment']}.")
    return " ".join(parts)


# ONS linked-data identifiers for GSS codes (districts, and England itself).
GSS_URI = "http://statistics.data.gov.uk/id/statistical-geography/{code}"
ENGLAND_GSS = "E92000001"
BASIS_WORDS = {
    "nhs_directory": "listed in the NHS service directory",
    "public_page": "a public page says the service covers it",
    "name": "the service's registered name names it",
    "catchment": "the service's catchment wording names it",
    "hq_area": "only the district of the headquarters is known",
}


def service_area_rows(record: dict, service_id: str) -> list[dict]:
    """HSDS 3.0 `service_area` rows: each district served (basis, confidence, evidence in the
    description), or England for a national service."""
    rows = []
    if record.get("national"):
        rows.append(
            {
                "id": _uuid("service_area", f"{record['id']}/{ENGLAND_GSS}"),
                "service_id": service_id,
                "name": "England",
                "description": "Open to people anywhere in England.",
                "extent": ENGLAND_GSS,
                "extent_type": "text",
                "uri": GSS_URI.format(code=ENGLAND_GSS),
            }
        )
    for area in record.get("areas_served") or []:
        basis = BASIS_WORDS.get(area["basis"], area["basis"])
        rows.append(
            {
                "id": _uuid("service_area", f"{record['id']}/{area['code']}"),
                "service_id": service_id,
                "name": area["name"],
                "description": f"Basis: {area['basis']} ({basis}); confidence {area['confidence']}. "
                f"Evidence: {area['evidence']}",
                "extent": area["code"],
                "extent_type": "text",
                "uri": GSS_URI.format(code=area["code"]),
            }
        )
    return rows


def _description(record: dict) -> str:
    bits = [f"NHS Talking Therapies service run by {record['provider']}."]
    if record.get("probably_ended"):
        bits.append(f"Probably no longer running: {record.get('role_evidence')}.")
    if record.get("audience"):
        bits.append(f"For {record['audience']}.")
    if record.get("offers_ipt") is True and record.get("ipt_evidence"):
        bits.append(f"Interpersonal Therapy (IPT): {record['ipt_evidence']}.")
    outcomes = record.get("outcomes")
    if outcomes and outcomes.get("recovery_pct") is not None:
        bits.append(f"NHS England {outcomes['period']}: {outcomes['recovery_pct']:g}% recovery.")
    return " ".join(bits)


def openreferral_document(records: Iterable[dict]) -> dict:
    organizations, services, locations, links, phones, areas = [], [], [], [], [], []
    for record in records:
        code = record["id"]
        org_id, service_id = _uuid("organization", code), _uuid("service", code)
        organizations.append(_organization(record, org_id))
        services.append(_service(record, service_id, org_id))
        areas += service_area_rows(record, service_id)
        if record.get("lat") is not None:
            location = _location(record)
            locations.append(location)
            links.append(
                {
                    "id": _uuid("service_at_location", code),
                    "service_id": service_id,
                    "location_id": location["id"],
                }
            )
        phones += _phones(record, service_id)
    return {
        "hsds_version": HSDS_VERSION,
        "profile": "https://openreferraluk.org",
        "organization": organizations,
        "service": services,
        "location": locations,
        "service_at_location": links,
        "phone": phones,
        "service_area": areas,
    }


def _organization(record: dict, org_id: str) -> dict:
    code = record["id"]
    return {
        "id": org_id,
        "name": record["provider"],
        "description": f"NHS organisation {code} ({record['source']}).",
        "website": record["website"] if is_http_url(record.get("website")) else None,
        "email": record.get("email"),
        "identifiers": [
            {
                "id": _uuid("identifier", code),
                "identifier_scheme": "ODS",
                "identifier_type": "NHS organisation code",
                "identifier": code,
            }
        ],
    }


def _service(record: dict, service_id: str, org_id: str) -> dict:
    return {
        "id": service_id,
        "organization_id": org_id,
        "name": record["name"],
        # The public name as seen on the service's pages (may carry the gatherer's remarks).
        "alternate_name": record.get("service_name"),
        "description": _description(record),
        "url": record["website"] if is_http_url(record.get("website")) else None,
        "email": record.get("email"),
        "status": "active",
        "application_process": application_process(record),
        "minimum_age": record.get("min_age"),
        "last_modified": record["last_verified"],
    }


def _location(record: dict) -> dict:
    """Where the organisation is registered (its headquarters, not where people are seen)."""
    code = record["id"]
    location_id = _uuid("location", code)
    return {
        "id": location_id,
        "location_type": "physical",
        "name": f"{record['provider']} (headquarters)",
        "description": record["location_note"],
        "latitude": record["lat"],
        "longitude": record["lon"],
        "addresses": [
            {
                "id": _uuid("address", code),
                "location_id": location_id,
                "address_1": record.get("address") or "",
                "city": record.get("town") or "",
                "postal_code": record.get("postcode") or "",
                "country": "GB",
                "state_province": "",
                "address_type": "physical",
            }
        ],
    }


def _phones(record: dict, service_id: str) -> list[dict]:
    """The contact number and, when it differs, the self-referral number."""
    numbers = []
    if record.get("phone"):
        numbers.append(record["phone"])
    if record.get("self_referral_phone") and record["self_referral_phone"] not in numbers:
        numbers.append(record["self_referral_phone"])
    return [
        {
            "id": _uuid("phone", f"{record['id']}/{number}"),
            "service_id": service_id,
            "number": number,
            "type": "voice",
            "description": "self-referral" if number == record.get("self_referral_phone") else "contact",
        }
        for number in numbers
    ]


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


# A cell a spreadsheet would run as a formula (CSV injection): one starting = + - @, or a tab or
# carriage return before one. Such a cell is written with a leading apostrophe, so it shows as text.
# A plain number (the only thing that may start with "-" and still be safe) stays a number, so a
# negative figure remains readable and sortable; "-1+cmd|..." is not a plain number and is quoted.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


def csv_cell(value: object) -> str:
    """One CSV cell: empty for None, yes/no for booleans, text neutralised against formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def csv_table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """The one CSV writer: a header row, then every row's cells through `csv_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()


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
