"""Import the NHS Talking Therapies sources and (re)derive the service directory `data/services.json`.

Three importers, each storing its normalised source table in `data/` and re-deriving
`services.json` in the same atomic publish (with the manifest), so the directory never describes
sources that are not there:

- `nhs-providers`: the ODS list of organisations delivering NHS Talking Therapies
  (-> `nhs_providers.json`). Inactive organisations are stored with their status but kept out of
  the directory, and reported.
- `nhs-outcomes`: NHS England annual "main measures" or "therapy-based outcomes", CSV or the
  published zip; the layout is detected from the header (-> `nhs_outcomes.json`, one section per
  year, so importing 2023-24 and then 2024-25 keeps both).
- `service-links`: websites, self-referral routes, age limits and IPT mentions seen on public
  pages (-> `service_links.json`). Dates unknown: recorded as "seen", never as "verified".

Each runs read -> map -> publish, one module per step: `read` (the known layouts, the year of an
annual file, a refresh's rows as the CSV reader gives them), the pure maps `providers`, `outcomes`
and `links` (rows -> records; they read and write nothing), and `publish` (the stored tables, the
derived directory and the manifest). The refresh calls the maps and `publish` directly.
"""

from __future__ import annotations

from pathlib import Path

from finder.imports import guard
from finder.imports.nhs.links import LinkRecords, link_records, link_row
from finder.imports.nhs.outcomes import outcome_section, parse_main, parse_therapy
from finder.imports.nhs.providers import provider_records
from finder.imports.nhs.publish import publish_outcomes, publish_providers, publish_service_links
from finder.imports.nhs.read import (
    LINK_COLUMNS,
    LINKS_LAYOUT,
    PROVIDER_COLUMNS,
    PROVIDERS_LAYOUT,
    period_from_name,
    source_rows,
)
from finder.imports.tables import read_table, read_tables

__all__ = [
    "LINK_COLUMNS",
    "PROVIDER_COLUMNS",
    "LinkRecords",
    "import_outcomes",
    "import_providers",
    "import_service_links",
    "link_records",
    "link_row",
    "parse_main",
    "parse_therapy",
    "period_from_name",
    "provider_records",
    "publish_providers",
    "publish_service_links",
    "source_rows",
]


def import_providers(
    path: Path, *, directory: Path | None = None, max_shrink: float | None = None
) -> list[str]:
    """Import the ODS provider list. `max_shrink`: refuse a list with fewer than (1 - max_shrink)
    of the active providers held now (the CLI sets it; the refresh job has its own --max-shrink)."""
    table, ignored = read_table(path, PROVIDERS_LAYOUT, what="providers")
    return publish_providers(
        provider_records(table.rows, table.name),
        source=table.name,
        directory=directory,
        max_shrink=max_shrink,
        source_sha256=guard.source_checksums([path]),
        ignored=ignored,
    )


def import_outcomes(
    path: Path, *, directory: Path | None = None, max_shrink: float | None = None
) -> list[str]:
    """Import one annual file (CSV or zip). `max_shrink`: refuse a year that lists fewer than
    (1 - max_shrink) of the providers held for that year now (None: no check)."""
    path = Path(path)
    sections = [outcome_section(table, path) for table in read_tables(path)]
    return publish_outcomes(sections, path=path, directory=directory, max_shrink=max_shrink)


def import_service_links(
    path: Path, *, directory: Path | None = None, max_shrink: float | None = None
) -> list[str]:
    """Import service_links.csv. `max_shrink`: refuse a file with fewer than (1 - max_shrink) of
    the rows held now (None: no check)."""
    table, ignored = read_table(path, LINKS_LAYOUT, what="service links")
    return publish_service_links(
        link_records(table.rows, table.name),
        source=table.name,
        directory=directory,
        max_shrink=max_shrink,
        source_sha256=guard.source_checksums([path]),
        ignored=ignored,
    )
