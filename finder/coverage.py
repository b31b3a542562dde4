"""Which NHS Talking Therapies services will take a person: the answer comes before distance.

NHS Talking Therapies accepts people by the area of the GP practice they are registered with (the
sub-ICB location, formerly the CCG), whatever the distance; a service's registered office may be
nowhere near the people it serves ("Everyturn Services LTD - Nottingham City" is registered in
Harrogate). So each NHS service is placed in one of four tiers for the person's area:

- `covers`: one of the districts it serves is the person's district (or, for a GP surgery, a
  district of the GP's sub-ICB). Shown whatever the distance, best evidence first. Where the
  person's district is not known (a town or outcode whose postcodes lie in several districts), a
  service that serves only some of those districts is marked `covers_part`: it is for part of the
  place, never "your service", until a postcode or GP surgery says which part.
- `national`: open to people anywhere in England (who it is for is said by its role and audience:
  SignHealth is for Deaf people who use BSL; ieso only where a local service offers it).
- `same_icb`: based in the person's Integrated Care Board while where it takes people from is not
  known (only its headquarters district), or while no service is known to cover the person.
- `elsewhere`: everything else, only within the radius, and labelled as possibly taking only people
  registered with a GP in its own area.

This module is pure: it reads the records' `areas_served`, `national`, `icb_code`, `role` and
`lead_id` fields and the person's district and ICB codes, and never looks anything up itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

TIERS = ("covers", "national", "same_icb", "elsewhere")
COVERS, NATIONAL, SAME_ICB, ELSEWHERE = range(4)
CONFIDENCE_RANK = {"high": 0, "medium": 1, "low": 2}
# The strongest basis first: the NHS directory's own list of areas, then the registered name
# naming the area, a catchment phrase, a public page, and last the headquarters' district only.
BASIS_RANK = {"nhs_directory": 0, "name": 1, "catchment": 2, "public_page": 3, "hq_area": 4}
WEAK_BASES = frozenset({"hq_area"})
# Roles whose people refer through another service (`lead_id`): they are folded into it.
FOLDED_ROLES = frozenset({"partner", "site"})


@dataclass(frozen=True, kw_only=True)
class PersonArea:
    """Where the person is, in NHS terms: every district that may be theirs, and the ICBs."""

    districts: frozenset[str]
    icbs: frozenset[str]
    # False for a town, outcode or sector whose postcodes lie in several districts: each of
    # `districts` may be the person's, and a service for only some of them may not be theirs.
    settled: bool = True

    @property
    def known(self) -> bool:
        return bool(self.districts)


class CoverageIndex:
    """The coverage facts of a dataset's records, arranged once for fast per-search lookups."""

    def __init__(self, records: Sequence[Mapping]):
        size = len(records)
        self.by_district: dict[str, list[tuple[int, Mapping]]] = {}
        self.national = np.zeros(size, dtype=bool)
        self.areas_known = np.zeros(size, dtype=bool)
        self.ended = np.zeros(size, dtype=bool)
        self.specialist = np.zeros(size, dtype=bool)
        self.nhs = np.zeros(size, dtype=bool)
        self.index_of_id: dict[str, int] = {}
        self.in_icb: dict[str, np.ndarray] = {}  # ICB code -> the NHS services based in it
        # Partners and sites can each fold away one result: a search builds that many extra.
        self.foldable = sum(1 for r in records if r.get("role") in FOLDED_ROLES and r.get("lead_id"))
        for i, record in enumerate(records):
            self.index_of_id[record["id"]] = i
            if record.get("kind") != "nhs":
                continue
            self.nhs[i] = True
            if record.get("icb_code"):
                self.in_icb.setdefault(record["icb_code"], np.zeros(size, dtype=bool))[i] = True
            self.national[i] = bool(record.get("national"))
            self.ended[i] = bool(record.get("probably_ended"))
            self.specialist[i] = record.get("role") == "specialist"
            for row in record.get("areas_served") or ():
                self.by_district.setdefault(row["code"], []).append((i, row))
                if row.get("basis") not in WEAK_BASES:
                    self.areas_known[i] = True


_PARTIAL = re.compile(r"\bonly\b", re.I)


def is_partial(row: Mapping) -> bool:
    """The evidence says the service takes people from only part of the district ("Craven
    only"): the district is named, but the person may live in another part of it."""
    return bool(_PARTIAL.search(str(row.get("evidence") or "")))


def evidence_rank(row: Mapping) -> int:
    """How sure a row is that the service takes the person, surest 0: its confidence, one step
    less sure where it covers only part of the district."""
    return CONFIDENCE_RANK.get(str(row.get("confidence")), 9) + is_partial(row)


