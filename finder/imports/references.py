"""What an import's values point to, checked before anything is published.

The importers check each row's shape (finder/imports/tables.py, guard.py); this module checks
what the rows refer to and how much they change, the same way for `import`, `build` and the
refresh (all three publish through the importers' publish functions, which call these):

- service areas: every district is one the area tables (data/areas.json) know;
- service roles: no chain of leads that comes back to where it started (A -> B -> A: people would
  be sent round to another area's service), and no partner that is its own lead under another
  code (the same name);
- GP practices: a practice code given twice is refused (the last row would silently win), and
  commissioners the area tables do not know are named in the report;
- a table several times larger than the one held (`MAX_GROWTH`) is held back unless the operator
  allows it (--allow-growth): a million made-up rows would wipe every search's coverage;
- a file that changes the role of a large share of the services held (`MAX_ROLE_CHANGE`, e.g.
  every service marked "probably ended") is held back unless allowed (--allow-mass-change).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from finder import store
from finder.errors import SourceFormatError
from finder.schema import AREAS_FILE, NATIONAL_CODE

NOTHING_IMPORTED = "Nothing was imported; data/ is unchanged."
MAX_GROWTH = 3.0  # more than three times the rows held
MAX_ROLE_CHANGE = 0.25  # a quarter of the services held
MIN_HELD_FOR_CHANGE = 10  # below this, every change is a large share: no check
SHOWN = 8  # codes named in one message


@dataclass(frozen=True, kw_only=True)
class Allow:
    """What the operator lets through: a much larger table (--allow-growth), a change to the
    roles of many services at once (--allow-mass-change). `build`, an explicit rebuild from named
    sources, allows both, as it allows a shrink."""

    growth: bool = False
    mass_change: bool = False


ALLOW_NONE = Allow()
ALLOW_ALL = Allow(growth=True, mass_change=True)


def _listed(items: Sequence[str]) -> str:
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def area_tables(directory: Path | None) -> dict | None:
    """data/areas.json from `directory` (the refresh's stage may not hold it: then data/'s)."""
    for folder in (directory, store.data_dir()):
        if folder is None:
            continue
        document = store.read_json(AREAS_FILE, folder, default=None)
        if isinstance(document, dict) and isinstance(document.get("districts"), dict):
            return document
    return None


def check_districts(records: Iterable[Mapping], directory: Path | None, source: str) -> None:
    """Refuse area rows whose district the area tables do not know, naming them. Without area
    tables (a data/ built before they were kept) nothing can be checked."""
    tables = area_tables(directory)
    if tables is None:
        return
    known = set(tables["districts"]) | set(tables.get("aliases") or {}) | {NATIONAL_CODE}
    unknown = sorted({f"{r['code']} ({r['org_code']})" for r in records if r["code"] not in known})
    if unknown:
        raise SourceFormatError(
            f"{source}: {len(unknown)} district codes are not in the area tables (data/areas.json): "
            f"{_listed(unknown)}. {NOTHING_IMPORTED}"
        )


def check_growth(source: str, what: str, new: int, held: int, allowed: bool) -> list[str]:
    """Hold back a table more than MAX_GROWTH times the rows held, unless allowed (then the
    growth is reported)."""
    if not held or new <= held * MAX_GROWTH:
        return []
    if not allowed:
        raise SourceFormatError(
            f"{source}: {new:,} {what}, we hold {held:,}; held back: more than {MAX_GROWTH:g} times "
            f"as many (made-up or duplicated rows?). Use --allow-growth if this is intended. {NOTHING_IMPORTED}"
        )
    return [f"  growth allowed: {new:,} {what} replace the {held:,} held before"]


def check_lead_chains(records: Sequence[Mapping], source: str) -> None:
    """Refuse leads that come back round (A -> B -> A, or longer) and partners that are their own
    lead under another code (the same organisation name)."""
    lead_of = {r["org_code"]: r["lead_org_code"] for r in records if r["lead_org_code"]}
    cycles: list[str] = []
    seen_in_cycle: set[str] = set()
    for start in sorted(lead_of):
        path, code = [start], lead_of[start]
        while code in lead_of and code not in path:
            path.append(code)
            code = lead_of[code]
        if code in path and code not in seen_in_cycle:
            loop = path[path.index(code) :]
            seen_in_cycle.update(loop)
            cycles.append(" -> ".join([*loop, code]))
    if cycles:
        raise SourceFormatError(
            f"{source}: lead_org_code goes round in a circle: {_listed(cycles)}. {NOTHING_IMPORTED}"
        )
    names = {r["org_code"]: " ".join(str(r["org_name"]).casefold().split()) for r in records}
    itself = sorted(
        f"{code} -> {lead}"
        for code, lead in lead_of.items()
        if names.get(lead) and names.get(lead) == names.get(code)
    )
    if itself:
        raise SourceFormatError(
            f"{source}: a service is listed as its own partner (its lead has the same name): "
            f"{_listed(itself)}. {NOTHING_IMPORTED}"
        )


def is_ended(record: Mapping) -> bool:
    """The role evidence judges the service probably ended (service_roles.csv's convention)."""
    return str(record.get("evidence") or "").lower().startswith("probably ended:")


def check_role_change(
    records: Sequence[Mapping], held: Sequence[Mapping], source: str, allowed: bool
) -> list[str]:
    """Hold back a file that changes the role, lead or "probably ended" judgement of more than
    MAX_ROLE_CHANGE of the services held, unless allowed (then the change is reported)."""
    if len(held) < MIN_HELD_FOR_CHANGE:
        return []
    before = {r["org_code"]: r for r in held}

    def state(record: Mapping) -> tuple:
        return (record["role"], record.get("lead_org_code") or None, is_ended(record))

    changed = [r for r in records if r["org_code"] in before and state(r) != state(before[r["org_code"]])]
    ended = [r for r in changed if is_ended(r) and not is_ended(before[r["org_code"]])]
    if len(changed) <= MAX_ROLE_CHANGE * len(held):
        return []
    what = f"{len(changed)} of the {len(held)} services held would change role ({len(ended)} newly marked probably ended)"
    if not allowed:
        raise SourceFormatError(
            f"{source}: held back: {what}: {_listed(sorted(r['org_code'] for r in changed))}. Use --allow-mass-change if this is intended. "
            f"{NOTHING_IMPORTED}"
        )
    return [f"  mass change allowed: {what}"]


def unknown_commissioners(records: Iterable[Mapping], directory: Path | None) -> list[str]:
    """Report lines naming the practices' commissioners (sub-ICB locations) that the area tables
    do not know: searches from those practices will find no NHS area."""
    tables = area_tables(directory)
    if tables is None:
        return []
    known = set(tables.get("sub_icbs") or {})
    by_commissioner: dict[str, int] = {}
    for record in records:
        code = str(record["sub_icb_code"])
        if code not in known:
            by_commissioner[code] = by_commissioner.get(code, 0) + 1
    if not by_commissioner:
        return []
    named = [f"{code} ({n} practices)" for code, n in sorted(by_commissioner.items())]
    return [
        f"  {len(named)} commissioners not in the area tables (no NHS area for their practices): {_listed(named)}"
    ]
