"""Benchmark: a full rebuild of data/ from the shared source files (`python -m finder build`).

Runs the build into a temporary data directory (FINDER_DATA_DIR) in a child process, so the
committed data/ is never touched, and reports:
- wall time of the whole rebuild and of each step (postcodes, towns, NHS providers, outcomes,
  service links);
- peak resident memory of the child (resource.getrusage RUSAGE_CHILDREN, ru_maxrss);
- peak Python allocations (tracemalloc) of the NHS steps alone, measured in this process;
- a baseline measured in the same run: reading every source file's bytes once (the I/O floor),
  and the ratio rebuild / baseline.

Run: /work/venv/bin/python bench/bench_rebuild.py [--shared DIR] [--skip-postcodes] [--runs 1]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from finder.cli.commands.build import DEFAULT_SHARED  # noqa: E402
from finder.imports.registry import outcome_files  # noqa: E402
from finder.settings import settings  # noqa: E402

STEP_LINE = re.compile(r"^\[(?P<step>[^\]]+)\] (?P<seconds>[0-9.]+) s$")


def read_sources(shared: Path, skip_postcodes: bool) -> float:
    """The I/O floor: read every file the build reads, once."""
    files = [
        shared / "postcodes/outcode_towns/outcodes_towns.csv",
        shared / "nhs/ods_providers.csv",
        shared / "nhs/service_links.csv",
        *outcome_files(shared),
    ]
    if not skip_postcodes:
        files.append(shared / "postcodes/codepo_gb_2025.2.0.zip")
    started = time.perf_counter()
    total = sum(len(path.read_bytes()) for path in files if path.exists())
    elapsed = time.perf_counter() - started
    print(f"baseline: read {len(files)} source files ({total / 1e6:.1f} MB) in {elapsed:.3f} s")
    return elapsed


def rebuild_in_child(shared: Path, skip_postcodes: bool) -> tuple[float, dict[str, float], float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, FINDER_DATA_DIR=tmp)
        if skip_postcodes:
            # Postcode tables are an input of the NHS steps: start from the committed ones.
            for name in ("postcodes.parquet", "postcode_sectors.parquet", "postcode_outcodes.parquet"):
                Path(tmp, name).write_bytes((ROOT / "data" / name).read_bytes())
        command = [sys.executable, "-m", "finder", "build", "--shared", str(shared)]
        if skip_postcodes:
            command.append("--skip-postcodes")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if done.returncode != 0:
            raise SystemExit(f"build failed: {done.stderr.strip()}")
        steps = {}
        for line in done.stdout.splitlines():
            match = STEP_LINE.match(line)
            if match:
                steps[match["step"]] = float(match["seconds"])
        # ru_maxrss of RUSAGE_CHILDREN is the largest child so far (KiB on Linux).
        return elapsed, steps, max(peak_kb, before) / 1024


def nhs_steps_tracemalloc(shared: Path) -> tuple[float, float]:
    """Peak Python allocations of the NHS imports (providers, outcomes, links) in this process."""
    from finder.imports import nhs

    with tempfile.TemporaryDirectory() as tmp:
        for name in ("postcodes.parquet", "postcode_sectors.parquet", "postcode_outcodes.parquet"):
            Path(tmp, name).write_bytes((ROOT / "data" / name).read_bytes())
        os.environ["FINDER_DATA_DIR"] = tmp
        settings.cache_clear()  # settings are read once per process: read them again
        try:
            from finder import postcodes

            postcodes.tables()  # load the postcode tables first: they are not the NHS steps' cost
            tracemalloc.start()
            started = time.perf_counter()
            sink = io.StringIO()
            print(nhs.import_providers(shared / "nhs/ods_providers.csv"), file=sink)
            for path in outcome_files(shared):
                print(nhs.import_outcomes(path), file=sink)
            print(nhs.import_service_links(shared / "nhs/service_links.csv"), file=sink)
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        finally:
            del os.environ["FINDER_DATA_DIR"]
            settings.cache_clear()
    return elapsed, peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--skip-postcodes", action="store_true")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    baseline = read_sources(args.shared, args.skip_postcodes)
    times, peaks, last_steps = [], [], {}
    for run in range(args.runs):
        elapsed, steps, peak_mb = rebuild_in_child(args.shared, args.skip_postcodes)
        times.append(elapsed)
        peaks.append(peak_mb)
        last_steps = steps
        print(f"run {run + 1}: full rebuild {elapsed:.2f} s, peak RSS {peak_mb:.0f} MB")
    for step, seconds in last_steps.items():
        print(f"  step {step:<45} {seconds:6.1f} s")
    median = statistics.median(times)
    print(f"rebuild median {median:.2f} s over {len(times)} run(s); peak RSS {max(peaks):.0f} MB")
    print(f"ratio rebuild / read-the-sources baseline: {median / baseline:.0f}x")
    nhs_time, nhs_peak = nhs_steps_tracemalloc(args.shared)
    print(
        f"NHS steps alone (providers, outcomes, links; in-process): {nhs_time:.2f} s, "
        f"tracemalloc peak {nhs_peak:.1f} MB"
    )


if __name__ == "__main__":
    main()