def best_row(rows: Iterable[Mapping]) -> Mapping:
    """The strongest evidence among a service's rows for the person's districts."""
    return min(
        rows,
        key=lambda row: (evidence_rank(row), BASIS_RANK.get(str(row.get("basis")), 9), row.get("code", "")),
    )


@dataclass(frozen=True, kw_only=True)
class Tiers:
    """Per record: its tier (an index into TIERS), and for `covers` the evidence row used."""

    tier: np.ndarray
    confidence_rank: np.ndarray
    covering_rows: dict[int, Mapping]
    partial: frozenset[int] = frozenset()  # `covers` records that serve only part of the place

    @property
    def any_covering(self) -> bool:
        return bool(self.covering_rows)


def classify(index: CoverageIndex, person: PersonArea, eligible: np.ndarray) -> Tiers:
    """Tier every record for the person. `eligible` masks the records a search may show (a
    service that has probably ended never covers anyone)."""
    size = len(index.nhs)
    tier = np.full(size, ELSEWHERE, dtype=np.int8)
    confidence = np.full(size, 9, dtype=np.int8)
    rows_by_record: dict[int, list[Mapping]] = {}
    for district in person.districts:
        for i, row in index.by_district.get(district, ()):
            if eligible[i]:
                rows_by_record.setdefault(i, []).append(row)
    covering = {i: best_row(rows) for i, rows in rows_by_record.items()}
    partial = frozenset(
        i
        for i, rows in rows_by_record.items()
        if not person.settled and not person.districts <= {row["code"] for row in rows}
    )
    tier[index.national & index.nhs] = NATIONAL
    if person.icbs:
        in_icb = np.zeros(size, dtype=bool)
        for icb in person.icbs:
            if icb in index.in_icb:
                in_icb |= index.in_icb[icb]
        # With a service known to cover the person, the ICB's other services whose areas we do
        # know are not for them; with none known, every service based in the ICB is the best lead.
        same_icb = in_icb if not covering else in_icb & ~index.areas_known
        tier[same_icb & (tier == ELSEWHERE)] = SAME_ICB
    for i, row in covering.items():
        tier[i] = COVERS
        confidence[i] = evidence_rank(row)
    return Tiers(tier=tier, confidence_rank=confidence, covering_rows=covering, partial=partial)


COVERS_PART = "covers_part"  # a result's `coverage` for a service for part of the place


def coverage_fields(tier: int, row: Mapping | None, *, part: bool = False) -> dict:
    """The coverage keys a search result carries."""
    return {
        "coverage": COVERS_PART if part and tier == COVERS else TIERS[tier],
        "coverage_basis": None if row is None else row.get("basis"),
        "coverage_confidence": None if row is None else row.get("confidence"),
        "coverage_evidence": None if row is None else row.get("evidence"),
    }


def fold_into_leads(results: list[dict], lead_result: Callable[[str], dict | None]) -> list[dict]:
    """One entry per service a person can refer to. A partner or a site is listed under its lead
    (people refer through the lead): the lead takes the partner's place if it is not already
    shown higher, and lists the partner in `delivered_with`. `lead_result(id)` builds the lead's
    own result (its own distance), or None where we hold no such service or it has ended; then
    the partner stays as it is."""
    folded: list[dict] = []
    position: dict[str, int] = {}
    for result in results:
        lead_id = result.get("lead_id") if result.get("role") in FOLDED_ROLES else None
        lead = lead_result(lead_id) if lead_id and lead_id not in position else None
        if lead_id is None or (lead_id not in position and lead is None):
            if result["id"] not in position:  # else already shown as an earlier partner's lead
                position[result["id"]] = len(folded)
                folded.append({**result, "delivered_with": list(result.get("delivered_with") or [])})
            continue
        if lead is not None:
            # The lead stands where its partner would have, with the partner's reason to be here.
            evidence = result.get("coverage_evidence")
            lead.update(
                coverage=result.get("coverage"),
                coverage_basis=result.get("coverage_basis"),
                coverage_confidence=result.get("coverage_confidence"),
                coverage_evidence=f"Through {display_name(result)}: {evidence}" if evidence else None,
                delivered_with=[],
            )
            position[lead_id] = len(folded)
            folded.append(lead)
        entry = folded[position[lead_id]]
        if all(item["id"] != result["id"] for item in entry["delivered_with"]):
            entry["delivered_with"].append({"id": result["id"], "name": display_name(result)})
    return folded


def display_name(record: Mapping) -> str:
    """The name people know a service by: its public name where we hold one."""
    return str(record.get("service_name") or record.get("name") or "")
