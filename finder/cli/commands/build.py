"""`python -m finder build [--shared DIR]`: rebuild all of data/ from the shared source files.

Runs the project's own importers in the order of finder/imports/registry.py, then writes an empty
practitioners table if there is none yet. Each step publishes
atomically, so a failure leaves data/ as the previous steps left it and says which step.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from finder import store
from finder.errors import FinderError, SourceFormatError
from finder.imports.registry import IMPORTERS, build_steps, ensure_practitioners, outcome_files

HELP = "Rebuild all of data/ end to end from the shared source files with the project's importers."

DEFAULT_SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"


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


def build(shared: Path, *, skip_postcodes: bool = False, out=None) -> list[tuple[str, float]]:
    """Run every import step of the registry, printing each step's report to `out`; returns
    (step, seconds) pairs. An explicit rebuild from named sources: no shrink guard applies."""
    out = out or sys.stdout
    shared = Path(shared)
    if not shared.is_dir():
        raise FinderError(f"{shared}: no such directory (use --shared DIR)")
    if not outcome_files(shared):
        raise SourceFormatError(f"{shared / 'nhs'}: no annual_main_*.csv or therapy_based_outcomes_*.csv")
    steps = []
    for importer in IMPORTERS:
        if not (skip_postcodes and importer.name == "postcodes"):
            steps += build_steps(importer, shared)
    steps.append(("practitioners", ensure_practitioners))
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


def run(args) -> int:
    started = time.perf_counter()
    build(args.shared, skip_postcodes=args.skip_postcodes)
    print(f"data/ rebuilt in {time.perf_counter() - started:.1f} s ({store.data_dir()})")
    return 0
