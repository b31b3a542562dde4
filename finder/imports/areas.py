"""Import the district / ward -> sub-ICB -> ICB tables (ONS, April 2024; ICBs of April 2026).

Reads a directory holding the ONS-derived CSVs described in the shared data README. Each file's
header must be exactly the declared column list (one error lists what is missing and what is
unexpected); the tables are cross-checked (every sub-ICB named, every district's parts present in
the 2026 table) and published as one small `data/areas.json`, atomically, with a manifest entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from finder import store
from finder.errors import SourceFormatError
from finder.imports import MAX_SHRINK, guard, held_document, refuse_shrink
from finder.imports.tables import Layout, decode_text, parse_csv, read_table
from finder.schema import AREAS_FILE, MANIFEST_FILE

LAD_FILE = "lad24_sicbl24_icb24.csv"
WARD_FILE = "ward24_sicbl24.csv"
SUB_ICB_FILE = "sicbl24_icb24_names.csv"
ICB26_FILE = "icb26_names.csv"
INFERRED_FILE = "lad24_sicbl24_to_icb26_inferred.csv"
CHAIN_FILE = "lad16_to_lad24_chain.csv"  # optional: older district codes

COLUMNS = {
    LAD_FILE: (
        "LAD24CD",
        "LAD24NM",
        "SICBL24CD",
        "SICBL24CDH",
        "SICBL24NM",
        "ICB24CD",
        "ICB24CDH",
        "ICB24NM",
        "lsoa21_count",
        "lsoa21_share_of_lad",
    ),
    WARD_FILE: (
        "WD24CD",
        "WD24NM",
        "LAD24CD",
        "SICBL24CD",
        "SICBL24CDH",
        "ICB24CD",
        "ICB24CDH",
        "lsoa21_count",
        "lsoa21_share_of_ward",
    ),
    SUB_ICB_FILE: ("SICBL24CD", "SICBL24CDH", "SICBL24NM", "ICB24CD", "ICB24CDH", "ICB24NM"),
    ICB26_FILE: ("ICB26CD", "ICB26CDH", "ICB26NM", "change_note"),
    INFERRED_FILE: (
        "LAD24CD",
        "LAD24NM",
        "SICBL24CDH",
        "SICBL24NM",
        "ICB24CDH",
        "ICB26CDH",
        "ICB26_basis",
        "lsoa21_share_of_lad",
    ),
}
CHAIN_PREFIX = re.compile(r"^ltla(\d\d)_(code|name)$")

ENGLISH_DISTRICT = re.compile(r"^E0[6-9]\d{6}$")
ENGLISH_WARD = re.compile(r"^E05\d{6}$")
ODS_CODE = re.compile(r"^[0-9A-Z]{3,5}$")

Rows = Sequence[Mapping[str, str]]


@dataclass(frozen=True, kw_only=True)
class AreasReport:
    districts: int
    split_districts: int
    wards: int
    split_wards: int
    sub_icbs: int
    icbs: int
    inferred: int
    aliases: int

    def lines(self) -> list[str]:
        return [
            f"Imported {self.districts} districts ({self.split_districts} split between sub-ICB locations, "
            f"resolved by ward), {self.sub_icbs} sub-ICB locations, {self.icbs} ICBs (April 2026)",
            f"  {self.wards:,} wards kept for the split districts, {self.split_wards} of them split again",
            f"  {self.inferred} district/sub-ICB pairs have an inferred 2026 ICB",
            f"  {self.aliases} older district codes mapped to their 2024 district",
        ]


def _read(directory: Path, name: str) -> list[dict]:
    path = directory / name
    if not path.exists():
        raise SourceFormatError(f"{directory}: {name} is missing")
    # Through the one guarded reader; each table's every column has a meaning, so exact headers.
    table, _ = read_table(path, Layout(title="area lookup", columns=COLUMNS[name], exact=True))
    rows = table.rows
    if not rows:
        raise SourceFormatError(f"{name}: no rows")
    # Each row keeps its row number in the file (the header is row 1) for the messages.
    return [{**row, ROW: str(number)} for number, row in enumerate(rows, start=2)]


ROW = "#row"  # not a column name any of the tables can have


def _where(name: str, row: Mapping[str, str], column: str) -> str:
    return f"{name}: row {row.get(ROW, '?')}, column {column}"


def _check(name: str, row: Mapping[str, str], column: str, pattern: re.Pattern) -> str:
    value = row[column].strip()
    if not pattern.match(value):
        raise SourceFormatError(f"{_where(name, row, column)}: {value[:40]!r} is not a valid code")
    return value


def _count(name: str, row: Mapping[str, str], column: str) -> int:
    value = row[column].strip()
    if not value.isdigit():
        raise SourceFormatError(f"{_where(name, row, column)}: {value[:40]!r} is not a whole number")
    return int(value)


def _share(name: str, row: Mapping[str, str], column: str) -> float:
    try:
        value = float(row[column])
    except ValueError:
        raise SourceFormatError(
            f"{_where(name, row, column)}: {row[column][:40]!r} is not a number"
        ) from None
    if not 0 < value <= 1:
        raise SourceFormatError(f"{_where(name, row, column)}: {value} is not a share between 0 and 1")
    return value


def _icbs_2026(rows: Rows) -> dict[str, dict]:
    icbs = {}
    for row in rows:
        code = _check(ICB26_FILE, row, "ICB26CDH", ODS_CODE)
        icbs[code] = {"gss": row["ICB26CD"].strip(), "name": row["ICB26NM"].strip()}
    return icbs


def _sub_icbs(rows: Rows) -> dict[str, dict]:
    subs = {}
    for row in rows:
        code = _check(SUB_ICB_FILE, row, "SICBL24CDH", ODS_CODE)
        subs[code] = {"gss": row["SICBL24CD"].strip(), "name": row["SICBL24NM"].strip()}
    return subs


def _districts(tables: Mapping[str, Rows], subs: dict, icbs: dict) -> tuple[dict, int]:
    """Each district with its parts: sub-ICB, LSOA count and share, 2026 ICB and whether inferred."""
    inferred = {}
    for row in tables[INFERRED_FILE]:
        icb = _check(INFERRED_FILE, row, "ICB26CDH", ODS_CODE)
        if icb not in icbs:
            raise SourceFormatError(f"{INFERRED_FILE}: ICB {icb} is not in {ICB26_FILE}")
        # The basis names the rule; "inferred" marks the districts of the three ICBs split in 2026.
        inferred[(row["LAD24CD"].strip(), row["SICBL24CDH"].strip())] = (
            icb,
            "inferred" in row["ICB26_basis"],
        )
    districts: dict[str, dict] = {}
    for row in tables[LAD_FILE]:
        code = _check(LAD_FILE, row, "LAD24CD", ENGLISH_DISTRICT)
        sub = _check(LAD_FILE, row, "SICBL24CDH", ODS_CODE)
        if sub not in subs:
            raise SourceFormatError(f"{LAD_FILE}: sub-ICB {sub} is not in {SUB_ICB_FILE}")
        key = (code, sub)
        if key not in inferred:
            raise SourceFormatError(f"{INFERRED_FILE}: no 2026 ICB for {code} / {sub}")
        icb, is_inferred = inferred[key]
        subs[sub].setdefault("icb", icb)
        district = districts.setdefault(code, {"name": row["LAD24NM"].strip(), "parts": []})
        district["parts"].append(
            {
                "sub_icb": sub,
                "lsoas": _count(LAD_FILE, row, "lsoa21_count"),
                "share": round(_share(LAD_FILE, row, "lsoa21_share_of_lad"), 4),
                "icb": icb,
                "icb_inferred": is_inferred,
            }
        )
    for district in districts.values():
        district["parts"].sort(key=lambda p: (-p["lsoas"], p["sub_icb"]))
    return districts, sum(1 for flag in inferred.values() if flag[1])


def _wards(rows: Rows, districts: dict) -> tuple[dict, int]:
    """Sub-ICBs of each ward in a split district (largest share first); other wards are not needed:
    their district alone decides."""
    by_ward: dict[str, list[tuple[float, str]]] = {}
    for row in rows:
        ward = _check(WARD_FILE, row, "WD24CD", ENGLISH_WARD)
        district = _check(WARD_FILE, row, "LAD24CD", ENGLISH_DISTRICT)
        sub = _check(WARD_FILE, row, "SICBL24CDH", ODS_CODE)
        if district not in districts:
            raise SourceFormatError(f"{WARD_FILE}: district {district} is not in {LAD_FILE}")
        if len(districts[district]["parts"]) > 1:
            by_ward.setdefault(ward, []).append((-_share(WARD_FILE, row, "lsoa21_share_of_ward"), sub))
    wards = {ward: [sub for _, sub in sorted(parts)] for ward, parts in sorted(by_ward.items())}
    return wards, sum(1 for subs in wards.values() if len(subs) > 1)


def _read_chain(directory: Path) -> list[dict[str, str]] | None:
    """The optional LAD 2016-2024 chain's rows (None when the file is not there); header checked."""
    path = directory / CHAIN_FILE
    if not path.is_file():
        return None
    # The one CSV reader: whole rows only, the one text decoding, csv's errors with their line.
    table = parse_csv(decode_text(guard.read_source_bytes(path), CHAIN_FILE), CHAIN_FILE)
    bad = [c for c in table.header if not CHAIN_PREFIX.match(c)]
    if bad or "ltla24_code" not in table.header:
        raise SourceFormatError(f"{CHAIN_FILE}: columns changed: unexpected {bad}, ltla24_code needed")
    return table.rows


