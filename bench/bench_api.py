"""Open Referral UK API benchmark (run: python bench/bench_api.py [--requests N]).

Starts `python -m finder api` on 127.0.0.1 and, as the same-run baseline, the same server
(uvicorn) serving the very same JSON answers as static files (Starlette's StaticFiles), each in
its own process. One client asks each in turn, one request at a time, and prints requests a
second and p50/p95 for:

- GET /services/{id}: one fully nested service;
- GET /service_at_locations?postcode=...: who covers a postcode, in the finder's order (a
  different real postcode each request, from a fixed list, after one warm-up each).

Target: the postcode query's p50 within 3 times the static file's p50.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
POSTCODES = ("LS6 3QG", "M1 3NJ", "SW1A 1AA", "B1 1AA", "NE28 7PD", "WD17 3PH", "DA1 2EP", "BS1 5TR")
TARGET_RATIO = 3.0
STATIC_APP = """
import sys, uvicorn
from starlette.staticfiles import StaticFiles
uvicorn.run(StaticFiles(directory=sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]),
            access_log=False, log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(command: list[str], port: int) -> subprocess.Popen:
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=2)
            return server
        except requests.ConnectionError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"server on port {port} did not start")


def _measure(session: requests.Session, urls: list[str]) -> tuple[float, float, float]:
    """(requests a second, p50 ms, p95 ms) over `urls`, asked one after another."""
    times = []
    start = time.perf_counter()
    for url in urls:
        began = time.perf_counter()
        answer = session.get(url, timeout=30)
        times.append((time.perf_counter() - began) * 1000)
        answer.raise_for_status()
    total = time.perf_counter() - start
    cuts = statistics.quantiles(times, n=20)
    return len(urls) / total, statistics.median(times), cuts[18]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per measurement (default 400)")
    args = parser.parse_args()
    api_port, static_port = _free_port(), _free_port()
    api = _start([sys.executable, "-m", "finder", "api", "--port", str(api_port)], api_port)
    static_dir = tempfile.mkdtemp(prefix="oruk-static-")
    static = None
    try:
        session = requests.Session()
        base = f"http://127.0.0.1:{api_port}"
        first = session.get(base + "/services", params={"per_page": 1}, timeout=30).json()["contents"][0][
            "id"
        ]
        service_path = f"/services/{first}"
        postcode_urls = [f"{base}/service_at_locations?postcode={p}" for p in POSTCODES]
        for url in postcode_urls:  # warm-up: the postcode tables load once
            session.get(url, timeout=60).raise_for_status()
        # The baseline serves exactly the API's answers as files.
        Path(static_dir, "service.json").write_bytes(session.get(base + service_path, timeout=30).content)
        Path(static_dir, "postcode.json").write_bytes(session.get(postcode_urls[0], timeout=30).content)
        static = _start([sys.executable, "-c", STATIC_APP, static_dir, str(static_port)], static_port)
        static_base = f"http://127.0.0.1:{static_port}"
        n = args.requests
        rows = {
            "API /services/{id}": _measure(session, [base + service_path] * n),
            "static service.json": _measure(session, [static_base + "/service.json"] * n),
            "API /service_at_locations?postcode": _measure(
                session, [postcode_urls[i % len(postcode_urls)] for i in range(n)]
            ),
            "static postcode.json": _measure(session, [static_base + "/postcode.json"] * n),
        }
    finally:
        for server in (api, static):
            if server is not None:
                server.terminate()
                server.wait(timeout=10)
        for name in os.listdir(static_dir):
            os.unlink(os.path.join(static_dir, name))
        os.rmdir(static_dir)
    print(f"{'':40} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, (rate, p50, p95) in rows.items():
        print(f"{name:40} {rate:8.0f} {p50:8.2f} {p95:8.2f}")
    ratio = rows["API /service_at_locations?postcode"][1] / rows["static postcode.json"][1]
    service_ratio = rows["API /services/{id}"][1] / rows["static service.json"][1]
    print(f"/services/{{id}} p50 / static p50: {service_ratio:.2f}x")
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"postcode p50 / static p50: {ratio:.2f}x (target at most {TARGET_RATIO:g}x: {verdict})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
