"""Which NHS Talking Therapies services will take a person: the answer comes before distance.

NHS Talking Therapies accepts people by the area of the GP practice they are registered with (the
sub-ICB location, formerly the CCG), whatever the distance; a service's registered office may be
nowhere near the people it serves ("Everyturn Services LTD - Nottingham City" is registered in
Harrogate). So each NHS service is placed in one of four tiers for the person's area:

- `covers`: one of the districts it serves is the person's district (or, for a GP surgery, its
  own district or one wholly in its sub-ICB). Shown whatever the distance: general services
  first, then those whose role is unclear, services for one group last; surer evidence first
  within each (a row for only part of a district counts one step less sure). The order is
  worked out once per district when the data loads.
  Where the person's district is not known (a town or outcode whose postcodes lie in several
  districts), a service that serves only some of those districts is marked `covers_part`: it is
  for part of the place, never "your service", until a postcode or GP surgery says which part;
  such services come after the others.
- `national`: open to people anywhere in England (who it is for is said by its role and audience:
  SignHealth is for Deaf people who use BSL; ieso only where a local service offers it).
- `same_icb`: based in the person's Integrated Care Board while where it takes people from is not
  known (only its headquarters district), or while no service is known to cover the person.
- `elsewhere`: everything else, only within the radius, and labelled as possibly taking only people
  registered with a GP in its own area.

Each covering result also carries the name the service uses in the person's district and the
part of the district it covers (`local_name_fields`, `coverage_fields`), and sites, partners and
a service's other codes fold into one entry (`fold_into_leads`, `fold_same_service`).

This module is pure: it reads the records' `areas_served`, `national`, `icb_code`, `role` and
`lead_id` fields and the person's district and ICB codes, and never looks anything up itself.
"""

from __future__ import annotations

import functools
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


# The order among the services that cover a person's area: the general service first (a lead,
# or a partner or site people reach through a lead we hold), then services whose place is not
# clear (a partner or site whose lead is unknown, an unclear role), and services for one group of
# people last: those are shown under "Also for you if...", never as the person's own service.
GENERAL, OTHER, SPECIALIST = range(3)


@dataclass(frozen=True, kw_only=True)
class PersonArea:
    """Where the person is, in NHS terms: every district that may be theirs, and the ICBs.
    `own_districts`: the districts whose local service names apply (a GP surgery's own district;
    by default every district)."""

    districts: frozenset[str]
    icbs: frozenset[str]
    own_districts: frozenset[str] | None = None
    # False for a town, outcode or sector whose postcodes lie in several districts: each of
    # `districts` may be the person's, and a service for only some of them may not be theirs.
    settled: bool = True
    # The person's sub-ICB locations where known (a postcode's by its ward, a GP surgery's): in a
    # district split between sub-ICBs, a row for one part of it is theirs only in that part.
    sub_icbs: frozenset[str] = frozenset()

    @property
    def known(self) -> bool:
        return bool(self.districts)

    @property
    def naming_districts(self) -> frozenset[str]:
        return self.own_districts if self.own_districts else self.districts


@dataclass(frozen=True, kw_only=True)
class Covering:
    """The services whose areas include a set of districts, in the order they are shown: `order`
    holds record indices, `best` each one's strongest row, `rows` all its rows there."""

    order: tuple[int, ...]
    best: dict[int, Mapping]
    rows: dict[int, tuple[Mapping, ...]]


NO_COVERING = Covering(order=(), best={}, rows={})
NOWHERE = PersonArea(districts=frozenset(), icbs=frozenset())  # a place outside England's districts
# Sets of several candidate districts (a postcode sector or a town) whose order is kept once worked out.
MAX_CACHED_AREAS = 4096


