"""Import the NHS Talking Therapies sources and (re)derive the service directory `data/services.json`.

Three importers, each storing its normalised source table in `data/` and re-deriving
`services.json` in the same atomic publish (with the manifest), so the directory never describes
sources that are not there:

- `nhs-providers`: the ODS list of organisations delivering NHS Talking Therapies
  (-> `nhs_providers.json`). Inactive organisations are stored with their status but kept out of
  the directory, and reported.
- `nhs-outcomes`: NHS England annual "main measures" or "therapy-based outcomes", CSV or the
  published zip; the layout is detected from the header (-> `nhs_outcomes.json`, one section per
  year, so importing 2023-24 and then 2024-25 keeps both).
- `service-links`: websites, self-referral routes, age limits and IPT mentions seen on public
  pages (-> `service_links.json`). Dates unknown: recorded as "seen", never as "verified".

Headers are checked against the known layouts: a missing or renamed column is refused with a
`SourceFormatError` naming it, before anything is written. In the statistics `*` (suppressed, small
numbers) and `NULL` (not applicable) are missing values, never zero.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from finder import store
from finder.errors import SourceFormatError
from finder.imports import guard, refuse_shrink
from finder.imports.tables import Layout, SourceTable, check_header, read_table, read_tables
from finder.schema import (
    LINKS_FILE,
    MANIFEST_FILE,
    OUTCOMES_FILE,
    PROVIDERS_FILE,
    ROLES_FILE,
    SCHEMA_VERSION,
    SERVICE_AREAS_FILE,
    SERVICES_FILE,
    non_public_host,
    records_document,
    safe_url,
    validate,
)
from finder.services import LINKS_SEEN_NOTE, ODS_DESCRIPTION, derive_services
from finder.textrules import (
    all_uk_phones,
)

# --- Known layouts ----------------------------------------------------------------------------

PROVIDER_COLUMNS = (
    "org_code",
    "org_name",
    "status",
    "start_date",
    "end_date",
    "postcode",
    "town",
    "icb_code",
    "icb_name",
    "region_code",
    "region_name",
)
PROVIDER_STATUSES = ("Active", "Inactive")

MAIN_REQUIRED = (
    "OrgType",
    "OrgCode",
    "OrgName",
    "VariableType",
    "VariableA",
    "VariableB",
    "Count_ReferralsReceived",
    "Count_FinishedCourseTreatment",
    "Count_Improvement",
    "Percentage_Improvement",
    "Count_ReliableRecovery",
    "Percentage_ReliableRecovery",
    "Count_Recovery",
    "Percentage_Recovery",
)
MAIN_KNOWN_EXTRA = (
    "Count_AtCaseness",
    "Count_NotAtCaseness",
    "Count_Deterioration",
    "Percentage_Deterioration",
    "Count_NoReliableChange",
    "Percentage_NoReliableChange",
)
THERAPY_REQUIRED = (
    "OrganisationType",
    "OrganisationCode",
    "OrganisationName",
    "Diagnosis",
    "TherapyType",
    "Count_CoursesOfTherapy",
    "Count_TherRecovery",
    "Percentage_TherRecovery",
    "Percentage_TherRelRecovery",
    "Percentage_TherImprovement",
)
THERAPY_KNOWN_EXTRA = (
    "Count_TotalFinishingCourseTreatment",
    "Count_NotCaseness",
    "Count_TherRelRecovery",
    "Count_TherImprovement",
    "Count_TherDeterioration",
    "Percentage_TherDeterioration",
    "Count_TherNoChange",
    "Percentage_TherNoChange",
)
LINK_COLUMNS = (
    "org_code",
    "org_name",
    "service_name",
    "website",
    "self_referral_url",
    "self_referral_phone",
    "min_age",
    "offers_ipt",
    "catchment",
    "evidence_urls",
    "notes",
)
PROVIDERS_LAYOUT = Layout(title="ODS providers", columns=PROVIDER_COLUMNS)
MAIN_LAYOUT = Layout(title="annual main measures", columns=MAIN_REQUIRED, known_extra=MAIN_KNOWN_EXTRA)
THERAPY_LAYOUT = Layout(
    title="therapy-based outcomes", columns=THERAPY_REQUIRED, known_extra=THERAPY_KNOWN_EXTRA
)
LINKS_LAYOUT = Layout(title="service links", columns=LINK_COLUMNS)

MISSING_MARKERS = frozenset({"*", "NULL", ""})  # suppressed, not applicable, empty: never zero
MAIN_ORG_TYPES = ("Provider", "ICB", "England")
THERAPY_ORG_TYPES = ("Provider", "England")
# NHS England's therapy names. DIT is recorded under brief psychodynamic psychotherapy, a
# different therapy from IPT: the two are kept apart.
IPT_THERAPY = "interpersonal psycho therapy (ipt)"
DIT_THERAPY = "brief psychodynamic psychotherapy"
# The waiting-time measure for starting treatment, and its bands.
ACCESS_WAIT = "Accessing services"
BAND_6_WEEKS = "<6 weeks"
BAND_18_WEEKS = "<18 weeks"
BAND_MEAN = "Mean wait"

PROVIDERS_SOURCE_NAME = "nhs-providers"
OUTCOMES_SOURCE_NAME = "nhs-outcomes"
LINKS_SOURCE_NAME = "service-links"
SERVICES_SOURCE_NAME = "services"


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _number(value: str, name: str, column: str, line: int) -> float | None:
    """A published count or percentage; `*` and `NULL` are missing, never zero."""
    if value in MISSING_MARKERS:
        return None
    try:
        number = float(value.replace(",", ""))
    except ValueError:
        raise SourceFormatError(
            f"{name}: row {line}, column {column} holds {value!r}, not a number, '*' or 'NULL'"
        ) from None
    return number


def _count(value: str, name: str, column: str, line: int) -> int | None:
    number = _number(value, name, column, line)
    if number is not None and not (math.isfinite(number) and 0 <= number < 1e9):
        raise SourceFormatError(f"{name}: row {line}, column {column} holds {value!r}, not a count")
    return None if number is None else round(number)


def _pct(value: str, name: str, column: str, line: int) -> float | None:
    number = _number(value, name, column, line)
    if number is not None and not 0 <= number <= 100:
        raise SourceFormatError(f"{name}: row {line}, column {column} holds {value!r}, not a percentage")
    return number


_PERIOD_IN_NAME = re.compile(r"(20\d\d)[-_ ]?(\d\d)(?!\d)")


def period_from_name(name: str) -> str:
    """The financial year in a file name: annual_main_2024-25.csv -> "2024-25"."""
    for match in _PERIOD_IN_NAME.finditer(Path(name).name):
        start, end = int(match.group(1)), int(match.group(2))
        if (start + 1) % 100 == end:
            return f"{start}-{end:02d}"
    raise SourceFormatError(
        f"{name}: cannot tell the reporting year from the file name; name it like "
        "annual_main_2024-25.csv or therapy_based_outcomes_2024-25.csv"
    )


def _period_for(table: SourceTable, path: Path) -> str:
    """The year from the CSV's own name, else from the zip that holds it."""
    try:
        return period_from_name(table.name.split(":", 1)[-1])
    except SourceFormatError:
        return period_from_name(path.name)


