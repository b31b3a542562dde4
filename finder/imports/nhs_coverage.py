"""Import which areas each NHS service serves and what it is to the public, and re-derive
`data/services.json`, like the other NHS imports in finder/imports/nhs.py:

- `service-areas` (`service_areas.csv`: one row per provider and local authority district, with
  basis, evidence and confidence) -> `data/service_areas.json`; records gain `areas_served` and
  `national`;
- `service-roles` (`service_roles.csv`: one row per provider: lead, partner, specialist, digital,
  site or unclear) -> `data/service_roles.json`; records gain `role`, `audience`, `lead_id`,
  `role_evidence`, `role_confidence`, `probably_ended`.

Headers and values are checked before anything is written (one error naming every missing and
unexpected column); the source table and the re-derived directory are published atomically; a
file holding much less than what data/ holds is refused unless --allow-shrink is given.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from finder import store
from finder.coverage import is_partial
from finder.errors import SourceFormatError
from finder.imports import guard, refuse_shrink
from finder.imports.nhs import _publish, _today
from finder.imports.tables import Layout, SourceTable, check_header, read_tables
from finder.schema import (
    AREA_BASES,
    AREA_ROW_KEYS,
    CONFIDENCES,
    DISTRICT_CODE,
    NATIONAL_BASIS,
    NATIONAL_CODE,
    PROVIDERS_FILE,
    ROLES,
    ROLES_FILE,
    SCHEMA_VERSION,
    SERVICE_AREAS_FILE,
)

AREA_COLUMNS = ("org_code", "org_name", "lad24_code", "lad24_name", "basis", "evidence", "confidence")
ROLE_COLUMNS = ("org_code", "org_name", "role", "audience", "lead_org_code", "evidence", "confidence")
# Published with the roles but taken from the statistics themselves, so not needed here.
ROLE_KNOWN_EXTRA = ("referrals_2024_25",)
AREAS_LAYOUT = Layout(title="service areas", columns=AREA_COLUMNS)
ROLES_LAYOUT = Layout(title="service roles", columns=ROLE_COLUMNS, known_extra=ROLE_KNOWN_EXTRA)
AREAS_SOURCE_NAME = "service-areas"
ROLES_SOURCE_NAME = "service-roles"
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,6}$")


def _one_table(path: Path, what: str) -> SourceTable:
    tables = read_tables(path)
    if len(tables) != 1:
        raise SourceFormatError(f"{Path(path).name}: expected one CSV of {what}, found {len(tables)}")
    return tables[0]


def _org_code(value: str, where: str) -> str:
    code = value.strip().upper()
    if not _ODS_CODE.match(code):
        raise SourceFormatError(f"{where}: {value!r} is not an ODS organisation code")
    return code


def _choice(value: str, allowed: tuple[str, ...], column: str, where: str) -> str:
    if value not in allowed:
        raise SourceFormatError(f"{where}: {column} {value!r} is not one of {', '.join(allowed)}")
    return value


def _active_codes(directory: Path | None) -> set[str] | None:
    providers = store.read_json(PROVIDERS_FILE, directory, default=None)
    if not providers:
        return None
    return {r["org_code"] for r in providers["records"] if r["status"] == "Active"}


def _held_rows(name: str, directory: Path | None) -> int:
    return len((store.read_json(name, directory, default=None) or {}).get("records", []))


# --- service-areas ---------------------------------------------------------------------------


def area_rows(table: SourceTable) -> list[dict]:
    """The checked rows of service_areas.csv as stored (see finder.schema.AREA_ROW_KEYS)."""
    rows, seen = [], set()
    for line, row in enumerate(table.rows, start=2):
        where = f"{table.name}: row {line}"
        code = _org_code(row["org_code"], where)
        district = row["lad24_code"].strip().upper()
        basis = _choice(row["basis"], (*AREA_BASES, NATIONAL_BASIS), "basis", where)
        confidence = _choice(row["confidence"], CONFIDENCES, "confidence", where)
        if (district == NATIONAL_CODE) != (basis == NATIONAL_BASIS):
            raise SourceFormatError(
                f"{where}: lad24_code {NATIONAL_CODE} goes with basis {NATIONAL_BASIS} and only with it "
                f"(found {district!r} with {basis!r})"
            )
        if district != NATIONAL_CODE and not DISTRICT_CODE.match(district):
            raise SourceFormatError(
                f"{where}: lad24_code {row['lad24_code']!r} is not an English district code (E06-E09 and "
                f"6 digits) or {NATIONAL_CODE}"
            )
        if not row["lad24_name"] or not row["evidence"]:
            raise SourceFormatError(f"{where}: lad24_name and evidence must not be empty")
        if (code, district) in seen:
            raise SourceFormatError(f"{where}: {code} and {district} appear twice")
        seen.add((code, district))
        values = (code, row["org_name"], district, row["lad24_name"], basis, row["evidence"], confidence)
        rows.append(dict(zip(AREA_ROW_KEYS, values, strict=True)))
    if not rows:
        raise SourceFormatError(f"{table.name}: no rows; nothing imported")
    return sorted(rows, key=lambda r: (r["org_code"], r["code"]))


def import_service_areas(
    path: Path, *, directory: Path | None = None, max_shrink: float | None = None
) -> list[str]:
    """`max_shrink`: refuse a file with fewer than (1 - max_shrink) of the rows held now (the CLI
    sets it, as for nhs-providers)."""
    table = _one_table(path, "service areas")
    ignored = check_header(table.header, AREAS_LAYOUT, table.name)
    return publish_service_areas(
        area_rows(table),
        source=table.name,
        directory=directory,
        max_shrink=max_shrink,
        source_sha256=guard.source_checksums([path]),
        ignored=ignored,
    )


def publish_service_areas(
    rows: list[dict],
    *,
    source: str,
    directory: Path | None = None,
    max_shrink: float | None = None,
    source_sha256: dict[str, str] | None = None,
    ignored: list[str] | tuple[str, ...] = (),
) -> list[str]:
    """Publish checked area rows (see `area_rows`) with services.json re-derived; the refresh
    calls it with the NHS directory's areas (no source file: no checksum recorded)."""
    refuse_shrink(source, "area rows", len(rows), _held_rows(SERVICE_AREAS_FILE, directory), max_shrink)
    providers = {r["org_code"] for r in rows}
    bases = Counter(r["basis"] for r in rows)
    lines = [
        f"Imported {len(rows)} area rows for {len(providers)} providers from {source}: "
        + ", ".join(f"{basis} {n}" for basis, n in bases.most_common())
    ]
    partial = [r for r in rows if is_partial(r)]
    if partial:
        lines.append(
            f"  {len(partial)} rows whose evidence says only part of the district is served (kept verbatim)"
        )
    lines += _directory_gaps(providers, _active_codes(directory))
    return lines + _publish_rows(
        SERVICE_AREAS_FILE, AREAS_SOURCE_NAME, rows, source, source_sha256, ignored, directory
    )


