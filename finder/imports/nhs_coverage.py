"""Import which areas each NHS service serves and what it is to the public, and re-derive
`data/services.json`, like the other NHS imports in finder/imports/nhs/:

- `service-areas` (`service_areas.csv`: one row per provider and local authority district, with
  basis, evidence, confidence, the part of the district it covers and the service's local name
  there) -> `data/service_areas.json`; records gain `areas_served` and `national`;
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
from collections.abc import Iterable, Mapping, Sequence, Set
from pathlib import Path

from finder.errors import SourceFormatError
from finder.imports import guard, held_document, references, refuse_shrink
from finder.imports.nhs.publish import publish_table, today
from finder.imports.tables import Layout, SourceTable, read_table
from finder.schema import (
    AREA_BASES,
    AREA_COLUMNS,
    AREA_ROW_KEYS,
    AREAS_FILE,
    CONFIDENCES,
    DISTRICT_CODE,
    NATIONAL_BASIS,
    NATIONAL_CODE,
    PROVIDERS_FILE,
    ROLE_COLUMNS,
    ROLES,
    ROLES_FILE,
    SCHEMA_VERSION,
    SERVICE_AREAS_FILE,
    validate_rows,
)

# Published with the roles but taken from the statistics themselves, so not needed here.
ROLE_KNOWN_EXTRA = ("referrals_2024_25",)
AREAS_LAYOUT = Layout(title="service areas", columns=AREA_COLUMNS)
ROLES_LAYOUT = Layout(title="service roles", columns=ROLE_COLUMNS, known_extra=ROLE_KNOWN_EXTRA)
AREAS_SOURCE_NAME = "service-areas"
ROLES_SOURCE_NAME = "service-roles"
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,6}$")
# A part of a district or a service's name is shown to people as it stands: words and the
# punctuation names use, never markup, a link or a control character.
_NOT_PLAIN = re.compile(r"[<>\[\]{}|\\`*_#$~^=@]|://|\bwww\.|[\x00-\x1f\x7f]")
MAX_PLAIN_CHARS = 150


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
    providers = held_document(PROVIDERS_FILE, directory)
    if not providers:
        return None
    return {r["org_code"] for r in providers["records"] if r["status"] == "Active"}


def _held_rows(name: str, directory: Path | None) -> int:
    return len(held_document(name, directory).get("records", []))


# --- service-areas ---------------------------------------------------------------------------


def area_source_row(record: Mapping[str, str]) -> dict[str, str]:
    """A stored area row (finder.schema.AREA_ROW_KEYS) back in service_areas.csv's columns, so a
    refresh can put rows it holds through `areas_to_records` again without writing a CSV."""
    # Rows stored before `part` and `local_service_name` were imported have neither.
    return dict(zip(AREA_COLUMNS, (record.get(key, "") for key in AREA_ROW_KEYS), strict=True))


def areas_to_records(
    rows: Iterable[Mapping[str, str]],
    *,
    name: str = "service areas",
    districts: Set[str] | None = None,
) -> list[dict]:
    """The checked rows of service_areas.csv (columns AREA_COLUMNS) as stored (see
    finder.schema.AREA_ROW_KEYS), sorted by provider and district. `districts`: the district
    codes the area tables know (None: not checked). Pure: `name` only labels the errors, which
    name the row (counted from 2, as in the file)."""
    records, seen = [], set()
    for line, row in enumerate(rows, start=2):
        where = f"{name}: row {line}"
        record = {**_area_record(row, where), **_area_part_and_name(row, where)}
        _known_district(record, districts, where)
        key = (record["org_code"], record["code"])
        if key in seen:
            raise SourceFormatError(f"{name}: row {line}: {key[0]} and {key[1]} appear twice")
        seen.add(key)
        records.append(record)
    if not records:
        raise SourceFormatError(f"{name}: no rows; nothing imported")
    return sorted(records, key=lambda r: (r["org_code"], r["code"]))


def _area_record(row: Mapping[str, str], where: str) -> dict:
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
    values = (code, row["org_name"], district, row["lad24_name"], basis, row["evidence"], confidence)
    return dict(zip(AREA_ROW_KEYS[:7], values, strict=True))


def _area_part_and_name(row: Mapping[str, str], where: str) -> dict[str, str]:
    """`part` (empty: the whole district) and `local_service_name` (empty: the provider's public
    name), each plain text. The part alone says a row covers only part of its district."""
    values = {}
    for column in ("part", "local_service_name"):
        text = " ".join(str(row.get(column) or "").split())
        if _NOT_PLAIN.search(str(row.get(column) or "")) or len(text) > MAX_PLAIN_CHARS:
            raise SourceFormatError(
                f"{where}: {column} {text[:60]!r} is not plain text (words and punctuation, at most "
                f"{MAX_PLAIN_CHARS} characters, no markup or links)"
            )
        values[column] = text
    return values


def _known_district(record: Mapping[str, str], districts: Set[str] | None, where: str) -> None:
    code = record["code"]
    if districts is not None and code != NATIONAL_CODE and code not in districts:
        raise SourceFormatError(
            f"{where}: {record['org_code']}'s lad24_code {code} is not a district the area tables know"
        )


def held_districts(directory: Path | None) -> set[str] | None:
    """The district codes of data/areas.json, None before it is built. Only current codes: a
    person's district is always one of them, so a row under an older code would never be found."""
    districts = held_document(AREAS_FILE, directory).get("districts")
    return set(districts) if districts else None


