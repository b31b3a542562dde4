"""`python -m finder import practitioners PATH`: a register export of IPT practitioners (CSV).

The CSV's header must be exactly the template's columns (docs/practitioners_template.csv), in any
order; a missing or unknown column stops the import before any row is read. Every row is checked
and every bad field reported by row and field; one bad row stops the whole import, so data/ is
replaced completely or not at all. Rows that share a registration number are one practitioner and
are merged. The imported table replaces data/practitioners.json.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from finder import practitioners
from finder.errors import FinderError, SourceFormatError
from finder.imports import guard, held_document
from finder.imports.guard import MAX_SHRINK, check_shrink
from finder.imports.tables import Layout, check_header, csv_problem, decode_text
from finder.schema import PRACTITIONERS_FILE, RecordError

COLUMNS = (
    "name",
    "ipt_level",
    "registrations",
    "town",
    "outcode",
    "works_in_person",
    "works_online",
    "works_by_phone",
    "website",
    "email",
    "phone",
    "source",
    "last_verified",
)
# Every template column has a meaning: an unknown one is a typo or another file, refused.
LAYOUT = Layout(
    title="practitioners template", columns=COLUMNS, exact=True, hint="docs/practitioners_template.csv"
)
REQUIRED = ("name", "ipt_level", "town", "outcode", "source", "last_verified")
MAX_BYTES = 20_000_000
MAX_ROWS = 100_000
MAX_ERRORS_SHOWN = 3


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; raises SourceFormatError for an unreadable file or a
    header that is not the template's."""
    path = guard.open_source(path)
    if path.stat().st_size > MAX_BYTES:
        raise SourceFormatError(
            f"{path.name}: larger than {MAX_BYTES // 1_000_000} MB; is this the right file?"
        )
    raw = guard.read_source_bytes(path, guard.Limits(max_bytes=MAX_BYTES))
    if not raw.strip():
        raise SourceFormatError(f"{path.name} is empty; start from docs/practitioners_template.csv")
    text = decode_text(raw, path.name)
    if "\x00" in text:
        raise SourceFormatError(f"{path.name} is not a CSV file (it contains binary data)")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise SourceFormatError(f"{path.name} has no header row") from None
    header = [h.strip().lower() for h in header]
    check_header(header, LAYOUT, path.name)
    rows = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise SourceFormatError(
                    f"{path.name} row {line}: {len(values)} fields, expected {len(header)}"
                )
            rows.append((line, dict(zip(header, values, strict=True))))
            if len(rows) > MAX_ROWS:
                raise SourceFormatError(f"{path.name}: more than {MAX_ROWS} rows")
    except csv.Error as error:
        raise csv_problem(error, path.name, reader.line_num) from None
    if not rows:
        raise SourceFormatError(f"{path.name} has a header but no practitioner rows")
    return rows


def build_records(path: Path) -> tuple[list[dict], int]:
    """Validated, merged records from the CSV; raises FinderError naming row and field."""
    numbered = read_rows(path)
    return rows_to_records(
        [row for _, row in numbered], name=Path(path).name, lines=[line for line, _ in numbered]
    )


def rows_to_records(
    rows: Sequence[Mapping[str, str]], *, name: str = "practitioners", lines: Sequence[int] | None = None
) -> tuple[list[dict], int]:
    """Validated, merged practitioner records from the template's rows, and how many rows were
    merged into another; raises FinderError naming row and field (`lines`: each row's line in
    the file, else counted from 2) and imports nothing when any row is wrong."""
    errors: list[str] = []
    records = []
    kept_lines = []
    for line, row in zip(lines or range(2, len(rows) + 2), rows, strict=True):
        try:
            records.append(practitioners.build_record(row))
            kept_lines.append(line)
        except RecordError as error:
            errors.append(f"row {line}, field {error.field}: {error.detail}")
    errors += _numbers_shared_by_different_names(zip(kept_lines, records, strict=True))
    if errors:
        more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise FinderError(
            f"{name}: " + "; ".join(errors[:MAX_ERRORS_SHOWN]) + more + "; nothing was imported"
        )
    return practitioners.merge_duplicates(records)


def _numbers_shared_by_different_names(rows) -> list[str]:
    """Rows are merged by registration number, so a number given for two different names would
    silently drop one of them: refuse it, naming both rows. Names that agree once titles, middle
    names and one part of a double-barrelled surname are set aside are the same person."""
    from finder import names

    held: dict[tuple[str, str], tuple[int, dict]] = {}
    errors = []
    for line, record in rows:
        for registration in record["registrations"]:
            key = (registration["register"], registration["number"])
            if key not in held:
                held[key] = (line, record)
                continue
            first_line, first = held[key]
            if not names.compare(names.parse_name(first["name"]), names.parse_name(record["name"])).exact:
                errors.append(
                    f"rows {first_line} and {line}, field registrations: {key[0]} {key[1]} is given for "
                    f"both {first['name']!r} and {record['name']!r} (a number belongs to one person)"
                )
    return errors


def cli_import_practitioners(path, *, allow_shrink: bool = False) -> list[str]:
    path = Path(path)
    records, merged = build_records(path)
    held = held_document(PRACTITIONERS_FILE)
    shrink_line = check_shrink(
        path.name,
        "practitioners",
        len(records),
        len(held.get("records", [])),
        None if allow_shrink else MAX_SHRINK,
    )
    practitioners.publish_practitioners(
        records,
        {"source": path.name, "imported_at": _today(), "source_sha256": guard.source_checksums([path])},
    )
    lines = [f"practitioners: {len(records)} record(s) imported from {path.name}"]
    if shrink_line:
        lines.append(shrink_line)
    if merged:
        lines.append(f"merged {merged} duplicate row(s): same registration number, or same name and outcode")
    located = sum(1 for r in records if r["lat"] is not None)
    lines.append(f"located {located} of {len(records)} by outcode centre (never a home address)")
    return lines


def _today() -> str:
    from datetime import date

    return date.today().isoformat()