class CoverageIndex:
    """The coverage facts of a dataset's records, arranged once for fast per-search lookups: the
    order of the covering services is worked out per district when the data loads."""

    def __init__(
        self, records: Sequence[Mapping], parts: Mapping[tuple[int, str], frozenset[str]] | None = None
    ):
        """`parts`: for (record index, district code), the sub-ICBs of a split district that the
        record's row there is for (`part_sub_icbs`); rows not named are for the whole district."""
        size = len(records)
        self.parts = dict(parts or {})
        self.split_districts = frozenset(code for _, code in self.parts)
        self.by_district: dict[str, list[tuple[int, Mapping]]] = {}
        self.national = np.zeros(size, dtype=bool)
        self.areas_known = np.zeros(size, dtype=bool)
        self.ended = np.zeros(size, dtype=bool)
        self.specialist = np.zeros(size, dtype=bool)
        self.nhs = np.zeros(size, dtype=bool)
        self.index_of_id: dict[str, int] = {}
        self.in_icb: dict[str, np.ndarray] = {}  # ICB code -> the NHS services based in it
        # Partners and sites, and the parts of one service, can each fold away one result: a
        # search builds that many extra.
        keys = [key for key in map(service_key, records) if key]
        self.foldable = sum(1 for r in records if r.get("role") in FOLDED_ROLES and r.get("lead_id"))
        self.foldable += len(keys) - len(set(keys))
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
                if not self.ended[i]:  # a service that has probably ended covers no one
                    self.by_district.setdefault(row["code"], []).append((i, row))
                if row.get("basis") not in WEAK_BASES:
                    self.areas_known[i] = True
        self.role_rank = np.array([self._role_rank(r) for r in records], dtype=np.int8)
        # Every record's tier before the person's area is known: national services are for anyone.
        self.national_tier = np.where(self.national & self.nhs, NATIONAL, ELSEWHERE).astype(np.int8)
        self.tiers_cache: dict[tuple, Tiers] = {}
        self._covering: dict[frozenset[str] | tuple, Covering] = {
            frozenset((district,)): self._order(entries) for district, entries in self.by_district.items()
        }

    def _role_rank(self, record: Mapping) -> int:
        role = record.get("role")
        if role == "specialist":
            return SPECIALIST
        if role == "lead":
            return GENERAL
        lead = self.index_of_id.get(str(record.get("lead_id")))
        if role in FOLDED_ROLES and lead is not None and not self.ended[lead]:
            return GENERAL  # shown as its lead, the service people refer to
        return OTHER

    def _order(self, entries: Iterable[tuple[int, Mapping]]) -> Covering:
        rows: dict[int, list[Mapping]] = {}
        for i, row in entries:
            rows.setdefault(i, []).append(row)
        best = {i: best_row(found) for i, found in rows.items()}
        order = sorted(
            best,
            key=lambda i: (
                int(self.role_rank[i]),
                evidence_rank(best[i]),
                BASIS_RANK.get(str(best[i].get("basis")), 9),
                i,
            ),
        )
        return Covering(order=tuple(order), best=best, rows={i: tuple(found) for i, found in rows.items()})

    def covering(self, districts: frozenset[str], sub_icbs: frozenset[str] = frozenset()) -> Covering:
        """The services that cover any of `districts`, in order (worked out once per set). With
        the person's `sub_icbs` known, a row for one part of a split district counts only there."""
        placed = bool(sub_icbs and districts & self.split_districts)  # some rows are for one part
        key: frozenset[str] | tuple = (districts, sub_icbs) if placed else districts
        found = self._covering.get(key)
        if found is None:
            found = self._order(
                (i, row)
                for d in sorted(districts)
                for i, row in self.by_district.get(d, ())
                if not placed or self.parts.get((i, d), sub_icbs) & sub_icbs
            )
            if len(self._covering) < len(self.by_district) + MAX_CACHED_AREAS:
                self._covering[key] = found
        return found


def part_sub_icbs(
    records: Sequence[Mapping],
    sub_icbs_of_district: Callable[[str], Sequence[str]],
    headquarters_sub_icb: Callable[[Mapping], str | None],
) -> dict[tuple[int, str], frozenset[str]]:
    """Which part of a district split between sub-ICB locations a service's row is for, where the
    evidence says so, as (record index, district code) -> sub-ICBs:
    - a row for only part of the district ("Craven area") is for the part in the sub-ICBs of the
      districts the service covers whole: Bradford District Care covers Bradford, all in sub-ICB
      36J, so its row for North Yorkshire is for North Yorkshire's part in 36J, not Harrogate's;
    - a headquarters-only row is for the part its headquarters is in (the Briary Unit in Harrogate).
    Every other row is for the whole district, and so is a row whose part cannot be placed."""
    found: dict[tuple[int, str], frozenset[str]] = {}
    for i, record in enumerate(records):
        rows = [row for row in record.get("areas_served") or () if row.get("code")]
        home: set[str] = set()  # the sub-ICBs of the districts it covers whole
        for row in rows:
            whole = sub_icbs_of_district(row["code"])
            if not row.get("part") and len(whole) == 1:
                home.update(whole)
        for row in rows:
            split = set(sub_icbs_of_district(row["code"]))
            if len(split) < 2:
                continue
            placed: set[str] = set()
            if row.get("basis") == "hq_area":
                headquarters = headquarters_sub_icb(record)
                placed = split & {headquarters} if headquarters else set()
            elif row.get("part"):
                placed = home & split
            if placed:
                found[(i, row["code"])] = frozenset(placed)
    return found


def evidence_rank(row: Mapping) -> int:
    """How sure a row is that the service takes the person, surest 0: its confidence, one step
    less sure where it covers only part of the district (the person may live in another part)."""
    return CONFIDENCE_RANK.get(str(row.get("confidence")), 9) + bool(row.get("part"))