# --- The stored source tables -----------------------------------------------------------------


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


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def source_rows(
    rows: Iterable[Mapping[str, object]], columns: Sequence[str], name: str
) -> list[dict[str, str]]:
    """Rows that did not come from a file (a refresh's) as the CSV reader gives them: every column
    a string stripped of surrounding space ("" for a missing value), refused if it holds a control
    character, as the import guard refuses a file that does."""
    cleaned = []
    for line, row in enumerate(rows, start=2):
        cells = {}
        for column in columns:
            value = row.get(column)
            text = "" if value is None else str(value)
            if _CONTROL.search(text):
                raise SourceFormatError(f"{name}: row {line}, column {column} holds a control character")
            cells[column] = text.strip()
        cleaned.append(cells)
    return cleaned


# The stored source tables services.json is derived from, in derivation order.
SOURCE_TABLES = (PROVIDERS_FILE, OUTCOMES_FILE, LINKS_FILE, SERVICE_AREAS_FILE, ROLES_FILE)


def _publish(
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
            "derived_at": _today(),
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


# --- nhs-providers ----------------------------------------------------------------------------

_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _provider_record(row: Mapping[str, str], where: str, seen: set[str]) -> dict[str, str | None]:
    code = row["org_code"].upper()
    if not re.fullmatch(r"[A-Z0-9]{3,6}", code):
        raise SourceFormatError(f"{where}: {row['org_code']!r} is not an ODS code")
    if code in seen:
        raise SourceFormatError(f"{where}: organisation {code} appears twice")
    seen.add(code)
    if row["status"] not in PROVIDER_STATUSES:
        raise SourceFormatError(f"{where}: status {row['status']!r} is not one of {PROVIDER_STATUSES}")
    postcode = " ".join(row["postcode"].upper().split())
    if postcode and not _POSTCODE.match(postcode):
        raise SourceFormatError(f"{where}: {row['postcode']!r} is not a postcode")
    for key in ("start_date", "end_date"):
        if row[key] and not _DATE.match(row[key]):
            raise SourceFormatError(f"{where}: {key} {row[key]!r} is not an ISO date")
    return {key: (row[key] or None) for key in PROVIDER_COLUMNS} | {
        "org_code": code,
        "postcode": postcode or None,
    }


def provider_records(rows: Iterable[Mapping[str, str]], name: str) -> list[dict[str, str | None]]:
    """The checked provider records of rows in the ODS providers layout (PROVIDER_COLUMNS), in
    their order; `name` (the file's) is for messages. Pure: reads and writes nothing."""
    seen: set[str] = set()
    records = [_provider_record(row, f"{name}: row {line}", seen) for line, row in enumerate(rows, start=2)]
    if not records:
        raise SourceFormatError(f"{name}: no providers in the file")
    return records


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
    imported_at = _today()
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
    return lines + _publish(PROVIDERS_FILE, document, (PROVIDERS_SOURCE_NAME, entry), directory)


def import_providers(
    path: Path, *, directory: Path | None = None, max_shrink: float | None = None
) -> list[str]:
    """Import the ODS provider list. `max_shrink`: refuse a list with fewer than (1 - max_shrink)
    of the active providers held now (the CLI sets it; the refresh job has its own --max-shrink)."""
    table, ignored = read_table(path, PROVIDERS_LAYOUT, what="providers")
    return publish_providers(
        provider_records(table.rows, table.name),
        source=table.name,
        directory=directory,
        max_shrink=max_shrink,
        source_sha256=guard.source_checksums([path]),
        ignored=ignored,
    )


# --- nhs-outcomes -----------------------------------------------------------------------------


def _layout(table: SourceTable) -> str:
    header = set(table.header)
    if "VariableType" in header or "OrgType" in header:
        return "main"
    if "TherapyType" in header or "OrganisationType" in header:
        return "therapy"
    raise SourceFormatError(
        f"{table.name}: not an NHS Talking Therapies annual file: expected the main measures "
        f"({', '.join(MAIN_REQUIRED[:6])}, ...) or the therapy-based outcomes "
        f"({', '.join(THERAPY_REQUIRED[:5])}, ...); header is {', '.join(table.header[:8])}"
    )


def _main_total(row: Mapping[str, str], name: str, line: int) -> dict[str, Any]:
    return {
        "name": row["OrgName"],
        "referrals": _count(row["Count_ReferralsReceived"], name, "Count_ReferralsReceived", line),
        "finished_treatment": _count(
            row["Count_FinishedCourseTreatment"], name, "Count_FinishedCourseTreatment", line
        ),
        "recovery_pct": _pct(row["Percentage_Recovery"], name, "Percentage_Recovery", line),
        "reliable_improvement_pct": _pct(row["Percentage_Improvement"], name, "Percentage_Improvement", line),
        "reliable_recovery_pct": _pct(
            row["Percentage_ReliableRecovery"], name, "Percentage_ReliableRecovery", line
        ),
    }


class _MainMeasures:
    """The main-measures rows read so far: each organisation's Total row and waiting-time bands."""

    def __init__(self, name: str):
        self.name = name
        self.totals: dict[tuple[str, str], dict[str, Any]] = {}
        self.bands: dict[tuple[str, str], dict[str, float | None]] = {}
        self.duplicates: list[str] = []

    def add(self, row: Mapping[str, str], line: int) -> None:
        org_type = row["OrgType"]
        if org_type not in MAIN_ORG_TYPES:
            raise SourceFormatError(
                f"{self.name}: row {line}: OrgType {org_type!r} is not one of {MAIN_ORG_TYPES}"
            )
        key = (org_type, row["OrgCode"].upper())
        if row["VariableType"] == "Total":
            self._add_total(key, _main_total(row, self.name, line), line)
        elif row["VariableType"] == "Waiting Time":
            if row["VariableA"] == ACCESS_WAIT:
                self._add_wait(key, row, line)
        else:
            raise SourceFormatError(
                f"{self.name}: row {line}: VariableType {row['VariableType']!r} is not Total or Waiting Time"
            )

    def _add_total(self, key: tuple[str, str], total: dict[str, Any], line: int) -> None:
        held = self.totals.get(key)
        if held is None:
            self.totals[key] = total
            return
        # One code published twice under two names with the same figures (2023-24: TAF90
        # "KINGSTON DRUG & ALCOHOL SERVICE" and "KINGSTON SMS") is one organisation; different
        # figures for one code cannot be told apart.
        if {k: v for k, v in held.items() if k != "name"} != {k: v for k, v in total.items() if k != "name"}:
            raise SourceFormatError(
                f"{self.name}: row {line}: a second Total row for {key[1]} with different figures"
            )
        self.duplicates.append(f"{key[1]} ({held['name']} / {total['name']})")

    def _add_wait(self, key: tuple[str, str], row: Mapping[str, str], line: int) -> None:
        count = _number(
            row["Count_FinishedCourseTreatment"], self.name, "Count_FinishedCourseTreatment", line
        )
        known = self.bands.setdefault(key, {})
        if row["VariableB"] in known and known[row["VariableB"]] != count:
            raise SourceFormatError(
                f"{self.name}: row {line}: two different '{row['VariableB']}' figures for {key[1]}"
            )
        known[row["VariableB"]] = count

    def organisations(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Each organisation's totals with its waits, by OrgType and code."""
        organisations: dict[str, dict[str, dict[str, Any]]] = {"Provider": {}, "ICB": {}, "England": {}}
        for key, total in self.totals.items():
            waits = self.bands.get(key, {})
            mean = waits.get(BAND_MEAN)
            organisations[key[0]][key[1]] = {
                **total,
                "within_6_weeks_pct": _wait_share(waits, BAND_6_WEEKS, total["finished_treatment"]),
                "within_18_weeks_pct": _wait_share(waits, BAND_18_WEEKS, total["finished_treatment"]),
                "mean_wait_days": round(mean, 1) if mean is not None else None,
            }
        return organisations


def _wait_share(waits: Mapping[str, float | None], band: str, finished: int | None) -> float | None:
    # Share of finished courses that waited less than the band to start treatment: the band's
    # count over the Total row's finished courses (England 2024-25: 614,104 / 670,419 = 91.6%
    # within 6 weeks). Suppressed counts stay missing.
    count = waits.get(band)
    if count is None or not finished:
        return None
    return round(100.0 * count / finished, 1)


def parse_main(table: SourceTable) -> tuple[dict, list[str]]:
    """The main measures: per organisation (providers, ICBs, England) the totals and the share of
    finished courses that started treatment within 6 and 18 weeks."""
    ignored = check_header(table.header, MAIN_LAYOUT, table.name)
    name = table.name
    measures = _MainMeasures(name)
    for line, row in enumerate(table.rows, start=2):
        measures.add(row, line)
    if ("England", "ALL") not in measures.totals:
        raise SourceFormatError(f"{name}: no England Total row (OrgType England, OrgCode All)")
    organisations = measures.organisations()
    if not organisations["Provider"]:
        # An annual report always has provider rows: none means a truncated or wrong file, and
        # importing it would blank every service's figures for the year.
        raise SourceFormatError(f"{name}: no provider rows; the file may be truncated, nothing imported")
    section = {
        "england": organisations["England"]["ALL"],
        "icbs": dict(sorted(organisations["ICB"].items())),
        "providers": dict(sorted(organisations["Provider"].items())),
    }
    lines = [f"  main measures: {len(section['providers'])} providers, {len(section['icbs'])} ICBs, England"]
    if measures.duplicates:
        lines.append(
            f"  the same figures published twice under two names, kept once: {', '.join(measures.duplicates)}"
        )
    if ignored:
        lines.append(f"  ignored columns: {', '.join(ignored)}")
    return section, lines


def _therapy_figures(row: dict, name: str, line: int) -> dict:
    return {
        "courses": _count(row["Count_CoursesOfTherapy"], name, "Count_CoursesOfTherapy", line),
        "recovery_pct": _pct(row["Percentage_TherRecovery"], name, "Percentage_TherRecovery", line),
        "improvement_pct": _pct(row["Percentage_TherImprovement"], name, "Percentage_TherImprovement", line),
        "reliable_recovery_pct": _pct(
            row["Percentage_TherRelRecovery"], name, "Percentage_TherRelRecovery", line
        ),
    }


def parse_therapy(table: SourceTable) -> tuple[dict, list[str]]:
    """Therapy-based outcomes: England by therapy type, and IPT and DIT (brief psychodynamic
    psychotherapy) per provider. Only Diagnosis 'Total' rows are used."""
    ignored = check_header(table.header, THERAPY_LAYOUT, table.name)
    name = table.name
    england: list[dict] = []
    providers: dict[str, dict] = {}
    therapies_seen = set()
    for line, row in enumerate(table.rows, start=2):
        org_type = row["OrganisationType"]
        if org_type not in THERAPY_ORG_TYPES:
            raise SourceFormatError(
                f"{name}: row {line}: OrganisationType {org_type!r} is not one of {THERAPY_ORG_TYPES}"
            )
        if row["Diagnosis"] != "Total":
            continue
        therapy = " ".join(row["TherapyType"].split())
        therapies_seen.add(therapy.lower())
        figures = _therapy_figures(row, name, line)
        if org_type == "England":
            england.append({"therapy_type": therapy, **figures})
            continue
        kind = {IPT_THERAPY: "ipt", DIT_THERAPY: "dit"}.get(therapy.lower())
        if kind:
            entry = providers.setdefault(row["OrganisationCode"].upper(), {"name": row["OrganisationName"]})
            entry[kind] = figures
    if not england:
        raise SourceFormatError(f"{name}: no England rows with Diagnosis 'Total'")
    for wanted in (IPT_THERAPY, DIT_THERAPY):
        if wanted not in therapies_seen:
            raise SourceFormatError(
                f"{name}: no '{wanted}' therapy rows; the therapy names may have changed "
                f"(found: {', '.join(sorted(therapies_seen)[:6])}...)"
            )
    section = {
        "england": sorted(england, key=lambda r: r["therapy_type"]),
        "providers": dict(sorted(providers.items())),
    }
    ipt_positive = sum(1 for p in providers.values() if (p.get("ipt") or {}).get("courses"))
    lines = [f"  therapy-based outcomes: {len(providers)} providers, {ipt_positive} with IPT courses > 0"]
    if ignored:
        lines.append(f"  ignored columns: {', '.join(ignored)}")
    return section, lines


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


def import_outcomes(
    path: Path, *, directory: Path | None = None, max_shrink: float | None = None
) -> list[str]:
    """Import one annual file (CSV or zip). `max_shrink`: refuse a year that lists fewer than
    (1 - max_shrink) of the providers held for that year now (None: no check)."""
    path = Path(path)
    tables = read_tables(path)
    existing = _load(OUTCOMES_FILE, directory) or {}
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "main": dict(existing.get("main", {})),
        "therapy": dict(existing.get("therapy", {})),
    }
    imported_at = _today()
    lines = []
    for table in tables:
        layout = _layout(table)
        period = _period_for(table, path)
        section, section_lines = (parse_main if layout == "main" else parse_therapy)(table)
        section = {"source": table.name, "imported_at": imported_at, **section}
        held = len((existing.get(layout, {}).get(period) or {}).get("providers", {}))
        shrink_line = refuse_shrink(
            table.name, f"providers for {period}", len(section["providers"]), held, max_shrink
        )
        document[layout][period] = section
        lines.append(
            f"Imported NHS England {period} {'main measures' if layout == 'main' else 'therapy-based outcomes'} "
            f"from {table.name}"
        )
        lines += section_lines + ([shrink_line] if shrink_line else [])
    document["main"] = dict(sorted(document["main"].items()))
    document["therapy"] = dict(sorted(document["therapy"].items()))
    lines += _outcomes_outside(document, {t.name for t in tables}, _active_codes(directory))
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
    lines += _publish(OUTCOMES_FILE, document, (OUTCOMES_SOURCE_NAME, entry), directory)
    return lines


# --- service-links ----------------------------------------------------------------------------


def link_row(record: Mapping[str, Any]) -> dict[str, str]:
    """A stored service_links.json record back in the service-links layout (LINK_COLUMNS), so a
    refresh can change stored rows and map them again with `link_records`."""
    known: dict[object, str] = {True: "yes", False: "no"}
    offers = known.get(record.get("offers_ipt"), "")
    return {
        "org_code": record["org_code"],
        "org_name": record.get("org_name") or "",
        "service_name": record.get("service_name") or "",
        "website": record.get("website") or "",
        "self_referral_url": record.get("self_referral_url") or "",
        "self_referral_phone": record.get("self_referral_phone_text") or "",
        "min_age": "" if record.get("min_age") is None else str(record["min_age"]),
        "offers_ipt": offers,
        "catchment": record.get("catchment") or "",
        "evidence_urls": " | ".join(record.get("evidence_urls") or []),
        "notes": record.get("notes") or "",
    }


@dataclass(frozen=True, kw_only=True)
class LinkRecords:
    """Checked service-link records, with the links refused on the way (for the report)."""

    records: list[dict[str, Any]]
    refused_urls: list[str]  # "CODE: url": not http(s), or a user name before the host
    non_public: list[str]  # "CODE: url": on a host not for the public, kept only as evidence


class _LinkChecker:
    """The link rules of one service-links table, collecting what they refuse."""

    def __init__(self) -> None:
        self.refused_urls: list[str] = []
        self.non_public: list[str] = []

    def url(self, value: str, code: str) -> str | None:
        if not value:
            return None
        safe = safe_url(value)
        if safe is not None and urlsplit(safe).username is not None:
            # "https://name@host/...": a mangled address, and the shape of a phishing link.
            safe = None
        if safe is None:
            self.refused_urls.append(f"{code}: {value[:60]}")
        return safe

    def link(self, value: str, code: str) -> str | None:
        # A website or self-referral link a person is sent to: never on a host not for the public
        # (a staging copy of the site); the evidence URLs keep it as where it was read.
        safe = self.url(value, code)
        if safe is not None and non_public_host(safe):
            self.non_public.append(f"{code}: {safe}")
            return None
        return safe


def _link_record(row: Mapping[str, str], code: str, where: str, links: _LinkChecker) -> dict[str, Any]:
    evidence = [u for u in (links.url(part.strip(), code) for part in row["evidence_urls"].split("|")) if u]
    offers = row["offers_ipt"].strip().lower()
    if offers not in ("", "yes", "no"):
        raise SourceFormatError(f"{where}: offers_ipt {row['offers_ipt']!r} is not yes, no or empty")
    min_age = row["min_age"]
    if min_age and not re.fullmatch(r"\d{1,2}", min_age):
        raise SourceFormatError(f"{where}: min_age {min_age!r} is not a whole number")
    return {
        "org_code": code,
        "org_name": row["org_name"] or None,
        "service_name": row["service_name"] or None,
        "website": links.link(row["website"], code),
        "self_referral_url": links.link(row["self_referral_url"], code),
        "self_referral_phone_text": row["self_referral_phone"] or None,
        "self_referral_phones": all_uk_phones(row["self_referral_phone"]),
        "min_age": int(min_age) if min_age else None,
        "offers_ipt": {"yes": True, "no": False}.get(offers),
        "catchment": row["catchment"] or None,
        "evidence_urls": evidence,
        "notes": row["notes"] or None,
    }


def link_records(rows: Iterable[Mapping[str, str]], name: str) -> LinkRecords:
    """The checked records of rows in the service-links layout (LINK_COLUMNS), in their order;
    links that are not http(s), or not for the public, are left out and listed. Pure."""
    records = []
    seen = set()
    links = _LinkChecker()
    for line, row in enumerate(rows, start=2):
        code = row["org_code"].upper()
        if not code:
            raise SourceFormatError(f"{name}: row {line} has no org_code")
        if code in seen:
            raise SourceFormatError(f"{name}: row {line}: organisation {code} appears twice")
        seen.add(code)
        records.append(_link_record(row, code, f"{name}: row {line}", links))
    return LinkRecords(records=records, refused_urls=links.refused_urls, non_public=links.non_public)


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
    imported_at = _today()
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
    return lines + _publish(LINKS_FILE, document, (LINKS_SOURCE_NAME, entry), directory)


def import_service_links(
    path: Path, *, directory: Path | None = None, max_shrink: float | None = None
) -> list[str]:
    """Import service_links.csv. `max_shrink`: refuse a file with fewer than (1 - max_shrink) of
    the rows held now (None: no check)."""
    table, ignored = read_table(path, LINKS_LAYOUT, what="service links")
    return publish_service_links(
        link_records(table.rows, table.name),
        source=table.name,
        directory=directory,
        max_shrink=max_shrink,
        source_sha256=guard.source_checksums([path]),
        ignored=ignored,
    )