def _aliases(chain: Rows | None, districts: dict) -> dict[str, str]:
    """Older district codes -> 2024 code, from the optional LAD 2016-2024 chain."""
    aliases = {}
    for row in chain or ():
        new = row["ltla24_code"].strip()
        if new not in districts:
            continue  # Welsh districts are in the chain; only England's have areas
        for column, value in row.items():
            old = value.strip()
            if column.endswith("_code") and old and old != new:
                aliases[old] = new
    return dict(sorted(aliases.items()))


def read_area_tables(directory: Path) -> dict[str, list[dict[str, str]]]:
    """Every area CSV's rows by file name, each header checked (the chain, optional, is left out
    when absent)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SourceFormatError(f"{directory}: not a directory (give the folder holding {LAD_FILE})")
    tables = {
        name: _read(directory, name)
        for name in (ICB26_FILE, SUB_ICB_FILE, INFERRED_FILE, LAD_FILE, WARD_FILE)
    }
    chain = _read_chain(directory)
    if chain is not None:
        tables[CHAIN_FILE] = chain
    return tables


def areas_to_payload(tables: Mapping[str, Rows]) -> tuple[dict, AreasReport]:
    """The areas.json payload and its report from the area tables' rows (file name -> rows, as
    `read_area_tables` gives them). Pure: reads and writes nothing."""
    icbs = _icbs_2026(tables[ICB26_FILE])
    subs = _sub_icbs(tables[SUB_ICB_FILE])
    districts, inferred = _districts(tables, subs, icbs)
    wards, split_wards = _wards(tables[WARD_FILE], districts)
    aliases = _aliases(tables.get(CHAIN_FILE), districts)
    payload = {
        "districts": dict(sorted(districts.items())),
        "sub_icbs": dict(sorted(subs.items())),
        "icbs": dict(sorted(icbs.items())),
        "wards": wards,
        "aliases": aliases,
    }
    report = AreasReport(
        districts=len(districts),
        split_districts=sum(1 for d in districts.values() if len(d["parts"]) > 1),
        wards=len(wards),
        split_wards=split_wards,
        sub_icbs=len(subs),
        icbs=len(icbs),
        inferred=inferred,
        aliases=len(aliases),
    )
    return payload, report


def import_areas(
    directory: Path, *, data: Path | None = None, max_shrink: float | None = MAX_SHRINK
) -> AreasReport:
    """Read the area CSVs in `directory` and publish `data/areas.json`."""
    directory = Path(directory)
    data = Path(data) if data is not None else None
    payload, report = areas_to_payload(read_area_tables(directory))
    held = held_document(AREAS_FILE, data)
    refuse_shrink(directory.name, "districts", report.districts, len(held.get("districts", {})), max_shrink)
    used = sorted(COLUMNS) + ([CHAIN_FILE] if report.aliases else [])
    files = {
        AREAS_FILE: store.json_bytes(payload),
        MANIFEST_FILE: store.update_manifest(
            "areas",
            {
                "source": ", ".join(used),
                "imported_at": datetime.now(UTC).strftime("%Y-%m-%d"),
                "districts": report.districts,
                "split_districts": report.split_districts,
                "sub_icbs": report.sub_icbs,
                "icbs": report.icbs,
                "licence": "Open Government Licence v3.0",
                "source_sha256": guard.source_checksums([directory / name for name in used]),
                "attribution": "Contains National Statistics data © Crown copyright and database right 2024",
                "note": "2026 ICBs of the three ICBs split in April 2026 are inferred from geography",
            },
            data,
        ),
    }
    store.publish(files, directory=data)
    return report
