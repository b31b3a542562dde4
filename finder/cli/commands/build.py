"""`python -m finder build [--shared DIR]`: rebuild all of data/ from the shared source files.

Runs the project's own importers in order: areas (district -> sub-ICB -> ICB), postcodes, towns,
GP practices (their positions come from the postcode table), NHS providers, every annual outcomes
file, service links, service areas, service roles, and an empty practitioners table if there is
none yet. Each step
publishes atomically, so a failure leaves data/ as the previous steps left it and says which step.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from finder import store
from finder.errors import FinderError, SourceFormatError
from finder.schema import LINKS_FILE, PRACTITIONERS_FILE, records_document

HELP = "Rebuild all of data/ end to end from the shared source files with the project's importers."

DEFAULT_SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CODEPOINT_ZIP = Path("postcodes") / "codepo_gb_2025.2.0.zip"
TOWNS_CSV = Path("postcodes") / "outcode_towns" / "outcodes_towns.csv"
PROVIDERS_CSV = Path("nhs") / "ods_providers.csv"
LINKS_CSV = Path("nhs") / "service_links.csv"
AREAS_CSV = Path("nhs") / "service_areas.csv"
ROLES_CSV = Path("nhs") / "service_roles.csv"
AREAS_DIR = Path("areas")
GP_CSV = Path("gp") / "epraccur_2026-02.csv"


def add_arguments(parser):
    parser.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        metavar="DIR",
        help=f"the shared source data directory (default: {DEFAULT_SHARED})",
    )
    parser.add_argument(
        "--skip-postcodes",
        action="store_true",
        help="keep the postcode tables already in data/ (their import takes about 12 s)",
    )


def outcome_files(shared: Path) -> list[Path]:
    """Every annual statistics file, oldest year first, so the latest year is imported last."""
    nhs = shared / "nhs"
    files = sorted(nhs.glob("annual_main_*.csv")) + sorted(nhs.glob("therapy_based_outcomes_*.csv"))
    return sorted(files, key=lambda p: (p.name.rsplit("_", 1)[-1], p.name))


def build(shared: Path, *, skip_postcodes: bool = False, out=None) -> list[tuple[str, float]]:
    """Run every import step, printing each step's report to `out`; returns (step, seconds) pairs."""
    out = out or sys.stdout
    from finder.imports import areas, gp, nhs, nhs_coverage, postcodes

    shared = Path(shared)
    if not shared.is_dir():
        raise FinderError(f"{shared}: no such directory (use --shared DIR)")
    # An explicit rebuild from named sources: the shrink guard of a single import does not apply.
    steps = [
        (
            "areas",
            _optional(shared / AREAS_DIR, lambda: areas.import_areas(shared / AREAS_DIR, max_shrink=None)),
        )
    ]
    if not skip_postcodes:
        steps.append(
            ("postcodes", lambda: postcodes.import_postcodes(shared / CODEPOINT_ZIP, max_shrink=None).lines())
        )
    steps.append(
        ("towns", lambda: [f"Imported {postcodes.import_towns(shared / TOWNS_CSV, max_shrink=None):,} towns"])
    )
    steps.append(
        (
            "gp practices",
            _optional(shared / GP_CSV, lambda: gp.import_gp_practices(shared / GP_CSV, max_shrink=None)),
        )
    )
    steps.append(("nhs providers", lambda: nhs.import_providers(shared / PROVIDERS_CSV)))
    files = outcome_files(shared)
    if not files:
        raise SourceFormatError(f"{shared / 'nhs'}: no annual_main_*.csv or therapy_based_outcomes_*.csv")
    for path in files:
        steps.append((f"outcomes {path.name}", lambda path=path: nhs.import_outcomes(path)))
    if (shared / LINKS_CSV).exists():
        steps.append(("service links", lambda: nhs.import_service_links(shared / LINKS_CSV)))
    elif (store.data_dir() / LINKS_FILE).exists():
        # Say so: the directory keeps the links of an earlier import, not of this source directory.
        steps.append(
            (
                "service links",
                lambda: [f"{shared / LINKS_CSV} absent: kept data/service_links.json as it was"],
            )
        )
    # After the links: the areas and roles re-derive the directory from every table held.
    for label, relative, function in (
        ("service areas", AREAS_CSV, nhs_coverage.import_service_areas),
        ("service roles", ROLES_CSV, nhs_coverage.import_service_roles),
    ):
        if (shared / relative).exists():
            steps.append((label, lambda path=shared / relative, f=function: f(path)))
    steps.append(("practitioners", _ensure_practitioners))
    timings = []
    for name, step in steps:
        started = time.perf_counter()
        try:
            lines = step()
        except FinderError as error:
            raise FinderError(f"build step '{name}' failed: {error}") from error
        elapsed = time.perf_counter() - started
        timings.append((name, elapsed))
        print(f"[{name}] {elapsed:.1f} s", file=out)
        for line in lines:
            print(f"  {line}", file=out)
    return timings


def _optional(source: Path, step):
    """A step whose source may be absent from an older shared directory: then data/ keeps what
    it holds, and the build says so."""

    def run_step() -> list[str]:
        if not source.exists():
            return [f"{source} absent: kept what data/ holds"]
        return step().lines()

    return run_step


def _ensure_practitioners() -> list[str]:
    """The practitioner table belongs to another importer; the app needs the file to exist."""
    if (store.data_dir() / PRACTITIONERS_FILE).exists():
        return ["practitioners.json present, left as it is"]
    store.publish({PRACTITIONERS_FILE: store.json_bytes(records_document([]))})
    return ["practitioners.json absent: wrote an empty table"]


def run(args) -> int:
    started = time.perf_counter()
    build(args.shared, skip_postcodes=args.skip_postcodes)
    print(f"data/ rebuilt in {time.perf_counter() - started:.1f} s ({store.data_dir()})")
    return 0