def best_row(rows: Iterable[Mapping]) -> Mapping:
    """The strongest evidence among a service's rows for the person's districts."""
    return min(
        rows,
        key=lambda row: (evidence_rank(row), BASIS_RANK.get(str(row.get("basis")), 9), row.get("code", "")),
    )


@dataclass(frozen=True, kw_only=True)
class Tiers:
    """Per record: its tier (an index into TIERS) and its place among the covering services
    (`rank`, 0 for the rest); the covering services' evidence rows."""

    tier: np.ndarray
    rank: np.ndarray
    covering: Covering
    # A general service covers the person, or a part of their place (not only unclear ones).
    any_general: bool = False
    partial: frozenset[int] = frozenset()  # `covers` records that serve only part of the place
    answers: np.ndarray  # the tier is above `elsewhere`: shown whatever the distance

    @property
    def covering_rows(self) -> dict[int, Mapping]:
        return self.covering.best

    @property
    def any_covering(self) -> bool:
        return bool(self.covering.order)


def classify(index: CoverageIndex, person: PersonArea, eligible: np.ndarray) -> Tiers:
    """Tier every record for the person. `eligible` masks the records a search may show (a
    service that has probably ended never covers anyone). The answer depends only on the area
    and the mask, so it is kept per area (its arrays are shared: never change them)."""
    key = (person.districts, person.icbs, person.settled, person.sub_icbs, eligible.tobytes())
    found = index.tiers_cache.get(key)
    if found is None:
        found = _classify(index, person, eligible)
        if len(index.tiers_cache) >= MAX_CACHED_AREAS:
            index.tiers_cache.clear()
        index.tiers_cache[key] = found
    return found


def _classify(index: CoverageIndex, person: PersonArea, eligible: np.ndarray) -> Tiers:
    size = len(index.nhs)
    tier = index.national_tier.copy()
    rank = np.zeros(size, dtype=np.int16)
    found = index.covering(person.districts, person.sub_icbs) if person.districts else NO_COVERING
    order = tuple(i for i in found.order if eligible.item(i))
    if len(order) != len(found.order):
        found = Covering(
            order=order, best={i: found.best[i] for i in order}, rows={i: found.rows[i] for i in order}
        )
    # A town or outcode over several districts: a service for only some of them is for part of
    # the place, and comes after those for all of it; services for one group of people come after
    # both, as they are shown under "Also for you if..." whichever part they are for.
    partial = frozenset(
        i
        for i in order
        if not person.settled and not person.districts <= {row["code"] for row in found.rows[i]}
    )
    if partial:
        order = tuple(sorted(order, key=lambda i: (index.role_rank.item(i) == SPECIALIST, i in partial)))
    based_in = [index.in_icb[icb] for icb in person.icbs if icb in index.in_icb]
    if based_in:
        in_icb = functools.reduce(np.logical_or, based_in)  # the index's own array if one: only read
        # With a service known to cover the person, the ICB's other services whose areas we do
        # know are not for them; with none known, every service based in the ICB is the best lead.
        same_icb = in_icb if not order else in_icb & ~index.areas_known
        tier[same_icb & (tier == ELSEWHERE)] = SAME_ICB
    if order:
        tier[list(order)] = COVERS
        rank[list(order)] = np.arange(len(order))
    # Known for a place over several districts too when a part of it has one: the person is asked
    # for their postcode or GP surgery to see which, not told that no service is known.
    general = any(index.role_rank.item(i) == GENERAL for i in order)
    return Tiers(
        tier=tier, rank=rank, covering=found, any_general=general, partial=partial, answers=tier < ELSEWHERE
    )


COVERS_PART = "covers_part"  # a result's `coverage` for a service for part of the place


def coverage_fields(tier: int, row: Mapping | None, *, part: bool = False) -> dict:
    """The coverage keys a search result carries. `coverage_part`: the part of the district the
    service takes people from (None: all of it); `coverage_district`: the district the evidence
    is about."""
    return {
        "coverage": COVERS_PART if part and tier == COVERS else TIERS[tier],
        "coverage_basis": None if row is None else row.get("basis"),
        "coverage_confidence": None if row is None else row.get("confidence"),
        "coverage_evidence": None if row is None else row.get("evidence"),
        "coverage_part": None if row is None else row.get("part") or None,
        "coverage_district": None if row is None else row.get("name"),
    }


