"""Mapping NHS England's annual reports (pure: reads and writes nothing): the "main measures" per
organisation with its waits, and the therapy-based outcomes of IPT and DIT per provider. In the
statistics `*` (suppressed, small numbers) and `NULL` (not applicable) are missing values, never
zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finder.errors import SourceFormatError
from finder.imports.nhs.read import MAIN_LAYOUT, THERAPY_LAYOUT, annual_layout, period_for
from finder.imports.tables import SourceTable, check_header

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


@dataclass(frozen=True, kw_only=True)
class OutcomeSection:
    """One table of an annual file, mapped: its layout ("main" or "therapy"), its year, its
    figures and the report lines about them."""

    layout: str
    period: str
    source: str  # the table's name (a zip's member as "zip:member")
    section: dict[str, Any]
    lines: list[str]


def outcome_section(table: SourceTable, path: Path) -> OutcomeSection:
    """The figures of one table of the annual file at `path` (a CSV, or a zip that holds it)."""
    layout = annual_layout(table)
    period = period_for(table, path)
    section, lines = (parse_main if layout == "main" else parse_therapy)(table)
    return OutcomeSection(layout=layout, period=period, source=table.name, section=section, lines=lines)
