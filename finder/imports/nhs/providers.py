"""Mapping the ODS providers list (pure: reads and writes nothing): each row checked and made a
provider record. Inactive organisations are kept with their status (the directory leaves them out).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from finder.errors import SourceFormatError
from finder.imports.nhs.read import PROVIDER_COLUMNS

PROVIDER_STATUSES = ("Active", "Inactive")

_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _provider_record(row: Mapping[str, str], where: str, seen: set[str]) -> dict[str, str | None]:
    code = row["org_code"].upper()
    if not re.fullmatch(r"[A-Z0-9]{3,6}", code):
        raise SourceFormatError(f"{where}: {row['org_code']!r} is not an ODS code")
    if code in seen:
        raise SourceFormatError(f"{where}: organisation {code} appears twice")
    seen.add(code)
    if row["status"] not in PROVIDER_STATUSES:
        raise SourceFormatError(f"{where}: status {row['status']!r} is not one of {PROVIDER_STATUSES}")
    postcode = " ".join(row["postcode"].upper().split())
    if postcode and not _POSTCODE.match(postcode):
        raise SourceFormatError(f"{where}: {row['postcode']!r} is not a postcode")
    for key in ("start_date", "end_date"):
        if row[key] and not _DATE.match(row[key]):
            raise SourceFormatError(f"{where}: {key} {row[key]!r} is not an ISO date")
    return {key: (row[key] or None) for key in PROVIDER_COLUMNS} | {
        "org_code": code,
        "postcode": postcode or None,
    }


def provider_records(rows: Iterable[Mapping[str, str]], name: str) -> list[dict[str, str | None]]:
    """The checked provider records of rows in the ODS providers layout (PROVIDER_COLUMNS), in
    their order; `name` (the file's) is for messages. Pure: reads and writes nothing."""
    seen: set[str] = set()
    records = [_provider_record(row, f"{name}: row {line}", seen) for line, row in enumerate(rows, start=2)]
    if not records:
        raise SourceFormatError(f"{name}: no providers in the file")
    return records