def _directory_gaps(codes: set[str], active: set[str] | None) -> list[str]:
    if active is None:
        return []
    lines = []
    outside = sorted(codes - active)
    if outside:
        lines.append(f"  {len(outside)} organisations not in the directory, kept out: {', '.join(outside)}")
    missing = sorted(active - codes)
    if missing:
        lines.append(f"  {len(missing)} active services have no row: {', '.join(missing)}")
    return lines


# --- service-roles ---------------------------------------------------------------------------


def role_rows(table: SourceTable, held: set[str] | None = None) -> list[dict]:
    """The checked rows of service_roles.csv. A lead code must be a provider of the file or one
    of `held` (the active services in data/)."""
    rows, seen = [], set()
    for line, row in enumerate(table.rows, start=2):
        where = f"{table.name}: row {line}"
        code = _org_code(row["org_code"], where)
        if code in seen:
            raise SourceFormatError(f"{where}: organisation {code} appears twice")
        seen.add(code)
        lead = _org_code(row["lead_org_code"], where) if row["lead_org_code"] else None
        if lead == code:
            raise SourceFormatError(f"{where}: {code} names itself as its lead")
        rows.append(
            {
                "org_code": code,
                "org_name": row["org_name"],
                "role": _choice(row["role"], ROLES, "role", where),
                "audience": row["audience"] or None,
                "lead_org_code": lead,
                "evidence": row["evidence"] or None,
                "confidence": _choice(row["confidence"], CONFIDENCES, "confidence", where),
            }
        )
    if not rows:
        raise SourceFormatError(f"{table.name}: no rows; nothing imported")
    known = seen | (held or set())
    unknown = sorted(
        f"{r['org_code']} -> {r['lead_org_code']}" for r in rows if r["lead_org_code"] not in (None, *known)
    )
    if unknown:
        raise SourceFormatError(f"{table.name}: lead_org_code is not a service we hold: {', '.join(unknown)}")
    return sorted(rows, key=lambda r: r["org_code"])


def import_service_roles(
    path: Path, *, directory: Path | None = None, max_shrink: float | None = None
) -> list[str]:
    table = _one_table(path, "service roles")
    ignored = check_header(table.header, ROLES_LAYOUT, table.name)
    active = _active_codes(directory)
    rows = role_rows(table, active)
    refuse_shrink(table.name, "role rows", len(rows), _held_rows(ROLES_FILE, directory), max_shrink)
    roles = Counter(r["role"] for r in rows)
    ended = sum(1 for r in rows if (r["evidence"] or "").lower().startswith("probably ended:"))
    lines = [
        f"Imported {len(rows)} service roles from {table.name}: "
        + ", ".join(f"{role} {roles[role]}" for role in ROLES if roles[role])
        + f" ({ended} marked probably ended)"
    ]
    lines += _directory_gaps({r["org_code"] for r in rows}, active)
    return lines + _publish_rows(
        ROLES_FILE, ROLES_SOURCE_NAME, rows, table.name, guard.source_checksums([path]), ignored, directory
    )


def _publish_rows(
    file_name: str,
    source_name: str,
    rows: list,
    source: str,
    source_sha256: dict[str, str] | None,
    ignored,
    directory: Path | None,
) -> list[str]:
    """Publish a checked source table as it was read (with the checksum of its file, if it came
    from one) and re-derive the service records from it."""
    lines = [f"  ignored columns: {', '.join(ignored)}"] if ignored else []
    document = {
        "schema_version": SCHEMA_VERSION,
        "source": source,
        "imported_at": _today(),
        "records": rows,
    }
    entry = {
        "source": source,
        "imported_at": document["imported_at"],
        "rows": len(rows),
    }
    if source_sha256 is not None:
        entry["source_sha256"] = source_sha256
    return lines + _publish(file_name, document, (source_name, entry), directory)
