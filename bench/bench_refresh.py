"""Benchmark: refresh 200 fixture services from the 127.0.0.1 test server with 20 ms added latency.

Prints wall time, requests sent and page bodies downloaded for a first run (empty cache) and a
second run with nothing changed, and the second run's time as a ratio of the first (the baseline
measured in the same process). The second run must download no page bodies: every page is
revalidated with its ETag and answered 304.

    /work/venv/bin/python bench/bench_refresh.py [--services 200] [--latency 0.02]

All "sites" are the one local server, so the per-host politeness interval is set to 0 here; with
the default of one request a second per host, a real run is bounded by the busiest host instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "fixtures" / "refresh")]

import clinic_site  # noqa: E402
from localserver import LocalServer  # noqa: E402

from finder.settings import settings  # noqa: E402
from scrapers.http import Fetcher  # noqa: E402
from scrapers.refresh import RefreshOptions, run_refresh, write_reports  # noqa: E402


def one_run(server, cache: Path, today: str) -> dict:
    fetcher = Fetcher(min_interval=0.0, retries=1, timeout=5.0, cache_path=cache)
    source = clinic_site.ClinicSource(server.url(""))
    bytes_before = server.body_bytes_sent
    started = time.perf_counter()
    options = RefreshOptions(today=today)
    reports = run_refresh([source], fetcher, options)
    write_reports(reports, options)
    (report,) = reports
    elapsed = time.perf_counter() - started
    fetcher.close()
    stats = fetcher.stats()
    return {
        "status": report.status + (f": {report.reason}" if report.reason else ""),
        "seconds": elapsed,
        **stats,
        "body_bytes": server.body_bytes_sent - bytes_before,
        "records": report.changes.after_count if report.changes else 0,
    }


def main() -> int:
    os.environ.setdefault("FINDER_ALLOW_PRIVATE_HOSTS", "1")  # the fixture server is on 127.0.0.1
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every response")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work, LocalServer() as server:
        os.environ["FINDER_DATA_DIR"] = str(Path(work) / "data")
        settings.cache_clear()  # settings are read once per process: read them again
        clinic_site.serve(server, [clinic_site.clinic(n) for n in range(1, args.services + 1)])
        for route in server.routes.values():
            route.delay = args.latency
        cache = Path(work) / "http.sqlite"
        first = one_run(server, cache, "2026-12-01")
        second = one_run(server, cache, "2026-12-08")
    print(f"{args.services} services, {args.latency * 1000:.0f} ms added latency per response")
    print(f"{'run':<28}{'wall s':>8}{'requests':>10}{'bodies':>8}{'304s':>6}{'body bytes':>12}  status")
    for label, run in (("1: first (empty cache)", first), ("2: nothing changed", second)):
        print(
            f"{label:<28}{run['seconds']:>8.2f}{run['requests']:>10}{run['downloads']:>8}"
            f"{run['not_modified']:>6}{run['body_bytes']:>12}  {run['status']} ({run['records']} records)"
        )
    print(f"ratio run 2 / run 1 wall time: {second['seconds'] / first['seconds']:.2f}")
    ok = second["downloads"] == 0 and second["not_modified"] == args.services + 1
    print("second run downloaded no page bodies" if ok else "FAIL: second run downloaded page bodies")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