def area_rows(table: SourceTable, districts: Set[str] | None = None) -> list[dict]:
    """The checked rows of a service_areas.csv table as stored (`areas_to_records`)."""
    return areas_to_records(table.rows, name=table.name, districts=districts)


def import_service_areas(
    path: Path,
    *,
    directory: Path | None = None,
    max_shrink: float | None = None,
    allow: references.Allow = references.ALLOW_NONE,
) -> list[str]:
    """`max_shrink`: refuse a file with fewer than (1 - max_shrink) of the rows held now (the CLI
    sets it, as for nhs-providers); `allow`: what the operator lets through (much larger)."""
    table, ignored = read_table(path, AREAS_LAYOUT, what="service areas")
    # Each row naming a district the area tables lack is refused by its row number here; the
    # publish checks the references again for every writer (finder/imports/references.py).
    records = areas_to_records(table.rows, name=table.name, districts=held_districts(directory))
    return publish_service_areas(
        records, allow=allow, **_published_as(path, table, ignored, directory, max_shrink)
    )


def _published_as(
    path: Path, table: SourceTable, ignored: Sequence[str], directory: Path | None, max_shrink: float | None
) -> dict:
    """The keywords of `publish_service_areas` and `publish_service_roles` for a table read from `path`."""
    return {
        "source": table.name,
        "directory": directory,
        "max_shrink": max_shrink,
        "source_sha256": guard.source_checksums([path]),
        "ignored": ignored,
    }


