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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from finder import postcodes, store
from finder.errors import SourceFormatError
from finder.imports import MAX_SHRINK, guard, references, refuse_shrink, tables
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
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        return [
            f"Imported {self.kept:,} active GP practices in England (of {self.rows:,} rows), "
            f"over {self.sub_icbs} sub-ICB locations",
            f"  {self.without_position} without a map position for their postcode",
            *self.notes,
        ]


def read_epraccur(path: Path) -> list[dict]:
    """Every row of the file as a dict of the declared columns; raises on any drift of shape."""
    path = Path(path)
    # Through the one guarded reader: regular files only, no control characters, no truncation.
    text = tables.decode_text(guard.read_source_bytes(path), path.name)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _epraccur_rows(reader, path.name)
    except csv.Error as error:
        raise tables.csv_problem(error, path.name, reader.line_num) from None


def _epraccur_rows(reader: Iterable[list[str]], name: str) -> list[dict]:
    rows = []
    first_line: dict[str, int] = {}  # practice code -> the line it was first given on
    for number, row in enumerate(reader, start=1):
        if not row:
            continue
        if len(row) != len(EPRACCUR_COLUMNS):
            raise SourceFormatError(
                f"{name}: line {number} has {len(row)} columns, epraccur has {len(EPRACCUR_COLUMNS)} "
                "(a header line or a changed layout?)"
            )
        record = dict(zip(EPRACCUR_COLUMNS, (value.strip() for value in row), strict=True))
        for column, shape in SHAPES.items():
            if not shape.match(record[column]):
                raise SourceFormatError(
                    f"{name}: line {number}, column {EPRACCUR_COLUMNS.index(column) + 1} ({column}): "
                    f"{record[column][:40]!r} is not the expected "
                    "shape (the layout may have changed)"
                )
        if record["code"] in first_line:
            # The last row would silently win: which of the two is right is for the operator.
            raise SourceFormatError(
                f"{name}: line {number}: practice {record['code']} is given twice (also on line "
                f"{first_line[record['code']]}). {references.NOTHING_IMPORTED}"
            )
        first_line[record["code"]] = number
        rows.append(record)
    if not rows:
        raise SourceFormatError(f"{name}: no rows")
    return rows


def is_english_gp_practice(record: Mapping[str, str]) -> bool:
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


def _town(record: Mapping[str, str]) -> str:
    # Address line 4 is the post town (kept as ODS writes it, in capitals like the name).
    return record["address_4"] or record["address_3"]


def practices_to_records(
    rows: Iterable[Mapping[str, str]], tables: postcodes.PostcodeTables
) -> list[dict[str, object]]:
    """The English GP practices among epraccur's rows, sorted by code, each with the position of
    its postcode from our postcode tables (None where we hold none). Pure: reads nothing else."""
    records: list[dict[str, object]] = []
    for row in rows:
        if not is_english_gp_practice(row):
            continue
        lat = lon = None
        i = tables.find(row["postcode"].replace(" ", ""))
        if i is not None and int(tables.lat_e6[i]) != postcodes.MISSING_E6:
            lat, lon = int(tables.lat_e6[i]) / 1e6, int(tables.lon_e6[i]) / 1e6
        records.append(
            {
                "code": row["code"],
                "name": row["name"],
                "town": _town(row),
                "postcode": row["postcode"],
                "sub_icb_code": row["commissioner"],
                "lat": lat,
                "lon": lon,
            }
        )
    # A stable sort: two rows with one code keep the file's order, as before.
    return sorted(records, key=lambda record: str(record["code"]))


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
    records = practices_to_records(kept, postcodes.PostcodeTables(directory or store.data_dir()))
    report = GpReport(
        rows=len(rows),
        kept=len(records),
        sub_icbs=len({r["sub_icb_code"] for r in records}),
        without_position=sum(1 for r in records if r["lat"] is None),
        notes=tuple(references.unknown_commissioners(records, directory)),
    )
    _publish_practices(path, records, report, directory)
    return report


def _publish_practices(
    path: Path, records: list[dict[str, object]], report: GpReport, directory: Path | None
) -> None:
    columns = ("code", "name", "town", "postcode", "sub_icb_code")
    table = pa.table(
        {
            **{column: [r[column] for r in records] for column in columns},
            "lat": pa.array([r["lat"] for r in records], pa.float64()),
            "lon": pa.array([r["lon"] for r in records], pa.float64()),
        }
    ).replace_schema_metadata({"source": Path(path).name})
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
