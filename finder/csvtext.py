"""The one CSV writer of the project (the export and the app's download), with one rule against
spreadsheet formula injection."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

# A cell a spreadsheet would run as a formula (CSV injection): one starting = + - @, or a tab or
# carriage return before one. Such a cell is written with a leading apostrophe, so it shows as text.
# A plain number (the only thing that may start with "-" and still be safe) stays a number, so a
# negative figure remains readable and sortable; "-1+cmd|..." is not a plain number and is quoted.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


def csv_cell(value: object) -> str:
    """One CSV cell: empty for None, yes/no for booleans, text neutralised against formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def csv_table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """The one CSV writer: a header row, then every row's cells through `csv_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()
