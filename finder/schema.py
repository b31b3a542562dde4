"""The schema of data/: every file name, the schema version, the record models and the link rule,
with the one validator that importers, the refresh, the store readers and search all use.

Two kinds of record are searched together: NHS services (services.json, kind "nhs") and private
practitioners (practitioners.json, kind "private"). Both carry the search contract `RECORD_KEYS`;
each kind adds its own fields (`SERVICE_FIELDS` with `OUTCOME_FIELDS` for its published outcomes,
`PRACTITIONER_KEYS`). `validate` checks records at one of three depths (see `Level`).

The models are frozen keyword-only dataclasses describing plain dicts, not pydantic models: the
records travel as JSON dicts from the importers through data/ to the search's numpy index, and are
only checked at write time, so a second object representation (and a runtime dependency that
coerces "1" into 1 unless told not to) would add a conversion without catching more: the rules that
matter (offers_ipt exactly when there is an IPT basis, public hosts only) are domain checks either way.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal
from urllib.parse import urlsplit

from finder.errors import FinderError

SCHEMA_VERSION = 1  # the "schema_version" of every {"schema_version": 1, "records": [...]} file

# --- data/ file names ---------------------------------------------------------------------------
MANIFEST_FILE = "manifest.json"  # per source: where it came from, when, checksums
SERVICES_FILE = "services.json"  # the searchable NHS services, derived from the five tables below
PROVIDERS_FILE = "nhs_providers.json"  # ODS organisations delivering NHS Talking Therapies
OUTCOMES_FILE = "nhs_outcomes.json"  # NHS England's published statistics
LINKS_FILE = "service_links.json"  # public-page facts: websites, self-referral, IPT mentions
SERVICE_AREAS_FILE = "service_areas.json"  # which districts each service takes people from
ROLES_FILE = "service_roles.json"  # lead / partner / specialist ... per service
PRACTITIONERS_FILE = "practitioners.json"  # private IPT practitioners
AREAS_FILE = "areas.json"  # district -> sub-ICB -> ICB
POSTCODES_FILE = "postcodes.parquet"
SECTORS_FILE = "postcode_sectors.parquet"
OUTCODES_FILE = "postcode_outcodes.parquet"
PLACES_FILE = "places.parquet"
GP_FILE = "gp_practices.parquet"
# The files of the NHS service tables, written together by the NHS importers and their refresh.
NHS_FILES = (PROVIDERS_FILE, OUTCOMES_FILE, LINKS_FILE, SERVICE_AREAS_FILE, ROLES_FILE, SERVICES_FILE)
POSTCODE_FILES = (POSTCODES_FILE, SECTORS_FILE, OUTCODES_FILE)


class RecordError(FinderError):
    """A record that breaks the schema: nothing is written. `field` names the field when known."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.detail = message

    @classmethod
    def at(cls, field: str, message: str) -> RecordError:
        return cls(message, field=field)


# --- the link rule ------------------------------------------------------------------------------


def is_http_url(url: object) -> bool:
    """Only plain http(s) links with a host are ever stored or shown: never javascript:, data:,
    mailto:, relative paths, a user name before the host, or spaces or control characters."""
    if not isinstance(url, str):
        return False
    text = url.strip()
    if not text or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return False
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return False
    # A user name before the host ("https://nhs.uk@evil.example/") hides where a link really goes.
    return parts.scheme.lower() in ("http", "https") and bool(host) and "@" not in parts.netloc


def safe_url(url: object) -> str | None:
    """The URL stripped of surrounding space if it is an http(s) link, else None."""
    return url.strip() if isinstance(url, str) and is_http_url(url) else None


# Hosts that are not for the public: a pre-release copy of a site (staging., test., dev., uat.),
# this machine, or a bare IP address. A person must never be sent there, even when a stored page
# was read from one: such a link is never kept as a website or a self-referral link (the evidence
# that mentions it may keep the URL, to say where a fact was read).
_NON_PUBLIC_LABEL = re.compile(
    r"^(?:staging|stage|test|testing|dev|develop|development|uat|preprod|pre-prod)\d*$"
)


