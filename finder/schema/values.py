"""The values the record models allow and the field names code reads, without pydantic: search,
the app, the store readers and every command use these, and pydantic is only imported where records
are checked (before a write) or documented (finder/schema/records.py, documents.py)."""

from __future__ import annotations

from typing import Literal, get_args

SCHEMA_VERSION = 1  # the "schema_version" of every {"schema_version": 1, "records": [...]} file

# The field names read without the models, in order: the search contract's keys (the fields of
# finder.schema.records.SearchRecord; the store readers and search check every record has them),
# and those of a service_areas.json and a service_roles.json row (AreaRow, RoleRow; the importers
# take their CSV headers from them). records.py refuses to load while a model and its list differ,
# so a new field is its line in the model and its name here.
RECORD_KEYS = (
    *("id", "kind", "name", "lat", "lon", "location_precision", "offers_ipt", "ipt_evidence"),
    *("self_referral_url", "phone", "website", "email", "source", "last_verified"),
    *("works_online", "works_in_person"),
)
# `part` ("Craven area"; "" for the whole district) and `local_service_name` (the service's public
# name in that district; "" for the provider's public name) come last.
AREA_ROW_KEYS = (
    *("org_code", "org_name", "code", "name", "basis", "evidence", "confidence"),
    *("part", "local_service_name"),
)
ROLE_ROW_KEYS = ("org_code", "org_name", "role", "audience", "lead_org_code", "evidence", "confidence")
# service_areas.csv names two columns otherwise than the stored row; every other column is its field.
AREA_CSV_NAMES = {"code": "lad24_code", "name": "lad24_name"}
AREA_COLUMNS = tuple(AREA_CSV_NAMES.get(key, key) for key in AREA_ROW_KEYS)
ROLE_COLUMNS = ROLE_ROW_KEYS

Kind = Literal["nhs", "private"]
LocationPrecision = Literal["postcode", "sector", "outcode"]
Confidence = Literal["high", "medium", "low"]
SelfReferral = Literal["online", "phone", "unknown"]
ProvenanceGroup = Literal["location", "contacts", "outcomes", "ipt"]
# Where a service takes people from (service_areas.csv; the NHS directory when refreshed). Bases
# from strongest to weakest: the NHS directory's own list, a public page naming the areas, the
# registered name naming the area, a catchment phrase, and, with nothing better, the district of
# the headquarters. "national" rows (open to all of England) are held as `national`, not as areas.
AreaBasis = Literal["nhs_directory", "public_page", "name", "catchment", "hq_area"]
# What a provider is to the public (service_roles.csv).
Role = Literal["lead", "partner", "specialist", "digital", "site", "unclear"]
IptBasis = Literal["official_latest", "official_earlier", "website"]
# The core professional registers a practitioner's registration can be on, by their short codes.
Register = Literal["HCPC", "BACP", "UKCP", "BABCP", "NCPS"]

NATIONAL_CODE = "ENGLAND"  # service_areas.csv: lad24_code of a service open to all of England
NATIONAL_BASIS = "national"
PRACTITIONER_KIND = "private"
DISTRICT_PATTERN = r"^E0[6-9]\d{6}$"  # an ONS local authority district (LAD) code in England

RECORD_KINDS: tuple[str, ...] = get_args(Kind)
LOCATION_PRECISIONS = (*get_args(LocationPrecision), None)
CONFIDENCES: tuple[str, ...] = get_args(Confidence)
SELF_REFERRAL_KINDS: tuple[str, ...] = get_args(SelfReferral)
PROVENANCE_GROUPS: tuple[str, ...] = get_args(ProvenanceGroup)
AREA_BASES: tuple[str, ...] = get_args(AreaBasis)
ROLES: tuple[str, ...] = get_args(Role)
IPT_BASES: tuple[str, ...] = get_args(IptBasis)
REGISTERS: tuple[str, ...] = get_args(Register)
