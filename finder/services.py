"""The NHS Talking Therapies service record: its declared schema, validation, and the readers the
app and the search use.

A service is one NHS organisation (ODS code) that delivers NHS Talking Therapies. Its record joins
four sources by organisation code: the ODS list (name, headquarters postcode, ICB, status), NHS
England's annual statistics (outcomes, waits, IPT courses), `service_links.csv` (websites,
self-referral routes, age limits and IPT mentions seen on public pages) and, when run, the live
scrapers. Every group of facts carries its source and the date it was last verified in
`provenance`; the record's `source` is the main source (the ODS file).

Records are validated against `SERVICE_FIELDS` before anything is written (`validate_services`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from finder import store
from finder.errors import FinderError
from finder.textrules import is_http_url, non_public_host

SERVICES_FILE = "services.json"
PROVIDERS_FILE = "nhs_providers.json"
OUTCOMES_FILE = "nhs_outcomes.json"
LINKS_FILE = "service_links.json"
AREAS_FILE = "service_areas.json"
ROLES_FILE = "service_roles.json"
SCHEMA_VERSION = 1

SELF_REFERRAL_KINDS = ("online", "phone", "unknown")
LOCATION_PRECISIONS = ("postcode", "sector", "outcode", None)
PROVENANCE_GROUPS = ("location", "contacts", "outcomes", "ipt")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PERIOD = re.compile(r"^\d{4}-\d{2}$")

# Where a service takes people from (service_areas.csv; the NHS directory when refreshed). Bases
# from strongest to weakest: the NHS directory's own list, a public page naming the areas, the
# registered name naming the area, a catchment phrase, and, with nothing better, the district of
# the headquarters. "national" rows (open to all of England) are held as `national`, not as areas.
AREA_BASES = ("nhs_directory", "public_page", "name", "catchment", "hq_area")
CONFIDENCES = ("high", "medium", "low")
DISTRICT_CODE = re.compile(r"^E0[6-9]\d{6}$")  # ONS local authority district (LAD) code in England
AREA_KEYS = ("code", "name", "basis", "confidence", "evidence")
# What a provider is to the public (service_roles.csv).
ROLES = ("lead", "partner", "specialist", "digital", "site", "unclear")
IPT_BASES = ("official_latest", "official_earlier", "website")

# The location note shown with every NHS service: ODS gives the organisation's headquarters.
LOCATION_NOTE = (
    "Located by the organisation's headquarters postcode; the service may run clinics elsewhere in its area."
)


class RecordError(FinderError):
    """A built record that does not match the declared schema: nothing is written."""


@dataclass(frozen=True)
class Field:
    name: str
    types: tuple[type, ...]
    nullable: bool = False
    meaning: str = ""


_STR, _INT, _FLOAT, _BOOL, _DICT, _LIST = (str,), (int,), (float, int), (bool,), (dict,), (list,)

# The declared service record. Keys marked (contract) are the lead's search contract shared with
# private practitioners; the rest are NHS-specific.
SERVICE_FIELDS: tuple[Field, ...] = (
    Field("id", _STR, False, "NHS organisation (ODS) code (contract)"),
    Field("kind", _STR, False, '"nhs" (contract)'),
    Field("name", _STR, False, "organisation name from ODS (contract)"),
    Field("provider", _STR, False, "the organisation that runs the service (ODS name)"),
    Field("service_name", _STR, True, "the public name of the service where a source shows it"),
    Field("address", _STR, True, "street address where a source gives one"),
    Field("postcode", _STR, True, "headquarters postcode (ODS)"),
    Field("town", _STR, True, "headquarters town (ODS)"),
    Field("lat", _FLOAT, True, "(contract)"),
    Field("lon", _FLOAT, True, "(contract)"),
    Field("location_precision", _STR, True, "postcode | sector | outcode (contract)"),
    Field("location_note", _STR, False, "says the service may run clinics elsewhere"),
    Field("icb_code", _STR, True, "Integrated Care Board code"),
    Field("icb_name", _STR, True, ""),
    Field("region_name", _STR, True, "NHS England region"),
    Field("status", _STR, False, "ODS status: only Active services are in the directory"),
    Field("phone", _STR, True, "(contract)"),
    Field("email", _STR, True, "(contract)"),
    Field("website", _STR, True, "http(s) only (contract)"),
    Field("self_referral", _STR, False, "online | phone | unknown"),
    Field("self_referral_url", _STR, True, "online self-referral form, http(s) only (contract)"),
    Field("self_referral_phone", _STR, True, "phone number a source gives for self-referral"),
    Field("min_age", _INT, True, "minimum age in years where a source states one"),
    Field("min_age_text", _STR, True, "the age rule as stated, e.g. '17 years 9 months'"),
    Field("catchment", _STR, True, "catchment wording as seen"),
    Field("areas_covered", _LIST, False, "area (CCG/ICB sub-location) codes covered, where known"),
    Field("areas_served", _LIST, False, "districts served: {code, name, basis, confidence, evidence}"),
    Field("national", _BOOL, False, "open to people anywhere in England"),
    Field("role", _STR, True, "lead | partner | specialist | digital | site | unclear"),
    Field("audience", _STR, True, "who a specialist service is for"),
    Field("lead_id", _STR, True, "the lead service's ODS code (partners, sites)"),
    Field("role_evidence", _STR, True, "why the role is what it is"),
    Field("role_confidence", _STR, True, "high | medium | low"),
    Field("probably_ended", _BOOL, False, "the role evidence judges the service probably ended"),
    Field("offers_ipt", _BOOL, True, "true / false / null = unknown (contract)"),
    Field("ipt_basis", _STR, True, "official_latest | official_earlier | website | null"),
    Field("ipt_evidence", _STR, True, "why offers_ipt is what it is (contract)"),
    Field("offers_dit", _BOOL, True, "Dynamic Interpersonal Therapy, a different therapy from IPT"),
    Field("dit_evidence", _STR, True, ""),
    Field("outcomes", _DICT, True, "latest published year (see OUTCOME_FIELDS)"),
    Field("outcomes_by_period", _DICT, False, "every published year held: period -> outcomes"),
    Field("links_note", _STR, True, "caveats recorded with the public-page facts"),
    Field("source", _STR, False, "main source (contract)"),
    Field("last_verified", _STR, False, "ISO date (contract)"),
    Field("provenance", _DICT, False, "group -> {source, last_verified, note}"),
    Field("works_online", _BOOL, False, "(contract) true only when a source says national/online"),
    Field("works_online_evidence", _STR, True, "the phrase that says so"),
    Field("works_in_person", _BOOL, False, "(contract)"),
)
SERVICE_FIELD_NAMES = tuple(f.name for f in SERVICE_FIELDS)

OUTCOME_FIELDS: tuple[Field, ...] = (
    Field("period", _STR, False, "financial year, e.g. 2024-25"),
    Field("referrals", _INT, True, "referrals received"),
    Field("finished_treatment", _INT, True, "referrals that finished a course of treatment"),
    Field("recovery_pct", _FLOAT, True, "Percentage_Recovery as published"),
    Field("reliable_improvement_pct", _FLOAT, True, "Percentage_Improvement as published"),
    Field("reliable_recovery_pct", _FLOAT, True, "Percentage_ReliableRecovery as published"),
    Field("within_6_weeks_pct", _FLOAT, True, "finished courses that started treatment within 6 weeks"),
    Field("within_18_weeks_pct", _FLOAT, True, "... within 18 weeks"),
    Field("mean_wait_days", _FLOAT, True, "mean wait to start treatment, where published"),
    Field("ipt_courses", _INT, True, "courses of IPT in the same year (null: suppressed or absent)"),
    Field("ipt_recovery_pct", _FLOAT, True, ""),
    Field("dit_courses", _INT, True, "courses of brief psychodynamic psychotherapy (where DIT is recorded)"),
    Field("dit_recovery_pct", _FLOAT, True, ""),
    Field("source", _STR, False, "the statistics file(s)"),
)


def _check_fields(obj: Mapping, fields: Iterable[Field], where: str) -> None:
    fields = tuple(fields)
    names = {f.name for f in fields}
    missing = [f.name for f in fields if f.name not in obj]
    extra = sorted(set(obj) - names)
    if missing or extra:
        raise RecordError(f"{where}: missing fields {missing}, undeclared fields {extra}")
    for f in fields:
        value = obj[f.name]
        if value is None:
            if not f.nullable:
                raise RecordError(f"{where}: {f.name} must not be null")
            continue
        if isinstance(value, bool) and bool not in f.types:
            raise RecordError(f"{where}: {f.name} is a boolean, expected {f.types[0].__name__}")
        if not isinstance(value, f.types):
            raise RecordError(f"{where}: {f.name} is {type(value).__name__}, expected {f.types[0].__name__}")


def validate_service(record: Mapping) -> None:
    """Raise RecordError if `record` breaks the declared schema or one of the domain rules."""
    where = f"service {record.get('id', '?')}"
    _check_fields(record, SERVICE_FIELDS, where)
    if record["kind"] != "nhs":
        raise RecordError(f"{where}: kind must be 'nhs'")
    if record["self_referral"] not in SELF_REFERRAL_KINDS:
        raise RecordError(f"{where}: self_referral must be one of {SELF_REFERRAL_KINDS}")
    if record["self_referral"] == "online" and not record["self_referral_url"]:
        raise RecordError(f"{where}: self_referral 'online' needs self_referral_url")
    if record["self_referral"] == "phone" and not record["self_referral_phone"]:
        raise RecordError(f"{where}: self_referral 'phone' needs self_referral_phone")
    if record["location_precision"] not in LOCATION_PRECISIONS:
        raise RecordError(f"{where}: bad location_precision {record['location_precision']!r}")
    if (record["lat"] is None) != (record["lon"] is None):
        raise RecordError(f"{where}: lat and lon must both be set or both be null")
    for key in ("website", "self_referral_url"):
        if record[key] is not None and (not is_http_url(record[key]) or urlsplit(record[key]).username):
            raise RecordError(f"{where}: {key} is not a plain http(s) URL: {record[key]!r}")
        if record[key] is not None and non_public_host(record[key]):
            raise RecordError(f"{where}: {key} is on a host not for the public: {record[key]!r}")
    if record["offers_ipt"] is True and not record["ipt_evidence"]:
        raise RecordError(f"{where}: offers_ipt is true without ipt_evidence")
    if record["ipt_basis"] is not None and record["ipt_basis"] not in IPT_BASES:
        raise RecordError(f"{where}: ipt_basis must be one of {IPT_BASES} or null")
    if (record["offers_ipt"] is True) != (record["ipt_basis"] is not None):
        raise RecordError(f"{where}: offers_ipt is true exactly when there is an ipt_basis")
    _check_coverage_and_role(record, where)
    if record["offers_dit"] is True and not record["dit_evidence"]:
        raise RecordError(f"{where}: offers_dit is true without dit_evidence")
    if not ISO_DATE.match(record["last_verified"]):
        raise RecordError(f"{where}: last_verified must be an ISO date")
    for group, info in record["provenance"].items():
        if group not in PROVENANCE_GROUPS or not isinstance(info, dict) or not info.get("source"):
            raise RecordError(f"{where}: provenance[{group!r}] needs a source")
        verified = info.get("last_verified")
        if verified is not None and not ISO_DATE.match(verified):
            raise RecordError(f"{where}: provenance[{group!r}].last_verified must be an ISO date or null")
        for url in info.get("evidence_urls", []):
            if not is_http_url(url):
                raise RecordError(f"{where}: evidence URL is not http(s): {url!r}")
    if record["outcomes"] is not None:
        _check_outcomes(record["outcomes"], where)
    for period, outcomes in record["outcomes_by_period"].items():
        _check_outcomes(outcomes, f"{where} {period}")


def _check_coverage_and_role(record: Mapping, where: str) -> None:
    """The areas served and the role: declared values and code shapes."""
    for area in record["areas_served"]:
        if not isinstance(area, dict) or sorted(area) != sorted(AREA_KEYS):
            raise RecordError(f"{where}: each areas_served entry needs exactly {AREA_KEYS}")
        if not isinstance(area["code"], str) or not DISTRICT_CODE.match(area["code"]):
            raise RecordError(f"{where}: areas_served code {area['code']!r} is not a district code")
        if area["basis"] not in AREA_BASES:
            raise RecordError(f"{where}: areas_served basis {area['basis']!r} is not one of {AREA_BASES}")
        if area["confidence"] not in CONFIDENCES:
            raise RecordError(
                f"{where}: areas_served confidence {area['confidence']!r} is not one of {CONFIDENCES}"
            )
        if not all(isinstance(area[k], str) and area[k] for k in ("name", "evidence")):
            raise RecordError(f"{where}: areas_served {area['code']} needs a name and evidence")
    if record["role"] is not None and record["role"] not in ROLES:
        raise RecordError(f"{where}: role {record['role']!r} is not one of {ROLES}")
    if record["role_confidence"] is not None and record["role_confidence"] not in CONFIDENCES:
        raise RecordError(f"{where}: role_confidence must be one of {CONFIDENCES} or null")
    if record["lead_id"] is not None and record["lead_id"] == record["id"]:
        raise RecordError(f"{where}: a service cannot be its own lead")


def _check_outcomes(outcomes: Mapping, where: str) -> None:
    _check_fields(outcomes, OUTCOME_FIELDS, f"{where} outcomes")
    if not PERIOD.match(outcomes["period"]):
        raise RecordError(f"{where}: outcome period must look like 2024-25")
    for f in OUTCOME_FIELDS:
        value = outcomes[f.name]
        if f.name.endswith("_pct") and value is not None and not 0 <= value <= 100:
            raise RecordError(f"{where}: {f.name} {value} is not a percentage")


def validate_services(records: list[Mapping]) -> None:
    ids = [r.get("id") for r in records]
    if ids != sorted(ids):
        raise RecordError("services must be sorted by id")
    if len(set(ids)) != len(ids):
        raise RecordError("duplicate service ids")
    for record in records:
        validate_service(record)
    held = set(ids)
    for record in records:
        # Partners and sites are shown under their lead: the lead must be a service we hold.
        if record["lead_id"] is not None and record["lead_id"] not in held:
            raise RecordError(f"service {record['id']}: lead_id {record['lead_id']} is not a service we hold")


def services_document(records: list[dict]) -> dict:
    return {"schema_version": SCHEMA_VERSION, "records": sorted(records, key=lambda r: r["id"])}


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
