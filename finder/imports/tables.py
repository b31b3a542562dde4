"""The one CSV reader and the one header check of the importers.

Every source CSV is read through the import guards (finder/imports/guard.py: regular files only,
bounded unpacking, no control characters) and parsed here into a `SourceTable` whose rows are
whole (a row cut short by a truncated download is refused, never blanked). Each importer declares
its source's columns once as a `Layout`; `check_header` derives the expected header from it and
refuses a changed one with ONE error naming every missing, unexpected and duplicated column (as
DemocracyClub's uk-geo-utils does), so whoever maintains the source sees the whole change at once.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from finder.errors import SourceFormatError
from finder.imports import guard

NOTHING_IMPORTED = "Nothing was imported; data/ is unchanged."


@dataclass(frozen=True, kw_only=True)
class Layout:
    """The columns a source CSV must have.

    `columns`: required; `known_extra`: published columns the importer does not need (accepted
    quietly). Other columns are reported and ignored, unless `exact` (a hand-kept table whose
    every column has a meaning: an unknown column there is a typo or a different file, refused).
    `hint`: where the reader can see the expected layout, added to the error."""

    title: str
    columns: tuple[str, ...]
    known_extra: tuple[str, ...] = ()
    exact: bool = False
    hint: str = ""


@dataclass(frozen=True, kw_only=True)
class SourceTable:
    name: str  # file (or zip member) name, for messages and provenance
    header: tuple[str, ...]
    rows: list[dict[str, str]]


def check_header(header: Iterable[str], layout: Layout, name: str) -> list[str]:
    """Refuse a header that breaks `layout` with one error naming what is missing, unexpected and
    duplicated; return the unexpected columns of an accepted header (ignored, to be reported)."""
    header = list(header)
    missing = [c for c in layout.columns if c not in header]
    allowed = {*layout.columns, *layout.known_extra}
    unexpected = [c for c in header if c not in allowed]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if missing or duplicated or (layout.exact and unexpected):
        parts = [f"{name}: the {layout.title} header has changed"]
        if missing:
            parts.append(f"missing columns: {', '.join(missing)}")
        if unexpected:
            parts.append(f"unexpected columns: {', '.join(c[:40] for c in unexpected)}")
        if duplicated:
            parts.append(f"duplicated columns: {', '.join(duplicated)}")
        hint = f" (see {layout.hint})" if layout.hint else ""
        raise SourceFormatError("; ".join(parts) + f"{hint}. {NOTHING_IMPORTED}")
    return unexpected


def decode_text(blob: bytes, name: str) -> str:
    """A source file's text: UTF-8 (with or without a byte-order mark), else Windows-1252, which
    Excel on Windows saves and which covers Latin-1's letters; every importer reads its text this
    one way. Anything else is refused naming the file."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return blob.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SourceFormatError(f"{name}: neither UTF-8 nor Windows-1252 text, not a CSV. {NOTHING_IMPORTED}")


def csv_problem(error: csv.Error, name: str, line: int) -> SourceFormatError:
    """csv's own error as one line naming the file and the line it stopped on (a csv.reader's
    line_num). "field larger than field limit" is a cell of over 131,072 characters: a quote left
    open, or not this file."""
    text = str(error)
    if "field larger than field limit" in text:
        text = (
            f"a cell longer than {csv.field_size_limit():,} characters (a quote left open, or not this file?)"
        )
    return SourceFormatError(f"{name}: line {line}: not valid CSV: {text}. {NOTHING_IMPORTED}")


def parse_csv(text: str, name: str) -> SourceTable:
    """A CSV text as a table of whole rows, cells and column names stripped of surrounding space."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _parse_rows(reader, name)
    except csv.Error as error:
        # The DictReader's own count stops at the last whole row; its reader's is where it failed.
        raise csv_problem(error, name, reader.reader.line_num) from None


def _parse_rows(reader: csv.DictReader, name: str) -> SourceTable:
    if not reader.fieldnames:
        raise SourceFormatError(f"{name}: empty file (no header)")
    header = tuple(h.strip() for h in reader.fieldnames)
    rows = []
    for row in reader:
        if None in row:
            raise SourceFormatError(f"{name}: line {reader.line_num} has more cells than the header")
        if any(value is None for value in row.values()):
            # A row cut short (a truncated download) would silently blank the missing figures.
            raise SourceFormatError(
                f"{name}: line {reader.line_num} has fewer cells than the header; the file may be truncated"
            )
        rows.append({k.strip(): (v or "").strip() for k, v in row.items()})
    return SourceTable(name=name, header=header, rows=rows)


def read_tables(path: Path, limits: guard.Limits = guard.NHS_LIMITS) -> list[SourceTable]:
    """The CSV tables in `path`: the file itself, or every CSV inside a zip, read through the
    import guards (regular files only, bounded unpacking, no control characters, whole rows)."""
    path = Path(path)
    try:
        return [
            parse_csv(decode_text(blob, name), name) for name, blob in guard.read_csv_sources(path, limits)
        ]
    except (OSError, zipfile.BadZipFile) as error:
        raise SourceFormatError(f"{path}: cannot be read ({error.__class__.__name__}: {error})") from None


def read_table(
    path: Path, layout: Layout, *, name: str | None = None, what: str | None = None
) -> tuple[SourceTable, list[str]]:
    """The one CSV table of `path` (a file, or a zip holding one) checked against `layout`: the
    table and its ignored columns. `what` names the rows in the error ("providers")."""
    tables = read_tables(path)
    if len(tables) != 1:
        expected = f"one CSV of {what}" if what else "one CSV table"
        raise SourceFormatError(f"{Path(path).name}: expected {expected}, found {len(tables)}")
    table = tables[0]
    return table, check_header(table.header, layout, name or table.name)
