"""Publishing the NHS source tables: each stored in data/ with services.json re-derived from every
table held, and the manifest, in one atomic publish, so the directory never describes sources that
are not there. A table much smaller than the one held is refused unless the caller lifts the check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from finder import store
from finder.imports import guard, refuse_shrink
from finder.imports.nhs.links import LinkRecords
from finder.imports.nhs.outcomes import OutcomeSection
from finder.schema import (
    LINKS_FILE,
    MANIFEST_FILE,
    OUTCOMES_FILE,
    PROVIDERS_FILE,
    ROLES_FILE,
    SCHEMA_VERSION,
    SERVICE_AREAS_FILE,
    SERVICES_FILE,
    records_document,
    validate,
)
from finder.services import LINKS_SEEN_NOTE, ODS_DESCRIPTION, derive_services

PROVIDERS_SOURCE_NAME = "nhs-providers"
OUTCOMES_SOURCE_NAME = "nhs-outcomes"
LINKS_SOURCE_NAME = "service-links"
SERVICES_SOURCE_NAME = "services"


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _load(name: str, directory: Path | None) -> dict[str, Any] | None:
    document = store.read_json(name, directory, default=None)
    return document if isinstance(document, dict) else None


def _manifest_sources(directory: Path | None) -> dict[str, Any]:
    manifest = _load(MANIFEST_FILE, directory) or {}
    return dict(manifest.get("sources", {}))


def _held_checksums(source: str, directory: Path | None) -> dict[str, str]:
    return dict(_manifest_sources(directory).get(source, {}).get("source_sha256") or {})


def _manifest_bytes(entries: Mapping[str, Mapping], directory: Path | None) -> bytes:
    sources = _manifest_sources(directory)
    for source, info in entries.items():
        sources[source] = dict(info)
    return store.json_bytes({"sources": dict(sorted(sources.items()))})


def _active_codes(directory: Path | None) -> set[str] | None:
    """The active organisations of the held providers table (None: no table yet)."""
    providers = _load(PROVIDERS_FILE, directory)
    if not providers:
        return None
    return {r["org_code"] for r in providers["records"] if r["status"] == "Active"}


def _with_checksums(entry: dict[str, Any], source_sha256: Mapping[str, str] | None) -> dict[str, Any]:
    """The manifest entry, with the sha256 of the source file when the rows came from one (rows a
    refresh fetched have no file to check data/ against)."""
    return entry if source_sha256 is None else {**entry, "source_sha256": dict(source_sha256)}


# The stored source tables services.json is derived from, in derivation order.
SOURCE_TABLES = (PROVIDERS_FILE, OUTCOMES_FILE, LINKS_FILE, SERVICE_AREAS_FILE, ROLES_FILE)


def publish_table(
    source_file: str,
    source_doc: dict,
    source_entry: tuple[str, dict],
    directory: Path | None,
) -> list[str]:
    """Publish one source table with services.json re-derived from it and the other stored tables,
    and the manifest, atomically. Returns report lines about the derived directory."""
    files = {source_file: store.json_bytes(source_doc)}
    entries = {source_entry[0]: source_entry[1]}
    tables = {name: (source_doc if name == source_file else _load(name, directory)) for name in SOURCE_TABLES}
    providers = tables[PROVIDERS_FILE]
    lines: list[str] = []
    if providers is not None:
        records, derive_lines = derive_services(tables)
        validate(records, kind="nhs")  # the declared schema, before anything is written
        files[SERVICES_FILE] = store.json_bytes(records_document(records))
        located = sum(1 for r in records if r["lat"] is not None)
        entries[SERVICES_SOURCE_NAME] = {
            "records": len(records),
            "with_coordinates": located,
            "offers_ipt_true": sum(1 for r in records if r["offers_ipt"] is True),
            "derived_from": [name for name, doc in tables.items() if doc is not None],
            "derived_at": today(),
        }
        lines += derive_lines
    else:
        lines.append("services.json not rebuilt yet: import nhs-providers to build the directory")
    files[MANIFEST_FILE] = _manifest_bytes(entries, directory)

    def check_written(temps: Mapping[str, Path]) -> None:
        for name, temp in temps.items():
            if name.endswith(".json"):
                json.loads(temp.read_text(encoding="utf-8"))  # a torn write never replaces data

    store.publish(files, validate=check_written, directory=directory)
    return lines


def _provider_lines(name: str, records: list[dict[str, str | None]], shrink_line: str | None) -> list[str]:
    active = sum(1 for r in records if r["status"] == "Active")
    inactive = [r for r in records if r["status"] != "Active"]
    lines = [f"Imported {len(records)} organisations from {name}: {active} active"]
    if shrink_line:
        lines.append(shrink_line)
    if inactive:
        lines.append(
            f"  {len(inactive)} inactive kept out of the directory: "
            + ", ".join(
                f"{r['org_code']} {r['org_name']}" + (f" (closed {r['end_date']})" if r["end_date"] else "")
                for r in inactive
            )
        )
    return lines


def publish_providers(
    records: list[dict[str, str | None]],
    *,
    source: str,
    directory: Path | None = None,
    max_shrink: float | None = None,
    source_sha256: Mapping[str, str] | None = None,
    ignored: Sequence[str] = (),
) -> list[str]:
    """Publish checked provider records (see `provider_records`) with services.json re-derived;
    returns the report lines. `max_shrink`: refuse fewer than (1 - max_shrink) of the active
    providers held now (None: no check)."""
    imported_at = today()
    document = {
        "schema_version": SCHEMA_VERSION,
        "source": source,
        "source_description": ODS_DESCRIPTION,
        "imported_at": imported_at,
        "records": sorted(records, key=lambda r: str(r["org_code"])),
    }
    active = sum(1 for r in records if r["status"] == "Active")
    held = _load(PROVIDERS_FILE, directory) or {}
    held_active = sum(1 for r in held.get("records", []) if r.get("status") == "Active")
    shrink_line = refuse_shrink(source, "active providers", active, held_active, max_shrink)
    lines = _provider_lines(source, records, shrink_line)
    if ignored:
        lines.append(f"  ignored columns: {', '.join(ignored)}")
    entry = {
        "source": source,
        "description": ODS_DESCRIPTION,
        "imported_at": imported_at,
        "organisations": len(records),
        "active": active,
        "licence": "Open Government Licence v3.0",
    }
    entry = _with_checksums(entry, source_sha256)
    return lines + publish_table(PROVIDERS_FILE, document, (PROVIDERS_SOURCE_NAME, entry), directory)


def _outcomes_outside(document: Mapping[str, Any], imported: set[str], active: set[str] | None) -> list[str]:
    """Report lines for the figures of organisations not in the directory, in the years just
    imported (they are stored, and kept out of the directory)."""
    if active is None:
        return []
    lines = []
    for kind in ("main", "therapy"):
        for period, section in document[kind].items():
            outside = sorted(set(section["providers"]) - active)
            if outside and section["source"] in imported:
                lines.append(
                    f"  {period}: figures for {len(outside)} organisations not in the directory "
                    f"(inactive or not listed), kept out: {', '.join(outside)}"
                )
    return lines


def publish_outcomes(
    sections: Sequence[OutcomeSection],
    *,
    path: Path,
    directory: Path | None = None,
    max_shrink: float | None = None,
) -> list[str]:
    """Publish the mapped tables of the annual file at `path` (see `outcome_section`) beside the
    years held, with services.json re-derived. `max_shrink`: refuse a year that lists fewer than
    (1 - max_shrink) of the providers held for that year now (None: no check)."""
    existing = _load(OUTCOMES_FILE, directory) or {}
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "main": dict(existing.get("main", {})),
        "therapy": dict(existing.get("therapy", {})),
    }
    imported_at = today()
    lines = []
    for mapped in sections:
        layout, period = mapped.layout, mapped.period
        section = {"source": mapped.source, "imported_at": imported_at, **mapped.section}
        held = len((existing.get(layout, {}).get(period) or {}).get("providers", {}))
        shrink_line = refuse_shrink(
            mapped.source, f"providers for {period}", len(section["providers"]), held, max_shrink
        )
        document[layout][period] = section
        lines.append(
            f"Imported NHS England {period} {'main measures' if layout == 'main' else 'therapy-based outcomes'} "
            f"from {mapped.source}"
        )
        lines += mapped.lines + ([shrink_line] if shrink_line else [])
    document["main"] = dict(sorted(document["main"].items()))
    document["therapy"] = dict(sorted(document["therapy"].items()))
    lines += _outcomes_outside(document, {m.source for m in sections}, _active_codes(directory))
    entry = {
        "source": ", ".join(sorted({s["source"] for k in ("main", "therapy") for s in document[k].values()})),
        "description": "NHS England, NHS Talking Therapies for anxiety and depression, annual reports",
        "imported_at": imported_at,
        "main_periods": list(document["main"]),
        "therapy_periods": list(document["therapy"]),
        "licence": "Open Government Licence v3.0",
        # Every year's file is a source of this table: earlier files' checksums are kept.
        "source_sha256": _held_checksums(OUTCOMES_SOURCE_NAME, directory) | guard.source_checksums([path]),
    }
    lines += publish_table(OUTCOMES_FILE, document, (OUTCOMES_SOURCE_NAME, entry), directory)
    return lines


def _link_lines(name: str, mapped: LinkRecords, shrink_line: str | None) -> list[str]:
    records = mapped.records
    lines = [f"Imported {len(records)} service-link rows from {name} ({LINKS_SEEN_NOTE})"]
    if shrink_line:
        lines.append(shrink_line)
    lines.append(
        f"  {sum(1 for r in records if r['self_referral_url'])} online self-referral links, "
        f"{sum(1 for r in records if r['self_referral_phones'])} self-referral phone numbers, "
        f"{sum(1 for r in records if r['offers_ipt'])} IPT mentions"
    )
    if mapped.refused_urls:
        lines.append(
            f"  {len(mapped.refused_urls)} non-http(s) links refused (a user name before the host counts): "
            + "; ".join(mapped.refused_urls)
        )
    if mapped.non_public:
        lines.append(
            f"  {len(mapped.non_public)} links on a host not for the public (staging, test, local) not kept "
            "as a website or self-referral link (the evidence keeps them): " + "; ".join(mapped.non_public)
        )
    return lines


def publish_service_links(
    mapped: LinkRecords,
    *,
    source: str,
    directory: Path | None = None,
    max_shrink: float | None = None,
    source_sha256: Mapping[str, str] | None = None,
    ignored: Sequence[str] = (),
) -> list[str]:
    """Publish checked service-link records (see `link_records`) with services.json re-derived;
    returns the report lines. `max_shrink`: refuse fewer than (1 - max_shrink) of the rows held
    now (None: no check)."""
    records = mapped.records
    imported_at = today()
    document = {
        "schema_version": SCHEMA_VERSION,
        "source": source,
        "seen": LINKS_SEEN_NOTE,
        "imported_at": imported_at,
        "records": sorted(records, key=lambda r: str(r["org_code"])),
    }
    held = len((_load(LINKS_FILE, directory) or {}).get("records", []))
    shrink_line = refuse_shrink(source, "service-link rows", len(records), held, max_shrink)
    lines = _link_lines(source, mapped, shrink_line)
    if ignored:
        lines.append(f"  ignored columns: {', '.join(ignored)}")
    active = _active_codes(directory)
    outside = sorted({r["org_code"] for r in records} - active) if active is not None else []
    if outside:
        lines.append(
            f"  {len(outside)} rows for organisations not in the directory, kept out: {', '.join(outside)}"
        )
    entry = {"source": source, "imported_at": imported_at, "rows": len(records), "note": LINKS_SEEN_NOTE}
    entry = _with_checksums(entry, source_sha256)
    return lines + publish_table(LINKS_FILE, document, (LINKS_SOURCE_NAME, entry), directory)
