"""Where a person is in NHS terms: local authority district -> sub-ICB location -> ICB.

NHS Talking Therapies takes people by the area of their GP: the sub-ICB location (formerly the
CCG), which nests in an Integrated Care Board. Every postcode has a local authority district
(LAD 2024) and a ward; 268 of England's 296 districts lie in one sub-ICB, and the other 28 are
split, so there the postcode's ward decides (24 wards are themselves split: such a postcode keeps
both candidate sub-ICBs). ICBs are the April 2026 ones that the providers list uses; for the three
ICBs split in 2026 the district's new ICB is inferred from geography and says so (`icb_inferred`).

The tables live in `data/areas.json`, written by `python -m finder import areas DIR`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from finder import store
from finder.schema import AREAS_FILE

FOUND_BY = ("postcode", "ward", "sector", "outcode", "place", "gp")


@dataclass(frozen=True, kw_only=True)
class Area:
    """A district with the sub-ICB location and ICB that serve it."""

    district_code: str  # LAD 2024 GSS code, e.g. "E08000035"
    district_name: str  # "Leeds"
    sub_icb_code: str | None  # ODS code, e.g. "15F" (None when the district is split and unresolved)
    sub_icb_name: str | None
    icb_code: str | None  # April 2026 ICB ODS code, e.g. "QWO"
    icb_name: str | None
    icb_inferred: bool  # the 2026 ICB was assigned by geography (a split ICB), not by an ONS table
    found_by: str  # "postcode" | "ward" | "sector" | "outcode" | "place" | "gp"

    def to_json(self) -> dict:
        return asdict(self)


class AreaTables:
    """The district, ward, sub-ICB and ICB tables of `data/areas.json`."""

    def __init__(self, payload: dict):
        self.districts: dict[str, dict] = payload["districts"]
        self.sub_icbs: dict[str, dict] = payload["sub_icbs"]
        self.icbs: dict[str, dict] = payload["icbs"]
        self.wards: dict[str, list[str]] = payload["wards"]
        # Older district codes (before the 2019-2023 mergers) -> their 2024 district.
        self.aliases: dict[str, str] = payload.get("aliases", {})
        # Retired CCG / sub-ICB codes -> the sub-ICB codes that took them over, where the tables
        # carry ODS successions (optional: tables imported without them map nothing).
        self.successions: dict[str, list[str]] = payload.get("sub_icb_successions", {})
        self._by_gss = {row["gss"]: code for code, row in self.sub_icbs.items() if row.get("gss")}
        self._area = lru_cache(maxsize=4096)(self._make_area)

    def district(self, code: str | None) -> dict | None:
        if not code:
            return None
        return self.districts.get(code) or self.districts.get(self.aliases.get(code, ""))

    def canonical(self, code: str) -> str | None:
        if code in self.districts:
            return code
        return self.aliases.get(code)

    def is_split(self, district_code: str) -> bool:
        found = self.district(district_code)
        return found is not None and len(found["parts"]) > 1

    def _make_area(self, district_code: str, sub_icb_code: str | None, found_by: str) -> Area:
        district = self.districts[district_code]
        part = next((p for p in district["parts"] if p["sub_icb"] == sub_icb_code), None)
        sub_icb = self.sub_icbs.get(sub_icb_code or "")
        icb_code = part["icb"] if part else None
        if sub_icb_code is None:
            # Unresolved split district: the ICB is still known when every part shares it.
            icbs = {p["icb"] for p in district["parts"]}
            icb_code = icbs.pop() if len(icbs) == 1 else None
        elif part is None and sub_icb:
            icb_code = sub_icb.get("icb")
        inferred = bool(part and part["icb_inferred"]) or (
            sub_icb_code is None
            and any(p["icb_inferred"] for p in district["parts"])
            and icb_code is not None
        )
        icb = self.icbs.get(icb_code or "")
        return Area(
            district_code=district_code,
            district_name=district["name"],
            sub_icb_code=sub_icb_code,
            sub_icb_name=sub_icb["name"] if sub_icb else None,
            icb_code=icb_code,
            icb_name=icb["name"] if icb else None,
            icb_inferred=inferred,
            found_by=found_by,
        )

    def area(self, district_code: str, sub_icb_code: str | None, found_by: str) -> Area:
        return self._area(district_code, sub_icb_code, found_by)

    def resolve(self, district_code: str | None, ward_code: str | None, found_by: str) -> tuple[Area, ...]:
        """The areas a postcode with this district and ward may be in: one when known (found_by
        becomes "ward" where a split district needed its ward), else every candidate sub-ICB.
        Empty outside England (no district in the tables)."""
        code = self.canonical(district_code) if district_code else None
        if code is None:
            return ()
        parts = self.districts[code]["parts"]
        if len(parts) == 1:
            return (self.area(code, parts[0]["sub_icb"], found_by),)
        by_ward = found_by if found_by != "postcode" else "ward"
        ward_subs = self.wards.get(ward_code or "")
        if ward_subs:
            return tuple(self.area(code, s, by_ward) for s in ward_subs)
        # A ward we do not know (a newer ward code): every sub-ICB of the district is a candidate.
        return tuple(self.area(code, p["sub_icb"], by_ward) for p in parts)

    def district_parts(self) -> list[tuple[str, str, str | None]]:
        """Every district with each of its sub-ICB locations and that part's ICB."""
        return sorted(
            {
                (code, part["sub_icb"], part["icb"])
                for code, row in self.districts.items()
                for part in row["parts"]
            }
        )

    def current_sub_icbs(self, code: str) -> tuple[str, ...]:
        """Today's sub-ICB ODS codes for a code the NHS directory lists: itself when current, the
        ODS code of a sub-ICB GSS code (E38...), a retired code's successors where the tables hold
        the succession; () when the tables cannot tell."""
        code = code.strip().upper()
        if code in self.sub_icbs:
            return (code,)
        if code in self._by_gss:
            return (self._by_gss[code],)
        return tuple(c for c in self.successions.get(code, ()) if c in self.sub_icbs)

    def sub_icbs_of_district(self, district_code: str) -> tuple[str, ...]:
        """Every sub-ICB location a district lies in (one for most; several for a split district)."""
        found = self.district(district_code)
        return tuple(dict.fromkeys(p["sub_icb"] for p in found["parts"])) if found else ()

    def districts_of_sub_icb(self, sub_icb_code: str, found_by: str = "gp") -> tuple[Area, ...]:
        """Every district that lies wholly or partly in the sub-ICB, largest share first."""
        found = []
        for code, district in self.districts.items():
            for part in district["parts"]:
                if part["sub_icb"] == sub_icb_code:
                    found.append((-part["lsoas"], code))
        return tuple(self.area(code, sub_icb_code, found_by) for _, code in sorted(found))


