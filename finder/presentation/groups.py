"""Grouping the answer: the person's own service first, then services for particular groups,
national services, others nearby and private practitioners."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from finder.presentation.text import md_escape

if TYPE_CHECKING:
    from finder.areas import Area

GROUP_YOURS = "Your NHS Talking Therapies service"
GROUP_PART = "Services for parts of this place"
PART_INTRO = (
    "This place is split between NHS areas, and each of these services takes people from only part "
    "of it. Type your full postcode or the name of your GP surgery to see the one for you."
)
GROUP_ALSO = "Also for you if..."
GROUP_NATIONAL = "Open to anyone in England"
GROUP_NEARBY = "Other services near you (may only accept people registered with a GP in their area)"
GROUP_PRIVATE = "Private IPT practitioners"
BSL_HEADING = "For Deaf people who use BSL"
DIGITAL_HEADING = "Available if your local service offers it"


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One service as shown: its record, the partner organisations that deliver part of it, and
    the subheading it sits under in its group (None for most)."""

    record: Mapping
    partners: tuple[Mapping, ...] = ()
    subheading: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResultGroup:
    key: str  # yours | part | also | national | nearby | private
    heading: str
    entries: tuple[Entry, ...]
    folded: bool
    intro: str | None = None
    show_distance: bool = False


def group_key(record: Mapping) -> str:
    """Which group a result is shown in: yours, part (for part of a place over several districts),
    also (a service for one group of people that covers the area or a part of it), national,
    nearby or private; the app and the plain text alike."""
    if record.get("kind") == "private":
        return "private"
    coverage, role = record.get("coverage"), record.get("role")
    if role == "digital":
        return "national"
    if coverage in ("covers", "covers_part") and role == "specialist":
        return "also"  # for one group of people, whichever part of the place it is for
    if coverage == "covers":
        return "yours"
    if coverage == "covers_part":
        return "part"
    if coverage == "national" or (coverage is None and record.get("national")):
        return "national"
    return "nearby"  # same_icb, elsewhere, or a result from before coverage was known


def _subheading(record: Mapping, key: str) -> str | None:
    if record.get("role") == "digital":
        return DIGITAL_HEADING
    audience = str(record.get("audience") or "")
    if key == "national" and re.search(r"\bBSL\b|sign language", audience, re.IGNORECASE):
        return BSL_HEADING
    return None


def _same_service(a: Mapping, b: Mapping) -> bool:
    """Two records for one service: the same id, or the same public name and the same way in."""
    if a.get("id") and a.get("id") == b.get("id"):
        return True
    name_a = " ".join(str(a.get("service_name") or "").lower().split())
    name_b = " ".join(str(b.get("service_name") or "").lower().split())
    if not name_a or name_a != name_b:
        return False
    ways = ("self_referral_url", "website", "self_referral_phone", "phone")
    return any(a.get(k) and a.get(k) == b.get(k) for k in ways)


_HEADINGS = {
    "yours": GROUP_YOURS,
    "part": GROUP_PART,
    "also": GROUP_ALSO,
    "national": GROUP_NATIONAL,
    "nearby": GROUP_NEARBY,
    "private": GROUP_PRIVATE,
}
GROUP_HEADINGS = frozenset(_HEADINGS.values())


def group_results(results: Iterable[Mapping]) -> list[ResultGroup]:
    """Search results in the order a person needs them: the service that covers them, services
    for particular groups in their area, national services, other services nearby, then private
    practitioners. Partners are shown under their lead; duplicates are merged. Results without
    `coverage` (before it is known) all count as "near you". The first group is open, the rest
    folded. Search order is kept within each group."""
    results = list(results)
    present = {r.get("id") for r in results if r.get("id")}
    kept: list[Mapping] = []
    partners: dict[object, list[Mapping]] = {}
    for record in results:
        lead = record.get("lead_id")
        if (
            record.get("role") in ("partner", "site")
            and lead
            and lead in present
            and lead != record.get("id")
        ):
            partners.setdefault(lead, []).append(record)
            continue
        if any(_same_service(record, other) for other in kept):
            continue
        kept.append(record)
    buckets: dict[str, list[Entry]] = {key: [] for key in _HEADINGS}
    for record in kept:
        key = group_key(record)
        under = tuple(p for p in partners.get(record.get("id"), []) if p.get("role") == "partner")
        buckets[key].append(Entry(record=record, partners=under, subheading=_subheading(record, key)))
    # Results from before coverage was known are all "near you", and the first group opens.
    known = any(r.get("coverage") for r in kept)
    groups: list[ResultGroup] = []
    for key, heading in _HEADINGS.items():
        entries = buckets[key]
        if not entries:
            continue
        if key == "national":  # the general national services before those for one group
            entries.sort(key=lambda e: e.subheading is not None)
        intro = _yours_intro(entries) if key == "yours" else None
        if key == "part":
            intro = PART_INTRO
        groups.append(
            ResultGroup(
                key=key,
                heading=heading,
                entries=tuple(entries),
                # Only the service that takes the person opens by itself; without one the NHS
                # finder is the next step, not a national or far-off service.
                folded=bool(groups) or (known and key not in ("yours", "part", "private")),
                intro=intro,
                show_distance=key in ("nearby", "private"),
            )
        )
    return groups


CHOOSE_INTRO = "More than one service covers your area: you can choose which one to contact."
FIRST_INTRO = "Your area's service comes first. The others may also take you: please check with them."


def _yours_intro(entries: Sequence[Entry]) -> str | None:
    """A choice is offered only where two or more general services cover the area (Derby and
    Derbyshire's equal providers); a service whose role is unclear, or that we know only by its
    headquarters, follows the general one without that promise."""
    general = sum(1 for entry in entries if entry.record.get("role") == "lead")
    if general > 1:
        return CHOOSE_INTRO
    if general == 1 and len(entries) > 1:
        return FIRST_INTRO
    return None


def nhs_finder_is_next_step(
    groups: Iterable[ResultGroup], notices: Iterable[object], results: Iterable[Mapping]
) -> bool:
    """Without a general service known to cover the person, the NHS website's finder (which goes
    by their GP surgery) is their next step, as long as any NHS service was found at all: the
    search said no service covers them, or none of the groups is their own service."""
    unknown = any(getattr(notice, "code", None) == "no_covering_service" for notice in notices)
    return bool(
        (unknown or not any(group.key == "yours" for group in groups))
        and any(record.get("kind") == "nhs" for record in results)
    )


def partner_line(partner: Mapping, lead: Mapping) -> str:
    """How a partner organisation reads under its lead service."""
    lead_name = lead.get("service_name") or lead.get("name")
    return md_escape(
        f"{partner.get('service_name') or partner.get('name')} is part of {lead_name}: refer through {lead_name}."
    )


def icb_words(area: Area | None) -> str | None:
    """Which NHS area "based in your NHS area" means, and whether we inferred it."""
    if area is None or not area.icb_name:
        return None
    words = f"Services based in your NHS area ({area.icb_name}) come first."
    if area.icb_inferred:
        words += (
            f" The NHS reorganised its areas in April 2026: we worked out that {area.district_name} is "
            "now in this one from the published changes, so it may be wrong."
        )
    return md_escape(words)
