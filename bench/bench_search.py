"""Postcode and search benchmark on the embedded data/ (run: python bench/bench_search.py).

Prints table load time, first search including load, single lookup time, search p50/p95 over
1,000 random English postcodes, peak memory, and the speed-up over a naive baseline measured in
the same run: a Python loop of geopy's geodesic over the same records.
"""

from __future__ import annotations

import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGETS = {
    "first search incl. load (s)": 1.0,
    "single lookup (us)": 20.0,
    "search p50 (ms)": 1.0,
    "peak memory (MB)": 300.0,
}
MIN_SPEEDUP = 100.0


def main() -> int:
    started = time.perf_counter()
    from finder import postcodes, search, store

    t0 = time.perf_counter()
    first = search.search("CV1 1AH", radius_miles=10)
    first_search_s = time.perf_counter() - started
    table_load_s = time.perf_counter() - t0  # import time excluded: tables + records + one search

    tables = postcodes.tables()
    rng = random.Random(7)
    england = [
        i
        for i in rng.sample(range(len(tables)), 20_000)
        if tables.country[i] == 1 and tables.lat_e6[i] != postcodes.MISSING_E6
    ]
    queries = [postcodes.decode_key(int(tables.keys[i])) for i in england[:1000]]

    reps = 20
    t0 = time.perf_counter()
    for _ in range(reps):
        for q in queries:
            postcodes.lookup(q)
    lookup_us = (time.perf_counter() - t0) / (reps * len(queries)) * 1e6

    timings = []
    for q in queries:
        t0 = time.perf_counter()
        search.search(q, radius_miles=10)
        timings.append(time.perf_counter() - t0)
    timings.sort()
    p50_ms = statistics.median(timings) * 1e3
    p95_ms = timings[int(0.95 * len(timings)) - 1] * 1e3

    # Naive baseline: per query, a Python loop of geopy geodesic over the same records.
    from geopy.distance import geodesic

    records = [r for r in search.dataset().records if r["lat"] is not None]
    baseline_queries = queries[:50]
    t0 = time.perf_counter()
    for q in baseline_queries:
        here = postcodes.lookup(q)
        near = []
        for r in records:
            d = geodesic((here.lat, here.lon), (r["lat"], r["lon"])).miles
            if d <= 10:
                near.append((d, r["id"]))
        near.sort()
    baseline_ms = (time.perf_counter() - t0) / len(baseline_queries) * 1e3
    mean_ms = statistics.fmean(timings) * 1e3
    speedup = baseline_ms / mean_ms

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "table load + first search (s)": table_load_s,
        "first search incl. load (s)": first_search_s,
        "single lookup (us)": lookup_us,
        "search p50 (ms)": p50_ms,
        "search p95 (ms)": p95_ms,
        "peak memory (MB)": peak_mb,
    }
    print(
        f"data: {len(tables):,} postcodes, {len(search.dataset().records)} records "
        f"({store.data_dir()}); first query returned {len(first.results)} results"
    )
    ok = True
    for name, value in figures.items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            met = value < target
            ok &= met
            verdict = f"  target < {target:g}: {'met' if met else 'MISSED'}"
        print(f"{name:32s} {value:10.3f}{verdict}")
    print(f"{'baseline geodesic loop (ms/query)':32s} {baseline_ms:10.3f}  over {len(records)} records")
    print(f"{'search mean (ms/query)':32s} {mean_ms:10.3f}")
    met = speedup >= MIN_SPEEDUP
    ok &= met
    print(
        f"{'speed-up vs baseline':32s} {speedup:10.1f}x  target >= {MIN_SPEEDUP:g}x: {'met' if met else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
