"""A search from the command line, from process start to its answer (run: python bench/bench_cli.py).

Runs `python -m finder search QUERY --kind nhs` in fresh processes (imports and data loading
included, as a person typing the command waits for them) for a few queries, and prints the
median and worst wall time against a baseline measured in the same run: a process that only
imports NumPy and pyarrow's Parquet reader, the floor any command reading data/ pays. Also
prints which of pandas, streamlit and the scrapers' HTML parser a search loaded (none should).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ("LS1 4AP", "M33 7XX", "GU51 3HA", "Leeds", "BB1 7DJ")
ROUNDS = 3
TARGET_S = 1.0


def _wall(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    python = sys.executable
    baseline_args = [python, "-c", "import numpy, pyarrow.parquet"]
    searches, baselines = [], []
    for _ in range(ROUNDS):  # interleaved, so both see the same load on a shared machine
        for query in QUERIES:
            searches.append(_wall([python, "-m", "finder", "search", query, "--kind", "nhs"]))
            baselines.append(_wall(baseline_args))
    probe = (
        "import sys, runpy; sys.argv = ['finder', 'search', 'LS1 4AP', '--kind', 'nhs']\n"
        "try:\n    runpy.run_module('finder', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print(','.join(m for m in ('pandas', 'streamlit', 'bs4') if m in sys.modules), file=sys.stderr)"
    )
    loaded = subprocess.run(
        [python, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stderr.strip()
    median, worst = statistics.median(searches), max(searches)
    floor = statistics.median(baselines)
    print(f"command-line search, {len(searches)} runs of {len(QUERIES)} queries")
    met = "met" if median <= TARGET_S else "MISSED"
    print(f"{'median, process start to answer (s)':40s} {median:8.3f}  target <= {TARGET_S:g}: {met}")
    print(f"{'worst (s)':40s} {worst:8.3f}")
    print(
        f"{'baseline: import numpy + pyarrow (s)':40s} {floor:8.3f}  search / baseline {median / floor:.2f}x"
    )
    print(f"{'heavy modules a search loaded':40s} {loaded or 'none'}")
    return 0 if median <= TARGET_S and not loaded else 1


if __name__ == "__main__":
    sys.exit(main())
