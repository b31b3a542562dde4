"""The importer registry: one declaration per source, used by `python -m finder import` (its kinds
and help) and `python -m finder build` (its steps, in this order).

The order is the build order: the area lookups and postcodes first (the NHS importers locate
services with them), the NHS providers before the tables joined onto them, every statistics year
oldest first (the latest year is imported last), the service areas and roles after the links (they
re-derive the directory from every table held), practitioners last.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from finder import store
from finder.imports import areas, gp, nhs, nhs_coverage, postcodes, practitioners
from finder.imports.references import ALLOW_ALL, Allow
from finder.schema import (
    AREAS_FILE,
    GP_FILE,
    LINKS_FILE,
    PRACTITIONERS_FILE,
    ROLES_FILE,
    SERVICE_AREAS_FILE,
    records_document,
)

Run = Callable[[Path, "float | None", Allow], list[str]]


@dataclass(frozen=True, kw_only=True)
class Importer:
    """One source. `run(path, max_shrink, allow)` imports it and returns report lines; `max_shrink`
    None lifts the shrink guard (`--allow-shrink`, and `build`, an explicit rebuild from named
    sources); `allow` lets a much larger table or a mass change of roles through (--allow-growth,
    --allow-mass-change, and `build`). The reference checks (finder/imports/references.py) apply
    whatever is allowed.

    `shared`: where `build` finds it under ../shared/data (a path, or a function listing the files
    to import in order); None when `build` does not import it. `optional`: an older shared
    directory may lack it, and data/ then keeps `data_file` as it is. `label`: the build step."""

    name: str
    help: str
    run: Run
    label: str
    shared: str | Callable[[Path], list[Path]] | None = None
    optional: bool = False
    data_file: str = ""


def outcome_files(shared: Path) -> list[Path]:
    """Every annual statistics file, oldest year first, so the latest year is imported last."""
    folder = shared / "nhs"
    files = sorted(folder.glob("annual_main_*.csv")) + sorted(folder.glob("therapy_based_outcomes_*.csv"))
    return sorted(files, key=lambda p: (p.name.rsplit("_", 1)[-1], p.name))


def _towns(path: Path, max_shrink: float | None, allow: Allow) -> list[str]:
    count = postcodes.import_towns(path, max_shrink=max_shrink)
    return [f"Imported {count:,} towns for offline place search from {Path(path).name}"]


def _practitioners(path: Path, max_shrink: float | None, allow: Allow) -> list[str]:
    return practitioners.cli_import_practitioners(path, allow_shrink=max_shrink is None)


def _nhs_table(name: str, help: str, run: Run, data_file: str) -> Importer:
    """A table the NHS directory is derived from, built from ../shared/data/nhs/<name>.csv (the
    name with underscores); an older shared directory may lack it, and data/ keeps `data_file`."""
    return Importer(
        name=name,
        help=help,
        run=run,
        label=name.replace("-", " "),
        shared=f"nhs/{name.replace('-', '_')}.csv",
        optional=True,
        data_file=data_file,
    )


IMPORTERS: tuple[Importer, ...] = (
    Importer(
        name="areas",
        help="folder of ONS district/ward to sub-ICB and ICB tables (lad24_sicbl24_icb24.csv ...)",
        run=lambda path, shrink, _allow: areas.import_areas(path, max_shrink=shrink).lines(),
        label="areas",
        shared="areas",
        optional=True,
        data_file=AREAS_FILE,
    ),
    Importer(
        name="postcodes",
        help="OS Code-Point Open zip/CSV or an ONS Postcode Directory / NSPL CSV",
        run=lambda path, shrink, _allow: postcodes.import_postcodes(path, max_shrink=shrink).lines(),
        label="postcodes",
        shared="postcodes/codepo_gb_2025.2.0.zip",
    ),
    Importer(
        name="towns",
        help="outcode-to-town list for offline town search",
        run=_towns,
        label="towns",
        shared="postcodes/outcode_towns/outcodes_towns.csv",
    ),
    Importer(
        name="gp-practices",
        help="NHS ODS GP practice list epraccur (CSV as published, no header)",
        run=lambda path, shrink, _allow: gp.import_gp_practices(path, max_shrink=shrink).lines(),
        label="gp practices",
        shared="gp/epraccur_2026-02.csv",
        optional=True,
        data_file=GP_FILE,
    ),
    Importer(
        name="nhs-providers",
        help="ODS list of NHS Talking Therapies providers",
        run=lambda path, shrink, _allow: nhs.import_providers(path, max_shrink=shrink),
        label="nhs providers",
        shared="nhs/ods_providers.csv",
    ),
    Importer(
        name="nhs-outcomes",
        help="NHS England annual main measures or therapy-based outcomes (CSV or zip)",
        run=lambda path, shrink, _allow: nhs.import_outcomes(path, max_shrink=shrink),
        label="outcomes",
        shared=outcome_files,
    ),
    _nhs_table(
        "service-links",
        "service websites, self-referral and IPT evidence",
        lambda path, shrink, _allow: nhs.import_service_links(path, max_shrink=shrink),
        LINKS_FILE,
    ),
    _nhs_table(
        "service-areas",
        "the districts each NHS service serves, with basis, evidence and confidence",
        lambda path, shrink, allow: nhs_coverage.import_service_areas(path, max_shrink=shrink, allow=allow),
        SERVICE_AREAS_FILE,
    ),
    _nhs_table(
        "service-roles",
        "what each NHS service is to the public: lead, partner, specialist, digital, site, unclear",
        lambda path, shrink, allow: nhs_coverage.import_service_roles(path, max_shrink=shrink, allow=allow),
        ROLES_FILE,
    ),
    Importer(
        name="practitioners",
        help="register export of IPT practitioners (template in README)",
        run=_practitioners,
        label="practitioners",
    ),
)
BY_NAME = {importer.name: importer for importer in IMPORTERS}


def shared_paths(importer: Importer, shared: Path) -> Sequence[Path]:
    """The files `build` imports for `importer` from the shared directory, in order."""
    if importer.shared is None:
        return ()
    if callable(importer.shared):
        return importer.shared(shared)
    return (shared / importer.shared,)


def build_steps(importer: Importer, shared: Path) -> list[tuple[str, Callable[[], list[str]]]]:
    """(label, step) pairs that rebuild `importer`'s data from the shared directory."""
    paths = shared_paths(importer, shared)
    if callable(importer.shared):
        return [(f"{importer.label} {p.name}", partial(importer.run, p, None, ALLOW_ALL)) for p in paths]
    steps: list[tuple[str, Callable[[], list[str]]]] = []
    for path in paths:
        if importer.optional and not path.exists():
            # An older shared directory: say that data/ keeps what it holds (or skip quietly).
            if (store.data_dir() / importer.data_file).exists():
                note = [f"{path} absent: kept data/{importer.data_file} as it was"]
                steps.append((importer.label, partial(list, note)))
            continue
        steps.append((importer.label, partial(importer.run, path, None, ALLOW_ALL)))
    return steps


def ensure_practitioners() -> list[str]:
    """The practitioner table comes from a register export, not the shared data; the app needs
    the file to exist."""
    if (store.data_dir() / PRACTITIONERS_FILE).exists():
        return ["practitioners.json present, left as it is"]
    store.publish({PRACTITIONERS_FILE: store.json_bytes(records_document([]))})
    return ["practitioners.json absent: wrote an empty table"]