def publish_service_areas(
    records: list[dict],
    *,
    source: str,
    directory: Path | None = None,
    max_shrink: float | None = None,
    source_sha256: Mapping[str, str] | None = None,
    ignored: Sequence[str] = (),
    allow: references.Allow = references.ALLOW_NONE,
) -> list[str]:
    """Publish area records from `areas_to_records` as data/service_areas.json and re-derive the
    directory from them; returns the report lines. `source` names where the rows came from."""
    held = _held_rows(SERVICE_AREAS_FILE, directory)
    refuse_shrink(source, "area rows", len(records), held, max_shrink)
    growth = references.check_growth(source, "area rows", len(records), held, allow.growth)
    references.check_districts(records, directory, source)
    providers = {r["org_code"] for r in records}
    bases = Counter(r["basis"] for r in records)
    lines = [
        f"Imported {len(records)} area rows for {len(providers)} providers from {source}: "
        + ", ".join(f"{basis} {n}" for basis, n in bases.most_common())
    ]
    partial = sum(1 for r in records if r["part"])
    local = sum(1 for r in records if r["local_service_name"])
    if partial or local:
        lines.append(
            f"  {partial} rows cover part of a district; {local} name the service's local name there"
        )
    lines += growth + _directory_gaps(providers, _active_codes(directory))
    return lines + _publish_rows(
        SERVICE_AREAS_FILE, AREAS_SOURCE_NAME, records, source, source_sha256, ignored, directory
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


def roles_to_records(
    rows: Iterable[Mapping[str, str]], held: set[str] | None = None, *, name: str = "service roles"
) -> list[dict]:
    """The checked rows of service_roles.csv (columns ROLE_COLUMNS) as stored, sorted by provider.
    A lead code must be a provider of the rows or one of `held` (the active services in data/).
    Pure: `name` only labels the errors."""
    records, seen = [], set()
    for line, row in enumerate(rows, start=2):
        where = f"{name}: row {line}"
        code = _org_code(row["org_code"], where)
        if code in seen:
            raise SourceFormatError(f"{where}: organisation {code} appears twice")
        seen.add(code)
        lead = _org_code(row["lead_org_code"], where) if row["lead_org_code"] else None
        if lead == code:
            raise SourceFormatError(f"{where}: {code} names itself as its lead")
        records.append(
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
    if not records:
        raise SourceFormatError(f"{name}: no rows; nothing imported")
    known = seen | (held or set())
    unknown = sorted(
        f"{r['org_code']} -> {r['lead_org_code']}"
        for r in records
        if r["lead_org_code"] not in (None, *known)
    )
    if unknown:
        raise SourceFormatError(f"{name}: lead_org_code is not a service we hold: {', '.join(unknown)}")
    return sorted(records, key=lambda r: r["org_code"])


def role_rows(table: SourceTable, held: set[str] | None = None) -> list[dict]:
    """The checked rows of a service_roles.csv table (`roles_to_records`)."""
    return roles_to_records(table.rows, held, name=table.name)


def import_service_roles(
    path: Path,
    *,
    directory: Path | None = None,
    max_shrink: float | None = None,
    allow: references.Allow = references.ALLOW_NONE,
) -> list[str]:
    table, ignored = read_table(path, ROLES_LAYOUT, what="service roles")
    records = roles_to_records(table.rows, _active_codes(directory), name=table.name)
    return publish_service_roles(
        records, allow=allow, **_published_as(path, table, ignored, directory, max_shrink)
    )


def publish_service_roles(
    records: list[dict],
    *,
    source: str,
    directory: Path | None = None,
    max_shrink: float | None = None,
    source_sha256: Mapping[str, str] | None = None,
    ignored: Sequence[str] = (),
    allow: references.Allow = references.ALLOW_NONE,
) -> list[str]:
    """Publish role records from `roles_to_records` as data/service_roles.json and re-derive the
    directory from them; returns the report lines."""
    held = held_document(ROLES_FILE, directory).get("records", [])
    refuse_shrink(source, "role rows", len(records), len(held), max_shrink)
    checked = references.check_growth(source, "role rows", len(records), len(held), allow.growth)
    references.check_lead_chains(records, source)
    checked += references.check_role_change(records, held, source, allow.mass_change)
    roles = Counter(r["role"] for r in records)
    ended = sum(1 for r in records if references.is_ended(r))
    lines = [
        f"Imported {len(records)} service roles from {source}: "
        + ", ".join(f"{role} {roles[role]}" for role in ROLES if roles[role])
        + f" ({ended} marked probably ended)"
    ]
    lines += checked + _directory_gaps({r["org_code"] for r in records}, _active_codes(directory))
    return lines + _publish_rows(
        ROLES_FILE, ROLES_SOURCE_NAME, records, source, source_sha256, ignored, directory
    )


def _publish_rows(
    file_name: str,
    source_name: str,
    rows: list[dict],
    source: str,
    source_sha256: Mapping[str, str] | None,
    ignored: Sequence[str],
    directory: Path | None,
) -> list[str]:
    """Publish a checked source table as it was read (with the checksum of its file) and re-derive
    the service records from it."""
    validate_rows(file_name, rows)  # the declared row model, before anything is written
    lines = [f"  ignored columns: {', '.join(ignored)}"] if ignored else []
    document = {
        "schema_version": SCHEMA_VERSION,
        "source": source,
        "imported_at": today(),
        "records": rows,
    }
    entry = {
        "source": source,
        "imported_at": document["imported_at"],
        "rows": len(rows),
    }
    if source_sha256 is not None:
        entry["source_sha256"] = dict(source_sha256)
    return lines + publish_table(file_name, document, (source_name, entry), directory)
