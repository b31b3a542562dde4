"""The schema of data/: every file name, the schema version, the record models and the link rule,
with the one validator that importers, the refresh, the store readers and search all use.

Two kinds of record are searched together: NHS services (services.json, kind "nhs") and private
practitioners (practitioners.json, kind "private"). Both follow the search contract
(`SearchRecord`, whose keys are `RECORD_KEYS`); each kind's model adds its own fields
(`ServiceRecord` with its `Outcomes`, `PractitionerRecord`). `validate` checks records at one of
three depths (see `Level`).

The models are pydantic models (finder/schema/records.py; every data/ file's layout in
finder/schema/documents.py, published as JSON Schema in docs/schema/). Records still travel as
the plain JSON dicts they are stored as, from the importers through data/ to the search's numpy
index: a model checks a dict when it is written (and its keys when it is loaded), never per
search, and is never dumped back, so a check cannot change a byte of data/.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from finder.errors import RecordError
from finder.schema.files import (
    AREAS_FILE,
    GP_FILE,
    LINKS_FILE,
    MANIFEST_FILE,
    NHS_FILES,
    OUTCODES_FILE,
    OUTCOMES_FILE,
    PLACES_FILE,
    POSTCODE_FILES,
    POSTCODES_FILE,
    PRACTITIONERS_FILE,
    PROVIDERS_FILE,
    ROLES_FILE,
    SECTORS_FILE,
    SERVICE_AREAS_FILE,
    SERVICES_FILE,
)
from finder.schema.links import http_url, is_http_url, non_public_host, public_url, safe_url
from finder.schema.values import (
    AREA_BASES,
    AREA_COLUMNS,
    AREA_ROW_KEYS,
    CONFIDENCES,
    DISTRICT_PATTERN,
    IPT_BASES,
    LOCATION_PRECISIONS,
    NATIONAL_BASIS,
    NATIONAL_CODE,
    PRACTITIONER_KIND,
    PROVENANCE_GROUPS,
    RECORD_KEYS,
    RECORD_KINDS,
    REGISTERS,
    ROLE_COLUMNS,
    ROLE_ROW_KEYS,
    ROLES,
    SCHEMA_VERSION,
    SELF_REFERRAL_KINDS,
    Register,
)

if TYPE_CHECKING:
    from finder.schema.base import Model, Problem
    from finder.schema.records import (
        AREA_KEYS,
        PRACTITIONER_KEYS,
        SERVICE_FIELD_NAMES,
        AreaRow,
        AreaServed,
        Outcomes,
        PractitionerRecord,
        RoleRow,
        SearchRecord,
        ServiceRecord,
    )

# The record models and the key lists read off them are imported on first use (`__getattr__`):
# pydantic is loaded where records are checked (before a write) or documented, never by search.
_FROM_THE_MODELS = (
    "AREA_KEYS",
    "PRACTITIONER_KEYS",
    "SERVICE_FIELD_NAMES",
    "AreaRow",
    "AreaServed",
    "Outcomes",
    "PractitionerRecord",
    "RoleRow",
    "SearchRecord",
    "ServiceRecord",
)


def __getattr__(name: str) -> object:
    if name not in _FROM_THE_MODELS:
        raise AttributeError(f"module 'finder.schema' has no attribute {name!r}")
    return getattr(importlib.import_module("finder.schema.records"), name)


__all__ = [
    "AREAS_FILE",
    "AREA_BASES",
    "AREA_COLUMNS",
    "AREA_KEYS",
    "AREA_ROW_KEYS",
    "CONFIDENCES",
    "DISTRICT_CODE",
    "GP_FILE",
    "IPT_BASES",
    "LINKS_FILE",
    "LOCATION_PRECISIONS",
    "MANIFEST_FILE",
    "NATIONAL_BASIS",
    "NATIONAL_CODE",
    "NHS_FILES",
    "OUTCODES_FILE",
    "OUTCOMES_FILE",
    "PLACES_FILE",
    "POSTCODES_FILE",
    "POSTCODE_FILES",
    "PRACTITIONERS_FILE",
    "PRACTITIONER_KEYS",
    "PRACTITIONER_KIND",
    "PROVENANCE_GROUPS",
    "PROVIDERS_FILE",
    "RECORD_KEYS",
    "RECORD_KINDS",
    "REGISTERS",
    "ROLES",
    "ROLES_FILE",
    "ROLE_COLUMNS",
    "ROLE_ROW_KEYS",
    "SCHEMA_VERSION",
    "SECTORS_FILE",
    "SELF_REFERRAL_KINDS",
    "SERVICES_FILE",
    "SERVICE_AREAS_FILE",
    "SERVICE_FIELD_NAMES",
    "AreaRow",
    "AreaServed",
    "Level",
    "Outcomes",
    "PractitionerRecord",
    "RecordError",
    "Register",
    "RoleRow",
    "SearchRecord",
    "ServiceRecord",
    "contract_problems",
    "document_records",
    "http_url",
    "is_http_url",
    "non_public_host",
    "public_url",
    "records_document",
    "safe_url",
    "validate",
    "validate_practitioner",
    "validate_rows",
    "validate_service",
    "validate_services",
]

DISTRICT_CODE = re.compile(DISTRICT_PATTERN)  # ONS local authority district (LAD) code in England


def _first_problem(model: str, record: Mapping[str, object]) -> Problem | None:
    """The first way `record` breaks the model named `model` (finder/schema/records.py)."""
    from finder.schema.base import problems

    found = problems(_model(model), record)
    return found[0] if found else None


def _model(name: str) -> type[Model]:
    model: type[Model] = getattr(importlib.import_module("finder.schema.records"), name)
    return model


# --- the NHS service record ---------------------------------------------------------------------


def validate_service(record: Mapping[str, object]) -> None:
    """Raise RecordError if `record` breaks the service model or one of its domain rules."""
    problem = _first_problem("ServiceRecord", record)
    if problem is not None:
        raise RecordError(f"service {record.get('id', '?')}: {problem}")


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


def validate_practitioner(record: Mapping[str, object]) -> None:
    """Check a stored practitioner record against its model (used before every publish); the
    error names the first bad field."""
    problem = _first_problem("PractitionerRecord", record)
    if problem is not None:
        raise RecordError.at(problem.field.split(".")[0] or "record", problem.complaint)


def _validate_practitioners(records: Sequence[Mapping[str, object]]) -> None:
    for record in records:
        validate_practitioner(record)


# --- the coverage tables ------------------------------------------------------------------------

_ROW_MODELS = {SERVICE_AREAS_FILE: "AreaRow", ROLES_FILE: "RoleRow"}


def validate_rows(file_name: str, rows: Sequence[Mapping[str, object]]) -> None:
    """Raise RecordError naming the file, the row (counted from 1) and the field when a row of a
    coverage table (service_areas.json, service_roles.json) breaks its model."""
    model = _ROW_MODELS[file_name]
    for number, row in enumerate(rows, start=1):
        problem = _first_problem(model, row)
        if problem is not None:
            raise RecordError(f"{file_name}: record {number}: {problem}")


# --- the one validator --------------------------------------------------------------------------

# How deep `validate` looks:
# "keys"     every record has the search contract's keys (the store readers and search, each load);
# "contract" the search contract's values, for records of any kind (the refresh, before publishing);
# "full"     the kind's whole model (the importers, before anything is written).
Level = Literal["keys", "contract", "full"]
_MODELS = {"nhs": validate_services, PRACTITIONER_KIND: _validate_practitioners}


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
    found = contract_problems(records)
    if found:
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        raise RecordError("; ".join(found[:3]) + more)


def contract_problems(records: Iterable[Mapping[str, object]]) -> list[str]:
    """Breaches of the search contract, one short message each (empty when fine). A key a record
    lacks counts as null."""
    from finder.schema.base import problems

    contract_model = _model("SearchRecord")
    found: list[str] = []
    seen: set[str] = set()
    for record in records:
        record_id = record.get("id")
        if not isinstance(record_id, str) or not record_id:
            found.append(f"a record has no string id: {str(record)[:80]}")
            continue
        if record_id in seen:
            found.append(f"record {record_id!r} appears twice")
        seen.add(record_id)
        contract = {key: record.get(key) for key in RECORD_KEYS}
        found.extend(f"record {record_id!r}: {problem}" for problem in problems(contract_model, contract))
    return found


# --- the record files ---------------------------------------------------------------------------


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
