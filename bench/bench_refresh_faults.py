"""Benchmark: `python -m finder refresh` with its real defaults against a 127.0.0.1 server that
answers every request 500, on a temporary copy of data/. Prints each source's line, the wall time
against the --deadline, and whether data/ stayed byte-identical.

    python bench/bench_refresh_faults.py [--robots-ok] [--deadline 540]

--robots-ok answers robots.txt 404 (crawling allowed), so every page is asked for and fails with
retries, the circuit breaker and the deadlines doing the stopping; without it robots.txt also
answers 500 and each host is closed for the run at once (RFC 9309).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from localserver import LocalServer, Route  # noqa: E402


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--robots-ok", action="store_true")
    parser.add_argument("--deadline", type=float, default=None, help="default: the command's own")
    args = parser.parse_args()
    os.environ["FINDER_ALLOW_PRIVATE_HOSTS"] = "1"  # the failing server is on 127.0.0.1
    from helpers import RedirectAll  # tests/helpers.py: test and benchmark code only

    from finder import cli
    from finder.cli.commands import refresh as command
    from scrapers.refresh import DEFAULT_DEADLINE

    with tempfile.TemporaryDirectory() as work, LocalServer() as server:
        data = Path(work) / "data"
        shutil.copytree(ROOT / "data", data)
        os.environ["FINDER_DATA_DIR"] = str(data)
        server.fallback = Route(status=500, body="down")
        if args.robots_ok:
            server.route("/robots.txt", status=404)
        production = command.make_fetcher
        command.make_fetcher = lambda a: RedirectAll(production(a), server.url(""))
        before = snapshot(data)
        argv = ["refresh", "--no-cache"] + (["--deadline", str(args.deadline)] if args.deadline else [])
        started = time.perf_counter()
        code = cli.main(argv)
        elapsed = time.perf_counter() - started
        same = snapshot(data) == before
        requests = sum(server.hits.values())
    deadline = args.deadline or DEFAULT_DEADLINE
    print(f"exit {code}; {elapsed:.1f} s wall (deadline {deadline:g} s); {requests} requests served")
    print("data/ byte-identical" if same else "FAIL: data/ changed")
    return 0 if same and code == 1 and elapsed < deadline + 30 else 1


if __name__ == "__main__":
    raise SystemExit(main())