def non_public_host(url: object) -> bool:
    """Whether an http(s) link points at a host that is not for the public (see above)."""
    if not is_http_url(url):
        return False
    host = (urlsplit(str(url).strip()).hostname or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.split(".")
    # Only the labels before the registered domain: "test.example.org" is a test host, but
    # "dev.to" or "uat.co.uk" name a public domain.
    return any(_NON_PUBLIC_LABEL.match(label) for label in labels[:-2])


def public_url(url: object) -> str | None:
    """A link a person may be sent to: an http(s) link (see `is_http_url`) on a public host."""
    safe = safe_url(url)
    return safe if safe is not None and not non_public_host(safe) else None


def http_url(value: object, field: str, *, public: bool = True) -> str | None:
    """The stored form of a link field: None when blank, else an http(s) link (on a public host
    unless `public` is False); anything else raises RecordError naming the field."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if not is_http_url(text):
        raise RecordError.at(field, f"{_short(text)!r} is not an http(s) web address")
    if public and non_public_host(text):
        # A staging, test or local copy of a site is not somewhere to send a person.
        raise RecordError.at(
            field, f"{_short(text)!r} is on a host not for the public (staging, test or local)"
        )
    return text


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the search contract ------------------------------------------------------------------------

# Every record carries these keys; search, the app and the refresh job rely on them.
RECORD_KEYS = (
    "id",
    "kind",
    "name",
    "lat",
    "lon",
    "location_precision",
    "offers_ipt",
    "ipt_evidence",
    "self_referral_url",
    "phone",
    "website",
    "email",
    "source",
    "last_verified",
    "works_online",
    "works_in_person",
)
RECORD_KINDS = ("nhs", "private")
LOCATION_PRECISIONS = ("postcode", "sector", "outcode", None)
URL_FIELDS = ("self_referral_url", "website")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PERIOD = re.compile(r"^\d{4}-\d{2}$")


@dataclass(frozen=True, kw_only=True)
class Field:
    """One declared field of a record model: its JSON types, whether null is allowed, its meaning."""

    name: str
    types: tuple[type, ...]
    nullable: bool = False
    meaning: str = ""


_STR: tuple[type, ...] = (str,)
_INT: tuple[type, ...] = (int,)
_FLOAT: tuple[type, ...] = (float, int)
_BOOL: tuple[type, ...] = (bool,)
_DICT: tuple[type, ...] = (dict,)
_LIST: tuple[type, ...] = (list,)

# --- the NHS service record ---------------------------------------------------------------------

SELF_REFERRAL_KINDS = ("online", "phone", "unknown")
PROVENANCE_GROUPS = ("location", "contacts", "outcomes", "ipt")
# Where a service takes people from (service_areas.csv; the NHS directory when refreshed). Bases
# from strongest to weakest: the NHS directory's own list, a public page naming the areas, the
# registered name naming the area, a catchment phrase, and, with nothing better, the district of
# the headquarters. "national" rows (open to all of England) are held as `national`, not as areas.
AREA_BASES = ("nhs_directory", "public_page", "name", "catchment", "hq_area")
CONFIDENCES = ("high", "medium", "low")
DISTRICT_CODE = re.compile(r"^E0[6-9]\d{6}$")  # ONS local authority district (LAD) code in England
# One entry of a service's `areas_served`. `part`: the part of the district it covers ("Craven
# area"; null: the whole district); `local_service_name`: the service's public name there (null:
# the provider's public name).
AREA_KEYS = ("code", "name", "basis", "confidence", "evidence", "part", "local_service_name")
# One stored row of service_areas.json (the area row): the service and one district it serves
# (`part` and `local_service_name` are "" where the source leaves them empty).
AREA_ROW_KEYS = (
    "org_code",
    "org_name",
    "code",
    "name",
    "basis",
    "evidence",
    "confidence",
    "part",
    "local_service_name",
)
NATIONAL_CODE = "ENGLAND"  # service_areas.csv: lad24_code of a service open to all of England
NATIONAL_BASIS = "national"
# What a provider is to the public (service_roles.csv).
ROLES = ("lead", "partner", "specialist", "digital", "site", "unclear")
IPT_BASES = ("official_latest", "official_earlier", "website")

# The declared service record. Keys marked (contract) are the search contract shared with
# private practitioners; the rest are NHS-specific.
SERVICE_FIELDS: tuple[Field, ...] = (
    Field(name="id", types=_STR, nullable=False, meaning="NHS organisation (ODS) code (contract)"),
    Field(name="kind", types=_STR, nullable=False, meaning='"nhs" (contract)'),
    Field(name="name", types=_STR, nullable=False, meaning="organisation name from ODS (contract)"),
    Field(
        name="provider",
        types=_STR,
        nullable=False,
        meaning="the organisation that runs the service (ODS name)",
    ),
    Field(
        name="service_name",
        types=_STR,
        nullable=True,
        meaning="the public name of the service where a source shows it",
    ),
    Field(name="address", types=_STR, nullable=True, meaning="street address where a source gives one"),
    Field(name="postcode", types=_STR, nullable=True, meaning="headquarters postcode (ODS)"),
    Field(name="town", types=_STR, nullable=True, meaning="headquarters town (ODS)"),
    Field(name="lat", types=_FLOAT, nullable=True, meaning="(contract)"),
    Field(name="lon", types=_FLOAT, nullable=True, meaning="(contract)"),
    Field(
        name="location_precision", types=_STR, nullable=True, meaning="postcode | sector | outcode (contract)"
    ),
    Field(
        name="location_note", types=_STR, nullable=False, meaning="says the service may run clinics elsewhere"
    ),
    Field(name="icb_code", types=_STR, nullable=True, meaning="Integrated Care Board code"),
    Field(name="icb_name", types=_STR, nullable=True, meaning=""),
    Field(name="region_name", types=_STR, nullable=True, meaning="NHS England region"),
    Field(
        name="status",
        types=_STR,
        nullable=False,
        meaning="ODS status: only Active services are in the directory",
    ),
    Field(name="phone", types=_STR, nullable=True, meaning="(contract)"),
    Field(name="email", types=_STR, nullable=True, meaning="(contract)"),
    Field(name="website", types=_STR, nullable=True, meaning="http(s) only (contract)"),
    Field(name="self_referral", types=_STR, nullable=False, meaning="online | phone | unknown"),
    Field(
        name="self_referral_url",
        types=_STR,
        nullable=True,
        meaning="online self-referral form, http(s) only (contract)",
    ),
    Field(
        name="self_referral_phone",
        types=_STR,
        nullable=True,
        meaning="phone number a source gives for self-referral",
    ),
    Field(
        name="min_age", types=_INT, nullable=True, meaning="minimum age in years where a source states one"
    ),
    Field(
        name="min_age_text",
        types=_STR,
        nullable=True,
        meaning="the age rule as stated, e.g. '17 years 9 months'",
    ),
    Field(name="catchment", types=_STR, nullable=True, meaning="catchment wording as seen"),
    Field(
        name="areas_covered",
        types=_LIST,
        nullable=False,
        meaning="area (CCG/ICB sub-location) codes covered, where known",
    ),
    Field(
        name="areas_served",
        types=_LIST,
        nullable=False,
        meaning="districts served: {code, name, basis, confidence, evidence, part, local_service_name}",
    ),
    Field(name="national", types=_BOOL, nullable=False, meaning="open to people anywhere in England"),
    Field(
        name="role",
        types=_STR,
        nullable=True,
        meaning="lead | partner | specialist | digital | site | unclear",
    ),
    Field(name="audience", types=_STR, nullable=True, meaning="who a specialist service is for"),
    Field(name="lead_id", types=_STR, nullable=True, meaning="the lead service's ODS code (partners, sites)"),
    Field(name="role_evidence", types=_STR, nullable=True, meaning="why the role is what it is"),
    Field(name="role_confidence", types=_STR, nullable=True, meaning="high | medium | low"),
    Field(
        name="probably_ended",
        types=_BOOL,
        nullable=False,
        meaning="the role evidence judges the service probably ended",
    ),
    Field(name="offers_ipt", types=_BOOL, nullable=True, meaning="true / false / null = unknown (contract)"),
    Field(
        name="ipt_basis",
        types=_STR,
        nullable=True,
        meaning="official_latest | official_earlier | website | null",
    ),
    Field(name="ipt_evidence", types=_STR, nullable=True, meaning="why offers_ipt is what it is (contract)"),
    Field(
        name="offers_dit",
        types=_BOOL,
        nullable=True,
        meaning="Dynamic Interpersonal Therapy, a different therapy from IPT",
    ),
    Field(name="dit_evidence", types=_STR, nullable=True, meaning=""),
    Field(name="outcomes", types=_DICT, nullable=True, meaning="latest published year (see OUTCOME_FIELDS)"),
    Field(
        name="outcomes_by_period",
        types=_DICT,
        nullable=False,
        meaning="every published year held: period -> outcomes",
    ),
    Field(
        name="links_note", types=_STR, nullable=True, meaning="caveats recorded with the public-page facts"
    ),
    Field(name="source", types=_STR, nullable=False, meaning="main source (contract)"),
    Field(name="last_verified", types=_STR, nullable=False, meaning="ISO date (contract)"),
    Field(name="provenance", types=_DICT, nullable=False, meaning="group -> {source, last_verified, note}"),
    Field(
        name="works_online",
        types=_BOOL,
        nullable=False,
        meaning="(contract) true only when a source says national/online",
    ),
    Field(name="works_online_evidence", types=_STR, nullable=True, meaning="the phrase that says so"),
    Field(name="works_in_person", types=_BOOL, nullable=False, meaning="(contract)"),
)
SERVICE_FIELD_NAMES = tuple(f.name for f in SERVICE_FIELDS)

OUTCOME_FIELDS: tuple[Field, ...] = (
    Field(name="period", types=_STR, nullable=False, meaning="financial year, e.g. 2024-25"),
    Field(name="referrals", types=_INT, nullable=True, meaning="referrals received"),
    Field(
        name="finished_treatment",
        types=_INT,
        nullable=True,
        meaning="referrals that finished a course of treatment",
    ),
    Field(name="recovery_pct", types=_FLOAT, nullable=True, meaning="Percentage_Recovery as published"),
    Field(
        name="reliable_improvement_pct",
        types=_FLOAT,
        nullable=True,
        meaning="Percentage_Improvement as published",
    ),
    Field(
        name="reliable_recovery_pct",
        types=_FLOAT,
        nullable=True,
        meaning="Percentage_ReliableRecovery as published",
    ),
    Field(
        name="within_6_weeks_pct",
        types=_FLOAT,
        nullable=True,
        meaning="finished courses that started treatment within 6 weeks",
    ),
    Field(name="within_18_weeks_pct", types=_FLOAT, nullable=True, meaning="... within 18 weeks"),
    Field(
        name="mean_wait_days",
        types=_FLOAT,
        nullable=True,
        meaning="mean wait to start treatment, where published",
    ),
    Field(
        name="ipt_courses",
        types=_INT,
        nullable=True,
        meaning="courses of IPT in the same year (null: suppressed or absent)",
    ),
    Field(name="ipt_recovery_pct", types=_FLOAT, nullable=True, meaning=""),
    Field(
        name="dit_courses",
        types=_INT,
        nullable=True,
        meaning="courses of brief psychodynamic psychotherapy (where DIT is recorded)",
    ),
    Field(name="dit_recovery_pct", types=_FLOAT, nullable=True, meaning=""),
    Field(name="source", types=_STR, nullable=False, meaning="the statistics file(s)"),
)


def _check_fields(obj: Mapping[str, object], fields: Iterable[Field], where: str) -> None:
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


def validate_service(record: Mapping[str, object]) -> None:
    """Raise RecordError if `record` breaks the declared schema or one of the domain rules."""
    where = f"service {record.get('id', '?')}"
    _check_fields(record, SERVICE_FIELDS, where)
    if record["kind"] != "nhs":
        raise RecordError(f"{where}: kind must be 'nhs'")
    _check_referral_and_links(record, where)
    if record["offers_ipt"] is True and not record["ipt_evidence"]:
        raise RecordError(f"{where}: offers_ipt is true without ipt_evidence")
    if record["ipt_basis"] is not None and record["ipt_basis"] not in IPT_BASES:
        raise RecordError(f"{where}: ipt_basis must be one of {IPT_BASES} or null")
    if (record["offers_ipt"] is True) != (record["ipt_basis"] is not None):
        raise RecordError(f"{where}: offers_ipt is true exactly when there is an ipt_basis")
    _check_coverage_and_role(record, where)
    if record["offers_dit"] is True and not record["dit_evidence"]:
        raise RecordError(f"{where}: offers_dit is true without dit_evidence")
    if not ISO_DATE.match(str(record["last_verified"])):
        raise RecordError(f"{where}: last_verified must be an ISO date")
    _check_provenance(_mapping(record["provenance"]), where)
    if record["outcomes"] is not None:
        _check_outcomes(_mapping(record["outcomes"]), where)
    for period, outcomes in _mapping(record["outcomes_by_period"]).items():
        _check_outcomes(_mapping(outcomes), f"{where} {period}")


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _check_referral_and_links(record: Mapping[str, object], where: str) -> None:
    """Self-referral, position and the two links a person may be sent to."""
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
    for key in URL_FIELDS:
        value = record[key]
        if value is not None and (not is_http_url(value) or urlsplit(str(value)).username):
            raise RecordError(f"{where}: {key} is not a plain http(s) URL: {value!r}")
        if value is not None and non_public_host(value):
            raise RecordError(f"{where}: {key} is on a host not for the public: {value!r}")


def _check_provenance(provenance: Mapping[str, object], where: str) -> None:
    for group, info in provenance.items():
        if group not in PROVENANCE_GROUPS or not isinstance(info, dict) or not info.get("source"):
            raise RecordError(f"{where}: provenance[{group!r}] needs a source")
        verified = info.get("last_verified")
        if verified is not None and not ISO_DATE.match(str(verified)):
            raise RecordError(f"{where}: provenance[{group!r}].last_verified must be an ISO date or null")
        for url in info.get("evidence_urls", []):
            if not is_http_url(url):
                raise RecordError(f"{where}: evidence URL is not http(s): {url!r}")


def _check_coverage_and_role(record: Mapping[str, object], where: str) -> None:
    """The areas served and the role: declared values and code shapes."""
    areas = record["areas_served"]
    for area in areas if isinstance(areas, list) else []:
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
        if not all(area[k] is None or (isinstance(area[k], str) and area[k]) for k in AREA_KEYS[5:]):
            raise RecordError(f"{where}: areas_served {area['code']} part and local name are text or null")
    if record["role"] is not None and record["role"] not in ROLES:
        raise RecordError(f"{where}: role {record['role']!r} is not one of {ROLES}")
    if record["role_confidence"] is not None and record["role_confidence"] not in CONFIDENCES:
        raise RecordError(f"{where}: role_confidence must be one of {CONFIDENCES} or null")
    if record["lead_id"] is not None and record["lead_id"] == record["id"]:
        raise RecordError(f"{where}: a service cannot be its own lead")


def _check_outcomes(outcomes: Mapping[str, object], where: str) -> None:
    _check_fields(outcomes, OUTCOME_FIELDS, f"{where} outcomes")
    if not PERIOD.match(str(outcomes["period"])):
        raise RecordError(f"{where}: outcome period must look like 2024-25")
    for f in OUTCOME_FIELDS:
        value = outcomes[f.name]
        if f.name.endswith("_pct") and isinstance(value, int | float) and not 0 <= value <= 100:
            raise RecordError(f"{where}: {f.name} {value} is not a percentage")


def validate_services(records: Sequence[Mapping[str, object]]) -> None:
    """The NHS service model over a whole services.json: sorted unique ids, every record valid,
    every lead a service we hold."""
    ids = [str(r.get("id")) for r in records]
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


# --- the practitioner record --------------------------------------------------------------------

PRACTITIONER_KIND = "private"
PRACTITIONER_KEYS = (
    "ipt_level",
    "ipt_supervisor",
    "ipt_trainer",
    "ipt_adolescents",
    "registrations",
    "town",
    "outcode",
    "works_by_phone",
)


def validate_practitioner(record: Mapping[str, object]) -> None:
    """Check a stored practitioner record against the contract (used before every publish)."""
    missing = [key for key in (*RECORD_KEYS, *PRACTITIONER_KEYS) if key not in record]
    if missing:
        raise RecordError.at(missing[0], "is missing from the record")
    if record["kind"] != PRACTITIONER_KIND:
        raise RecordError.at("kind", f"must be {PRACTITIONER_KIND!r}")
    for key in URL_FIELDS:
        http_url(record[key], key)
    if record["location_precision"] not in LOCATION_PRECISIONS:
        raise RecordError.at("location_precision", "must be postcode, sector, outcode or null")
    if record["location_precision"] == "postcode":
        # A private therapist's full postcode is often their home: never stored, never used.
        raise RecordError.at("location_precision", "a practitioner is never located to a full postcode")
    for key in ("works_online", "works_in_person", "works_by_phone", "offers_ipt"):
        if not isinstance(record[key], bool):
            raise RecordError.at(key, "must be true or false")
    try:
        date.fromisoformat(str(record["last_verified"]))
    except ValueError:
        raise RecordError.at(
            "last_verified", f"{_short(str(record['last_verified']))!r} is not a date"
        ) from None


def _validate_practitioners(records: Sequence[Mapping[str, object]]) -> None:
    for record in records:
        validate_practitioner(record)


# --- the one validator --------------------------------------------------------------------------

# How deep `validate` looks:
# "keys"     every record has the search contract's keys (the store readers and search, each load);
# "contract" the search contract's values, for records of any kind (the refresh, before publishing);
# "full"     the kind's whole model (the importers, before anything is written).
Level = Literal["keys", "contract", "full"]
_MODELS: dict[str, Callable[[Sequence[Mapping[str, object]]], None]] = {
    "nhs": validate_services,
    PRACTITIONER_KIND: _validate_practitioners,
}


def validate(
    records: Sequence[Mapping[str, object]], *, level: Level = "full", kind: str | None = None
) -> None:
    """Raise RecordError when `records` break the schema at `level` ("full" needs `kind`)."""
    if level == "keys":
        for record in records:
            missing = [key for key in RECORD_KEYS if key not in record]
            if missing:
                raise RecordError(f"record {record.get('id')!r} lacks {', '.join(missing)}")
        return
    if level == "full":
        if kind not in _MODELS:
            raise ValueError(f"no record model for kind {kind!r}")
        _MODELS[kind](records)
    problems = contract_problems(records)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise RecordError("; ".join(problems[:3]) + more)


def contract_problems(records: Iterable[Mapping[str, object]]) -> list[str]:
    """Breaches of the search contract, one short message each (empty when fine)."""
    problems: list[str] = []
    seen: set[str] = set()
    for record in records:
        record_id = record.get("id")
        if not isinstance(record_id, str) or not record_id:
            problems.append(f"a record has no string id: {str(record)[:80]}")
            continue
        if record_id in seen:
            problems.append(f"record {record_id!r} appears twice")
        seen.add(record_id)
        problems.extend(f"record {record_id!r}: {p}" for p in _record_problems(record))
    return problems


def _record_problems(record: Mapping[str, object]) -> Iterable[str]:
    if record.get("kind") not in RECORD_KINDS:
        yield f"kind {record.get('kind')!r} is not nhs/private"
    name = record.get("name")
    if not isinstance(name, str) or not name.strip():
        yield "no name"
    for axis, limit in (("lat", 90), ("lon", 180)):
        value = record.get(axis)
        if value is not None and (not isinstance(value, int | float) or abs(value) > limit):
            yield f"{axis} {value!r} is not a coordinate"
    if record.get("location_precision") not in LOCATION_PRECISIONS:
        yield f"location_precision {record.get('location_precision')!r}"
    for key in URL_FIELDS:
        value = record.get(key)
        if value is not None and not is_http_url(str(value)):
            yield f"{key} {str(value)[:60]!r} is not an http(s) link"
    if not record.get("source"):
        yield "no source"
    if not ISO_DATE.match(str(record.get("last_verified", ""))):
        yield f"last_verified {record.get('last_verified')!r} is not an ISO date"
    for key in ("works_online", "works_in_person"):
        if not isinstance(record.get(key), bool):
            yield f"{key} is not true/false"


def records_document(records: Iterable[Mapping[str, object]]) -> dict[str, object]:
    """The layout of every record file: the schema version and the records sorted by id."""
    return {"schema_version": SCHEMA_VERSION, "records": sorted(records, key=lambda r: str(r["id"]))}


def document_records(document: object, name: str) -> list[dict[str, object]]:
    """The records of a record file's parsed JSON; RecordError when its layout is not this schema."""
    if not isinstance(document, dict) or document.get("schema_version") != SCHEMA_VERSION:
        raise RecordError(f"{name} has an unknown layout (expected schema_version {SCHEMA_VERSION})")
    records = document.get("records")
    if not isinstance(records, list):
        raise RecordError(f"{name} has no 'records' list")
    return records
