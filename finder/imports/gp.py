"""Import GP practices from NHS England's ODS "epraccur" file, as published.

epraccur has no header: its 27 columns are declared here, and the file is checked by shape
instead (27 columns on every row, organisation and commissioner codes, postcodes, status and role
values, YYYYMMDD dates). Any drift is refused with one line naming the first bad row, and `data/`
keeps the last good table. A practice's commissioner (column 14) is its sub-ICB location: the
area whose NHS Talking Therapies service the practice's patients use.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from finder import postcodes, store
from finder.errors import SourceFormatError
from finder.imports import MAX_SHRINK, guard, refuse_shrink
from finder.schema import GP_FILE, MANIFEST_FILE

# The published column order (ODS Data Search and Export, epraccur).
EPRACCUR_COLUMNS = (
    "code",
    "name",
    "national_grouping",
    "health_geography",
    "address_1",
    "address_2",
    "address_3",
    "address_4",  # the town
    "address_5",
    "postcode",
    "open_date",
    "close_date",
    "status",
    "subtype",
    "commissioner",
    "join_date",
    "left_date",
    "phone",
    "empty_18",
    "empty_19",
    "empty_20",
    "amended",
    "empty_22",
    "provider_purchaser",
    "empty_24",
    "role",
    "empty_26",
)
STATUSES = frozenset({"ACTIVE", "INACTIVE", "DORMANT"})
GP_ROLE = "RO76"
WELSH_COMMISSIONER = "7A"  # 7A1-7A7: Welsh local health boards

# Shape of each checked column; an empty value is allowed where the pattern allows it.
_ODS = r"[A-Z0-9]{3,8}"
SHAPES = {
    "code": re.compile(rf"^{_ODS}$"),
    "postcode": re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})?$"),
    "open_date": re.compile(r"^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$"),
    "close_date": re.compile(r"^((19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01]))?$"),
    "join_date": re.compile(r"^((19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01]))?$"),
    "left_date": re.compile(r"^((19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01]))?$"),
    "commissioner": re.compile(rf"^({_ODS})?$"),
    "role": re.compile(r"^(RO\d+(\|RO\d+)*)?$"),
    "status": re.compile(rf"^({'|'.join(sorted(STATUSES))})$"),
}
# A practice kept as a GP surgery: this shape of code (a letter and five digits).
PRACTICE_CODE = re.compile(r"^[A-Z]\d{5}$")


@dataclass(frozen=True, kw_only=True)
class GpReport:
    rows: int
    kept: int
    sub_icbs: int
    without_position: int

    def lines(self) -> list[str]:
        return [
            f"Imported {self.kept:,} active GP practices in England (of {self.rows:,} rows), "
            f"over {self.sub_icbs} sub-ICB locations",
            f"  {self.without_position} without a map position for their postcode",
        ]


def read_epraccur(path: Path) -> list[dict]:
    """Every row of the file as a dict of the declared columns; raises on any drift of shape."""
    path = Path(path)
    # Through the one guarded reader: regular files only, no control characters, no truncation.
    text = guard.read_source_bytes(path).decode("utf-8-sig", errors="strict")
    rows = []
    for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        if not row:
            continue
        if len(row) != len(EPRACCUR_COLUMNS):
            raise SourceFormatError(
                f"{path.name}: line {number} has {len(row)} columns, epraccur has {len(EPRACCUR_COLUMNS)} "
                "(a header line or a changed layout?)"
            )
        record = dict(zip(EPRACCUR_COLUMNS, (value.strip() for value in row), strict=True))
        for column, shape in SHAPES.items():
            if not shape.match(record[column]):
                raise SourceFormatError(
                    f"{path.name}: line {number}: {column} {record[column][:40]!r} is not the expected "
                    "shape (the layout may have changed)"
                )
        rows.append(record)
    if not rows:
        raise SourceFormatError(f"{path.name}: no rows")
    return rows


def is_english_gp_practice(record: dict) -> bool:
    """Active GP practices (role RO76, also where it is listed with another role such as
    'RO76|RO268') commissioned by an English sub-ICB location."""
    return (
        record["status"] == "ACTIVE"
        and GP_ROLE in record["role"].split("|")
        and bool(record["commissioner"])
        and not record["commissioner"].startswith(WELSH_COMMISSIONER)
        and bool(record["postcode"])
        and PRACTICE_CODE.match(record["code"]) is not None
    )


def _town(record: dict) -> str:
    # Address line 4 is the post town (kept as ODS writes it, in capitals like the name).
    return record["address_4"] or record["address_3"]


def import_gp_practices(
    path: Path, *, directory: Path | None = None, max_shrink: float | None = MAX_SHRINK
) -> GpReport:
    """Read epraccur and publish `data/gp_practices.parquet` with each practice's position."""
    rows = read_epraccur(path)
    kept = [r for r in rows if is_english_gp_practice(r)]
    if not kept:
        raise SourceFormatError(f"{Path(path).name}: no active GP practices in England")
    held_path = (directory or store.data_dir()) / GP_FILE
    held = pq.ParquetFile(held_path).metadata.num_rows if held_path.exists() else 0
    refuse_shrink(Path(path).name, "GP practices", len(kept), held, max_shrink)
    tables = postcodes.PostcodeTables(directory or store.data_dir())
    lat, lon = [], []
    for record in kept:
        i = tables.find(record["postcode"].replace(" ", ""))
        has = i is not None and int(tables.lat_e6[i]) != postcodes.MISSING_E6
        lat.append(int(tables.lat_e6[i]) / 1e6 if has else None)
        lon.append(int(tables.lon_e6[i]) / 1e6 if has else None)
    kept_sorted = sorted(range(len(kept)), key=lambda k: kept[k]["code"])
    table = pa.table(
        {
            "code": [kept[k]["code"] for k in kept_sorted],
            "name": [kept[k]["name"] for k in kept_sorted],
            "town": [_town(kept[k]) for k in kept_sorted],
            "postcode": [kept[k]["postcode"] for k in kept_sorted],
            "sub_icb_code": [kept[k]["commissioner"] for k in kept_sorted],
            "lat": pa.array([lat[k] for k in kept_sorted], pa.float64()),
            "lon": pa.array([lon[k] for k in kept_sorted], pa.float64()),
        }
    ).replace_schema_metadata({"source": Path(path).name})
    report = GpReport(
        rows=len(rows),
        kept=len(kept),
        sub_icbs=len({r["commissioner"] for r in kept}),
        without_position=int(np.isnan(np.array([np.nan if v is None else v for v in lat])).sum()),
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    files = {
        GP_FILE: sink.getvalue(),
        MANIFEST_FILE: store.update_manifest(
            "gp-practices",
            {
                "source": Path(path).name,
                "imported_at": datetime.now(UTC).strftime("%Y-%m-%d"),
                "practices": report.kept,
                "licence": "Open Government Licence v3.0",
                "source_sha256": guard.source_checksums([path]),
                "attribution": "Contains public sector information from NHS England Organisation Data "
                "Service, licensed under the Open Government Licence v3.0",
            },
            directory,
        ),
    }
    store.publish(files, directory=directory)
    return report
