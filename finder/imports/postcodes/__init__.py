"""Build the postcode tables in `data/` from OS Code-Point Open or an ONS postcode directory, and
the place table from the outcode-towns list.

Each runs read -> map -> publish, one module per step: `read` (every source format into one
postcode frame; the towns list into rows), the pure maps `mapping` (the frame -> the keyed postcode
table and the sector and outcode centroids) and `towns` (the towns' rows -> places), and `publish`
(the shrink check against what data/ holds, the parquet files and the manifest, atomically).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from finder import store
from finder.errors import SourceFormatError
from finder.imports import MAX_SHRINK, guard, refuse_shrink
from finder.imports.postcodes.publish import (
    ImportReport,
    held_outcodes,
    held_rows,
    publish_places,
    publish_postcode_frame,
)
from finder.imports.postcodes.read import find_column, read_postcodes, read_towns
from finder.imports.postcodes.towns import towns_to_places
from finder.schema import POSTCODES_FILE

__all__ = [
    "ImportReport",
    "find_column",
    "import_postcodes",
    "import_towns",
    "publish_postcode_frame",
    "towns_to_places",
]


def import_postcodes(
    path: Path, *, directory: Path | None = None, max_shrink: float | None = MAX_SHRINK
) -> ImportReport:
    """Detect the format of `path`, build the tables and publish them atomically.

    `max_shrink`: refuse a file that holds fewer than (1 - max_shrink) of the postcodes held now
    (None: no check; the refresh job applies its own --max-shrink)."""
    path = guard.open_source(path)
    frame, source = read_postcodes(path)
    held = held_rows(POSTCODES_FILE, directory)
    shrink_line = refuse_shrink(source, "postcodes", len(frame), held, max_shrink)
    report = publish_postcode_frame(
        frame, source, directory=directory, source_sha256=guard.source_checksums([path])
    )
    return replace(report, notes=(shrink_line,) if shrink_line else ())


def import_towns(path: Path, *, directory: Path | None = None, max_shrink: float | None = MAX_SHRINK) -> int:
    """Town names for offline place search, from the CC0 outcode-towns list (positioned from the
    outcode centroids data/ holds: see `towns`)."""
    path = guard.open_source(path)
    rows = read_towns(path)
    directory = directory or store.data_dir()
    places = towns_to_places(rows, held_outcodes(directory))
    if places.empty:
        raise SourceFormatError(f"{path.name}: no towns found")
    return publish_places(path, places, directory, max_shrink)
