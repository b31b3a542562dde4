"""Reading the NHS sources: their known layouts, which annual file is which, its year, and rows
that did not come from a file (a refresh's) made to look as the CSV reader gives them.

Headers are checked against these layouts: a missing or renamed column is refused with a
`SourceFormatError` naming it, before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from finder.errors import SourceFormatError
from finder.imports.tables import Layout, SourceTable

PROVIDER_COLUMNS = (
    "org_code",
    "org_name",
    "status",
    "start_date",
    "end_date",
    "postcode",
    "town",
    "icb_code",
    "icb_name",
    "region_code",
    "region_name",
)

MAIN_REQUIRED = (
    "OrgType",
    "OrgCode",
    "OrgName",
    "VariableType",
    "VariableA",
    "VariableB",
    "Count_ReferralsReceived",
    "Count_FinishedCourseTreatment",
    "Count_Improvement",
    "Percentage_Improvement",
    "Count_ReliableRecovery",
    "Percentage_ReliableRecovery",
    "Count_Recovery",
    "Percentage_Recovery",
)
MAIN_KNOWN_EXTRA = (
    "Count_AtCaseness",
    "Count_NotAtCaseness",
    "Count_Deterioration",
    "Percentage_Deterioration",
    "Count_NoReliableChange",
    "Percentage_NoReliableChange",
)
THERAPY_REQUIRED = (
    "OrganisationType",
    "OrganisationCode",
    "OrganisationName",
    "Diagnosis",
    "TherapyType",
    "Count_CoursesOfTherapy",
    "Count_TherRecovery",
    "Percentage_TherRecovery",
    "Percentage_TherRelRecovery",
    "Percentage_TherImprovement",
)
THERAPY_KNOWN_EXTRA = (
    "Count_TotalFinishingCourseTreatment",
    "Count_NotCaseness",
    "Count_TherRelRecovery",
    "Count_TherImprovement",
    "Count_TherDeterioration",
    "Percentage_TherDeterioration",
    "Count_TherNoChange",
    "Percentage_TherNoChange",
)
LINK_COLUMNS = (
    "org_code",
    "org_name",
    "service_name",
    "website",
    "self_referral_url",
    "self_referral_phone",
    "min_age",
    "offers_ipt",
    "catchment",
    "evidence_urls",
    "notes",
)
PROVIDERS_LAYOUT = Layout(title="ODS providers", columns=PROVIDER_COLUMNS)
MAIN_LAYOUT = Layout(title="annual main measures", columns=MAIN_REQUIRED, known_extra=MAIN_KNOWN_EXTRA)
THERAPY_LAYOUT = Layout(
    title="therapy-based outcomes", columns=THERAPY_REQUIRED, known_extra=THERAPY_KNOWN_EXTRA
)
LINKS_LAYOUT = Layout(title="service links", columns=LINK_COLUMNS)


def annual_layout(table: SourceTable) -> str:
    """Which annual report a table is, told by its header: "main" measures or "therapy"-based outcomes."""
    header = set(table.header)
    if "VariableType" in header or "OrgType" in header:
        return "main"
    if "TherapyType" in header or "OrganisationType" in header:
        return "therapy"
    raise SourceFormatError(
        f"{table.name}: not an NHS Talking Therapies annual file: expected the main measures "
        f"({', '.join(MAIN_REQUIRED[:6])}, ...) or the therapy-based outcomes "
        f"({', '.join(THERAPY_REQUIRED[:5])}, ...); header is {', '.join(table.header[:8])}"
    )


_PERIOD_IN_NAME = re.compile(r"(20\d\d)[-_ ]?(\d\d)(?!\d)")


def period_from_name(name: str) -> str:
    """The financial year in a file name: annual_main_2024-25.csv -> "2024-25"."""
    for match in _PERIOD_IN_NAME.finditer(Path(name).name):
        start, end = int(match.group(1)), int(match.group(2))
        if (start + 1) % 100 == end:
            return f"{start}-{end:02d}"
    raise SourceFormatError(
        f"{name}: cannot tell the reporting year from the file name; name it like "
        "annual_main_2024-25.csv or therapy_based_outcomes_2024-25.csv"
    )


def period_for(table: SourceTable, path: Path) -> str:
    """The year from the CSV's own name, else from the zip that holds it."""
    try:
        return period_from_name(table.name.split(":", 1)[-1])
    except SourceFormatError:
        return period_from_name(path.name)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def source_rows(
    rows: Iterable[Mapping[str, object]], columns: Sequence[str], name: str
) -> list[dict[str, str]]:
    """Rows that did not come from a file (a refresh's) as the CSV reader gives them: every column
    a string stripped of surrounding space ("" for a missing value), refused if it holds a control
    character, as the import guard refuses a file that does."""
    cleaned = []
    for line, row in enumerate(rows, start=2):
        cells = {}
        for column in columns:
            value = row.get(column)
            text = "" if value is None else str(value)
            if _CONTROL.search(text):
                raise SourceFormatError(f"{name}: row {line}, column {column} holds a control character")
            cells[column] = text.strip()
        cleaned.append(cells)
    return cleaned
