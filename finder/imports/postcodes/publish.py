"""Publishing the postcode tables and the place table: what data/ holds now (for the shrink
check), the parquet files, the manifest entry and the check of district and ward codes against the
area tables, in one atomic publish each.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from finder import store
from finder.areas import AreaTables
from finder.errors import SourceFormatError
from finder.imports import guard, refuse_shrink
from finder.imports.postcodes.mapping import centroids, postcode_columns, postcode_table
from finder.postcodes import COUNTRIES
from finder.schema import AREAS_FILE, MANIFEST_FILE, OUTCODES_FILE, PLACES_FILE, POSTCODES_FILE, SECTORS_FILE


@dataclass(frozen=True)
class ImportReport:
    source: str
    postcodes: int
    with_location: int
    terminated: int
    sectors: int
    outcodes: int
    area_check: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        return [*self._lines(), *self.notes]

    def _lines(self) -> list[str]:
        return [
            f"Imported {self.postcodes:,} postcodes from {self.source}",
            f"  {self.with_location:,} with a location, {self.postcodes - self.with_location:,} without",
            f"  {self.terminated:,} terminated (kept and marked)",
            f"  {self.sectors:,} sectors and {self.outcodes:,} outcodes with centroids",
            *(f"  {line}" for line in self.area_check),
        ]


def held_rows(name: str, directory: Path | None) -> int:
    """How many rows the parquet table `name` in data/ holds now (0: none yet)."""
    held = (directory or store.data_dir()) / name
    return pq.ParquetFile(held).metadata.num_rows if held.exists() else 0


def held_outcodes(directory: Path) -> pd.DataFrame:
    """The outcode centroids data/ holds, indexed by outcode (a town's position comes from them)."""
    return pq.read_table(directory / OUTCODES_FILE).to_pandas().set_index("outcode")


def publish_postcode_frame(
    frame: pd.DataFrame,
    source: str,
    *,
    directory: Path | None = None,
    source_sha256: dict[str, str] | None = None,
) -> ImportReport:
    """Sort, key and publish the postcode table with its sector and outcode centroids.

    Works on numpy arrays keyed by integer postcode keys rather than on string columns: the
    1.7M-row Code-Point import stays well under a gigabyte.
    """
    if frame.empty:
        raise SourceFormatError(f"{source}: no postcodes in the file")
    columns = postcode_columns(frame)
    del frame
    imported_at = datetime.now(UTC).strftime("%Y-%m-%d")
    sectors, outcodes = centroids(columns)
    files = {
        POSTCODES_FILE: _parquet_bytes(postcode_table(columns, source, imported_at)),
        SECTORS_FILE: _parquet_bytes(pa.Table.from_pandas(sectors, preserve_index=False)),
        OUTCODES_FILE: _parquet_bytes(pa.Table.from_pandas(outcodes, preserve_index=False)),
    }
    report = ImportReport(
        source,
        len(columns.keys),
        int(columns.has_location.sum()),
        int(columns.terminated.sum()),
        len(sectors),
        len(outcodes),
        _check_area_codes(
            columns.district,
            columns.district_codes,
            columns.ward,
            columns.ward_codes,
            columns.country,
            directory,
        ),
    )
    files[MANIFEST_FILE] = store.update_manifest(
        "postcodes", _manifest_entry(report, imported_at, source_sha256), directory
    )
    expected_rows = len(columns.keys)

    def validate(temps: Mapping[str, Path]) -> None:
        check = pq.read_table(temps[POSTCODES_FILE])
        if check.num_rows != expected_rows or not np.all(np.diff(check.column("key").to_numpy()) > 0):
            raise SourceFormatError("postcode table failed validation after writing; nothing replaced")

    store.publish(files, validate=validate, directory=directory)
    return report


def _manifest_entry(report: ImportReport, imported_at: str, source_sha256: dict[str, str] | None) -> dict:
    return {
        "source_sha256": source_sha256 or {},
        "source": report.source,
        "imported_at": imported_at,
        "postcodes": report.postcodes,
        "with_location": report.with_location,
        "terminated": report.terminated,
        "licence": "Open Government Licence v3.0",
        "attribution": [
            "Contains OS data © Crown copyright and database right 2025",
            "Contains Royal Mail data © Royal Mail copyright and database right 2025",
            "Contains National Statistics data © Crown copyright and database right 2025",
        ],
    }


def _check_area_codes(
    district: np.ndarray,
    district_codes: list[str],
    ward: np.ndarray,
    ward_codes: list[str],
    country,
    directory,
) -> tuple[str, ...]:
    """How the postcodes' district and ward codes meet the area tables (when imported): codes the
    tables do not know mean no area, so they are counted and said, never guessed."""
    path = (directory or store.data_dir()) / AREAS_FILE
    if not path.exists():
        return ("area tables not imported yet: run `import areas` to check district codes",)
    tables = AreaTables(json.loads(path.read_text(encoding="utf-8")))
    english = country == COUNTRIES.index("England")
    known = np.array([bool(c) and tables.canonical(c) is not None for c in district_codes])
    older = np.array(
        [bool(c) and c not in tables.districts and known[i] for i, c in enumerate(district_codes)]
    )
    split = np.array([known[i] and tables.is_split(c) for i, c in enumerate(district_codes)])
    ward_known = np.array([c in tables.wards for c in ward_codes])
    lines = [
        f"{int((english & (district == 0)).sum()):,} English postcodes without a district code "
        "(their sector's area is used)",
        f"{int((english & (district != 0) & ~known[district]).sum()):,} English postcodes with a district "
        "code the area tables do not know (no area)",
        f"{int((english & older[district]).sum()):,} with an older district code mapped to its 2024 district",
        f"{int((english & split[district] & ~ward_known[ward]).sum()):,} in split districts with a ward the "
        "area tables do not know (both sub-ICBs kept as candidates)",
    ]
    return tuple(lines)


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def publish_places(path: Path, places: pd.DataFrame, directory: Path, max_shrink: float | None) -> int:
    shrink_line = refuse_shrink(
        path.name, "towns", len(places), held_rows(PLACES_FILE, directory), max_shrink
    )
    if shrink_line:
        print(shrink_line.strip(), file=sys.stderr)  # the count is the return value: say it here
    files = {PLACES_FILE: _parquet_bytes(pa.Table.from_pandas(places, preserve_index=False))}
    files[MANIFEST_FILE] = store.update_manifest(
        "places",
        {
            "source": path.name,
            "towns": len(places),
            "licence": "CC0 1.0 (names); positions from OS Code-Point Open",
            "source_sha256": guard.source_checksums([path]),
        },
        directory,
    )
    store.publish(files, directory=directory)
    return len(places)