def _load_tables(directory: Path) -> AreaTables | None:
    path = directory / AREAS_FILE
    if not path.exists():
        return None
    return AreaTables(json.loads(path.read_text(encoding="utf-8")))


# Reloaded when a publish replaces the area file (store.data_version).
_tables = store.DataCache((AREAS_FILE,), _load_tables)


def tables(*, version: tuple | None = None) -> AreaTables | None:
    """The loaded area tables (None when `data/` has none yet), reloaded when the file changes.
    `version`: store.data_version() as the caller just asked it (one check of data/ per search)."""
    return _tables.get(version=version)


def districts_of_sub_icb(sub_icb_code: str) -> tuple[Area, ...]:
    """Every district of a sub-ICB location, as areas found by the GP route (empty if unknown)."""
    loaded = tables()
    return loaded.districts_of_sub_icb(sub_icb_code) if loaded else ()


def current_sub_icbs(code: str) -> tuple[str, ...]:
    """Today's sub-ICB codes for a code the NHS directory lists (see AreaTables.current_sub_icbs)."""
    loaded = tables()
    return loaded.current_sub_icbs(code) if loaded else ()


def merge(areas: list[Area] | tuple[Area, ...]) -> tuple[Area | None, tuple[Area, ...]]:
    """One area when every candidate agrees on district and sub-ICB, else (None, candidates)."""
    unique: dict[tuple[str, str | None], Area] = {}
    for area in areas:
        unique.setdefault((area.district_code, area.sub_icb_code), area)
    if len(unique) == 1:
        return next(iter(unique.values())), ()
    return None, tuple(unique[k] for k in sorted(unique, key=lambda k: (k[0], k[1] or "")))
