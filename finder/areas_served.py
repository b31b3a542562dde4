"""Which areas an NHS Talking Therapies service takes people from (its `areas_served`), and what it is to the public (its role).

NHS Talking Therapies accepts people by where their GP is registered (the sub-ICB location,
formerly the CCG), not by distance. Pure functions over plain rows, no I/O:

- `areas_fields(rows)`: a service's `areas_served` and `national` from its `service_areas.csv`
  rows (the evidence text is kept verbatim; `part` says which part of a district it covers, and
  `local_service_name` the service's public name there);
- `role_fields(row)`: `role`, `audience`, `lead_id`, `role_evidence`, `role_confidence` and
  `probably_ended` from its `service_roles.csv` row;
- the NHS directory seam: `directory_area_rows` turns the directory's CCG/sub-ICB codes
  (`RelatedIAPTCCGs`) into area rows of basis `nhs_directory`, the strongest basis, through an
  injected `districts_of_sub_icb` lookup; `merge_directory_areas` puts them in place of the
  provider's weaker rows; `area_change_lines` says what changed, for the refresh report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from finder.coverage import CONFIDENCE_RANK  # the one order of evidence, surest first
from finder.schema import NATIONAL_BASIS

DIRECTORY_BASIS = "nhs_directory"
PROBABLY_ENDED = "probably ended:"


def areas_fields(rows: Iterable[Mapping]) -> dict:
    """`areas_served` (districts, most confident first, then by code) and `national`."""
    rows = list(rows)
    served = [
        {
            "code": r["code"],
            "name": r["name"],
            "basis": r["basis"],
            "confidence": r["confidence"],
            "evidence": r["evidence"],
            # Rows stored before these columns were imported have neither.
            "part": r.get("part") or None,
            "local_service_name": r.get("local_service_name") or None,
        }
        for r in rows
        if r["basis"] != NATIONAL_BASIS
    ]
    served.sort(key=lambda a: (CONFIDENCE_RANK.get(a["confidence"], 9), a["code"]))
    return {"areas_served": served, "national": any(r["basis"] == NATIONAL_BASIS for r in rows)}


def role_fields(row: Mapping | None) -> dict:
    """The role fields of one service; all empty when service_roles.csv has no row for it."""
    if row is None:
        return {
            "role": None,
            "audience": None,
            "lead_id": None,
            "role_evidence": None,
            "role_confidence": None,
            "probably_ended": False,
        }
    evidence = row.get("evidence") or None
    return {
        "role": row["role"],
        "audience": row.get("audience") or None,
        "lead_id": row.get("lead_org_code") or None,
        "role_evidence": evidence,
        "role_confidence": row.get("confidence") or None,
        # Judged from the statistics by whoever compiled the roles ("probably ended: ... reported
        # in 2023-24 but not 2024-25"): kept in data/ and the export, left out of searches.
        "probably_ended": bool(evidence and evidence.lower().startswith(PROBABLY_ENDED)),
    }


# --- The NHS directory (Service Search API `RelatedIAPTCCGs`) ---------------------------------

# Sub-ICB code -> each of its districts as (district code, name, every sub-ICB that district lies in).
DistrictsOfSubIcb = Callable[[str], Sequence[tuple[str, str, tuple[str, ...]]]]


def directory_area_rows(
    org_code: str,
    org_name: str,
    sub_icb_codes: Iterable[str],
    districts_of_sub_icb: DistrictsOfSubIcb,
    *,
    source: str,
) -> tuple[list[dict], list[str]]:
    """The NHS directory's areas for one service as `service_areas` rows (basis `nhs_directory`,
    confidence high), and the codes the lookup did not know.

    `districts_of_sub_icb(code)` gives the districts of a sub-ICB location (ODS code, e.g. "15F"
    -> [("E08000035", "Leeds", ("15F",))]) with every sub-ICB each lies in; the refresh's
    districts_of_sub_icb is the real one. A district split between sub-ICBs whose every part the
    directory does not name is served only in part: its row says so (`part`, so it ranks one step
    less sure and the card asks the person to check), and its evidence names the sub-ICBs."""
    rows: dict[str, dict] = {}
    unknown: list[str] = []
    for code in dict.fromkeys(c.strip().upper() for c in sub_icb_codes if c and c.strip()):
        districts = list(districts_of_sub_icb(code))
        if not districts:
            unknown.append(code)
            continue
        for district_code, district_name, district_sub_icbs in districts:
            row = rows.setdefault(
                district_code,
                {
                    "org_code": org_code,
                    "org_name": org_name,
                    "code": district_code,
                    "name": district_name,
                    "basis": DIRECTORY_BASIS,
                    "evidence": "",
                    "confidence": "high",
                    "part": "",
                    "local_service_name": "",
                    "sub_icbs": [],
                    "district_sub_icbs": set(district_sub_icbs),
                },
            )
            row["sub_icbs"].append(code)
    result = []
    for row in rows.values():
        if row.pop("district_sub_icbs") - set(row["sub_icbs"]):
            # Bradford's sub-ICB takes in Craven, not the rest of North Yorkshire.
            row["part"] = f"part of {row['name']}"
        codes = ", ".join(row.pop("sub_icbs"))
        row["evidence"] = f"NHS directory lists sub-ICB location {codes} as covered ({source})"
        result.append(row)
    return sorted(result, key=lambda r: r["code"]), unknown


def merge_directory_areas(held: Iterable[Mapping], directory: Iterable[Mapping]) -> list[dict]:
    """The area rows after a directory refresh: for every provider the directory lists, its rows
    replace the provider's other rows (the directory is the NHS's own statement of coverage),
    keeping the earlier evidence, part and local name of a district it also names (the directory
    says neither which part of a district nor what the service is called there); providers the
    directory does not list keep their rows."""
    listed_rows = [dict(r) for r in directory]
    listed = {r["org_code"] for r in listed_rows}
    earlier = {(r["org_code"], r["code"]): r for r in held}
    merged = [dict(r) for r in held if r["org_code"] not in listed]
    for row in listed_rows:
        before = earlier.get((row["org_code"], row["code"]))
        if before and before["basis"] != DIRECTORY_BASIS and before.get("evidence"):
            row["evidence"] = f"{row['evidence']}; earlier evidence: {before['evidence']}"
        if before:
            # The earlier evidence may say which part ("Craven area"); the directory says only
            # "part of North Yorkshire" or nothing.
            row["part"] = before.get("part") or row.get("part") or ""
            row["local_service_name"] = (
                row.get("local_service_name") or before.get("local_service_name") or ""
            )
        merged.append(row)
    return sorted(merged, key=lambda r: (r["org_code"], r["code"]))


def area_change_lines(before: Iterable[Mapping], after: Iterable[Mapping]) -> list[str]:
    """One line per service whose areas changed (by service record: `areas_served`, `national`):
    "RY6 Leeds Community Healthcare: now Leeds (nhs_directory); no longer Harrogate"."""
    old = {r["id"]: r for r in before}
    lines = []
    for record in sorted(after, key=lambda r: r["id"]):
        previous = old.get(record["id"])
        if previous is None:
            continue
        was = {a["code"]: a for a in previous.get("areas_served") or []}
        now = {a["code"]: a for a in record.get("areas_served") or []}
        parts = []
        gained = [f"{now[c]['name']} ({now[c]['basis']})" for c in sorted(set(now) - set(was))]
        lost = [was[c]["name"] for c in sorted(set(was) - set(now))]
        rebased = [
            f"{now[c]['name']} {was[c]['basis']} -> {now[c]['basis']}"
            for c in sorted(set(now) & set(was))
            if (now[c]["basis"], now[c]["confidence"]) != (was[c]["basis"], was[c]["confidence"])
        ]
        if gained:
            parts.append("now " + ", ".join(gained))
        if lost:
            parts.append("no longer " + ", ".join(lost))
        if rebased:
            parts.append("basis changed: " + ", ".join(rebased))
        if bool(previous.get("national")) != bool(record.get("national")):
            parts.append("open to all of England" if record.get("national") else "no longer national")
        if parts:
            lines.append(f"{record['id']} {record.get('name', '')}: {'; '.join(parts)}")
    return lines