def local_name_fields(record: Mapping, rows: Sequence[Mapping], person: PersonArea) -> dict:
    """The name people know the service by where the person lives: `service_name` is its local
    name in their district (a row's `local_service_name`, else the provider's public name). Where
    the person's candidate districts call it by different names, `service_name` stays the
    provider's public name and `local_service_names` lists the local ones. `public_service_name`
    is always the provider's public name. A GP surgery's own district decides when the service
    has a row for it."""
    public = record.get("service_name")
    fields: dict[str, object] = {
        "service_name": public,
        "public_service_name": public,
        "local_service_names": [],
    }
    if not rows:
        return fields
    own = [row for row in rows if row.get("code") in person.naming_districts] or list(rows)
    names = list(dict.fromkeys(row.get("local_service_name") or public for row in own))
    if len(names) == 1:
        return {**fields, "service_name": names[0], **_contacts_of(record, names[0])}
    return {**fields, "local_service_names": [name for name in names if name]}


# The ways in that a public page gave for the service under its public name.
CONTACT_KEYS = ("self_referral_url", "self_referral_phone", "phone", "website")
# What else that page said of the service under its public name: the age it takes people from and
# its catchment in words (Midlands Partnership's "aged 16 and over" is its Staffordshire service's).
PUBLIC_NAME_FACTS = ("min_age", "catchment")


def _contacts_of(record: Mapping, local_name: str | None) -> dict:
    """The links and phones we hold were seen for the service under the provider's public name
    (GMMH's are Wigan Talking Therapies'): under another local name they are not this service's
    way in, so they are left out (the NHS finder is offered instead) and the note says why. The
    age and catchment seen on that page are not this service's either."""
    public = record.get("service_name")
    if not public or local_name == public:
        return {}
    facts = dict.fromkeys(PUBLIC_NAME_FACTS)
    if not any(record.get(key) for key in CONTACT_KEYS):
        return facts
    note = f"the links and phone numbers we hold are for {public}, not shown for {local_name}"
    return {
        **facts,
        **dict.fromkeys(CONTACT_KEYS),
        "self_referral": "unknown",
        "links_note": "; ".join(filter(None, (record.get("links_note"), note))),
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
                # Each result is the search's own copy: it is given its list in place.
                result["delivered_with"] = list(result.get("delivered_with") or [])
                folded.append(result)
            continue
        if lead is not None:
            # The lead stands where its partner would have: with the partner's reason to be here
            # where that is the better one, else with its own.
            lead["delivered_with"] = []
            if _tier_of(result) < _tier_of(lead):
                evidence = result.get("coverage_evidence")
                lead.update(
                    coverage=result.get("coverage"),
                    coverage_basis=result.get("coverage_basis"),
                    coverage_confidence=result.get("coverage_confidence"),
                    coverage_evidence=f"Through {display_name(result)}: {evidence}" if evidence else None,
                    coverage_part=result.get("coverage_part"),
                    coverage_district=result.get("coverage_district"),
                )
            position[lead_id] = len(folded)
            folded.append(lead)
        entry = folded[position[lead_id]]
        if all(item["id"] != result["id"] for item in entry["delivered_with"]):
            # A site is the lead service itself (listed for the record, never shown as a partner).
            entry["delivered_with"].append(
                {"id": result["id"], "name": display_name(result), "role": result.get("role")}
            )
    return folded


# "Camden and Islington NHS Talking Therapies (Camden)": a borough's code of one service.
_PLACE_SUFFIX = re.compile(r"\s*\([^()]*\)\s*$")


def service_key(record: Mapping) -> str | None:
    """What makes two NHS records one service a person refers to: the same public name once a
    last bracket naming a place or provider is set aside (North London's trust code and its
    borough codes, HPFT's codes). None for records without a public name."""
    name = record.get("service_name")
    if record.get("kind") != "nhs" or not name:
        return None
    return _name_key(str(name))


@functools.lru_cache(maxsize=4096)
def _name_key(name: str) -> str | None:
    return " ".join(_PLACE_SUFFIX.sub("", name).lower().split()) or None


def fold_same_service(results: list[dict]) -> list[dict]:
    """One entry per service: a later result that is a part of an earlier one by its public name
    (`service_key`) is listed in the earlier one's `delivered_with` as a part, not shown again."""
    kept: list[dict] = []
    first: dict[str, dict] = {}
    for result in results:
        key = service_key(result)
        entry = first.get(key) if key else None
        if entry is None:
            if key:
                first[key] = result
            kept.append(result)
            continue
        entry.setdefault("delivered_with", []).append(
            {"id": result["id"], "name": display_name(result), "role": "part"}
        )
        entry["delivered_with"] += result.get("delivered_with") or []
    return kept


def _tier_of(result: Mapping) -> int:
    coverage = result.get("coverage")
    return TIERS.index(coverage) if coverage in TIERS else len(TIERS)


def display_name(record: Mapping) -> str:
    """The name people know a service by: its public name where we hold one."""
    return str(record.get("service_name") or record.get("name") or "")
