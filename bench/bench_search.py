"""Postcode and search benchmark on the embedded data/ (run: python bench/bench_search.py).

Prints table load time, first search including load, single lookup time, search p50/p95 over
1,000 random English postcodes, peak memory, and the speed-up over a naive baseline measured in
the same run: a Python loop of geopy's geodesic over the same records.

The GP surgery finder: first GP search including its load, and name search p50 over 500 real
practice names written as people type them (lower case, without "Surgery"/"The", one in three
with a typo), against a baseline in the same run: rapidfuzz WRatio of the whole query against
every practice name (`process.extract`), the obvious way to do it.
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
    "search p50 (ms)": 0.15,
    "first GP search incl. load (s)": 1.0,
    "GP name search p50 (ms)": 5.0,
    "peak memory (MB)": 320.0,
}
MIN_SPEEDUP = 200.0


def _typed_like_a_person(name: str, rng: random.Random) -> str:
    import re

    text = re.sub(r"(?i)\b(the|surgery)\b", "", name).lower()
    text = " ".join(text.split()) or name.lower()
    if rng.random() < 1 / 3 and len(text) > 6:
        k = rng.randrange(1, len(text) - 1)
        text = text[:k] + text[k + 1 :]  # a letter dropped
    return text


def gp_figures(rng: random.Random) -> tuple[dict, float, int]:
    """GP finder timings, and the baseline (ms per query) and how often each put the practice first."""
    from rapidfuzz import fuzz, process

    from finder import gp

    t0 = time.perf_counter()
    gp.find_practices("Densham Surgery")
    first_gp_s = time.perf_counter() - t0
    table = gp.practices()
    chosen = rng.sample(range(len(table.codes)), 500)
    queries = [(table.codes[i], _typed_like_a_person(table.rows["name"][i], rng)) for i in chosen]
    timings, hits = [], 0
    for code, q in queries:
        t0 = time.perf_counter()
        found = gp.find_practices(q)
        timings.append(time.perf_counter() - t0)
        hits += bool(found) and code in [p.code for p in found]
    names = [n.lower() for n in table.rows["name"]]
    t0 = time.perf_counter()
    baseline_hits = 0
    for code, q in queries[:100]:
        best = process.extract(q, names, scorer=fuzz.WRatio, limit=10)
        baseline_hits += code in [table.codes[i] for _, _, i in best]
    baseline_ms = (time.perf_counter() - t0) / 100 * 1e3
    figures = {
        "first GP search incl. load (s)": first_gp_s,
        "GP name search p50 (ms)": statistics.median(timings) * 1e3,
        "GP name search p95 (ms)": sorted(timings)[int(0.95 * len(timings)) - 1] * 1e3,
        "GP practice listed (%)": 100 * hits / len(queries),
    }
    return figures, baseline_ms, baseline_hits


def _england_queries(rng: random.Random) -> list[str]:
    """1,000 random English postcodes (with coordinates) from the embedded tables."""
    from finder import postcodes

    tables = postcodes.tables()
    england = [
        i
        for i in rng.sample(range(len(tables)), 20_000)
        if tables.country[i] == 1 and tables.lat_e6[i] != postcodes.MISSING_E6
    ]
    return [postcodes.decode_key(int(tables.keys[i])) for i in england[:1000]]


def _lookup_us(queries: list[str], reps: int = 20) -> float:
    from finder import postcodes

    t0 = time.perf_counter()
    for _ in range(reps):
        for q in queries:
            postcodes.lookup(q)
    return (time.perf_counter() - t0) / (reps * len(queries)) * 1e6


def _search_timings(queries: list[str]) -> list[float]:
    """Seconds per 10-mile search, sorted."""
    from finder import search

    timings = []
    for q in queries:
        t0 = time.perf_counter()
        search.search(q, radius_miles=10)
        timings.append(time.perf_counter() - t0)
    timings.sort()
    return timings


def _geodesic_baseline(queries: list[str]) -> tuple[float, int]:
    """Naive baseline: per query, a Python loop of geopy geodesic over the same records.
    Returns the median ms per query and the number of records looped over."""
    from geopy.distance import geodesic

    from finder import postcodes, search

    records = [r for r in search.dataset().records if r["lat"] is not None]
    timings = []
    for q in queries[:50]:
        t0 = time.perf_counter()
        here = postcodes.lookup(q)
        near = []
        for r in records:
            d = geodesic((here.lat, here.lon), (r["lat"], r["lon"])).miles
            if d <= 10:
                near.append((d, r["id"]))
        near.sort()
        timings.append(time.perf_counter() - t0)
    return statistics.median(timings) * 1e3, len(records)


def _print_targets(figures: dict[str, float]) -> bool:
    """Print each figure with its target verdict; whether every target was met."""
    ok = True
    for name, value in figures.items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            met = value <= target
            ok &= met
            verdict = f"  target <= {target:g}: {'met' if met else 'MISSED'}"
        print(f"{name:32s} {value:10.3f}{verdict}")
    return ok


def main() -> int:
    started = time.perf_counter()
    from finder import postcodes, search, store

    # Baseline for memory: the process with the code imported and no data loaded yet.
    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    t0 = time.perf_counter()
    first = search.search("CV1 1AH", radius_miles=10)
    first_search_s = time.perf_counter() - started
    table_load_s = time.perf_counter() - t0  # import time excluded: tables + records + one search

    rng = random.Random(7)
    queries = _england_queries(rng)
    lookup_us = _lookup_us(queries)
    timings = _search_timings(queries)
    baseline_ms, baseline_records = _geodesic_baseline(queries)
    mean_ms = statistics.fmean(timings) * 1e3
    # Medians on both sides: on a shared machine a few searches wait for the CPU, which says
    # nothing about the search itself.
    speedup = baseline_ms / (statistics.median(timings) * 1e3)

    gp, gp_baseline_ms, gp_baseline_hits = gp_figures(rng)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "table load + first search (s)": table_load_s,
        "first search incl. load (s)": first_search_s,
        "single lookup (us)": lookup_us,
        "search p50 (ms)": statistics.median(timings) * 1e3,
        "search p95 (ms)": timings[int(0.95 * len(timings)) - 1] * 1e3,
        **gp,
        "peak memory (MB)": peak_mb,
    }
    print(
        f"data: {len(postcodes.tables()):,} postcodes, {len(search.dataset().records)} records "
        f"({store.data_dir()}); first query returned {len(first.results)} results"
    )
    ok = _print_targets(figures)
    print(f"{'baseline geodesic loop p50 (ms)':32s} {baseline_ms:10.3f}  over {baseline_records} records")
    print(f"{'search mean (ms/query)':32s} {mean_ms:10.3f}")
    print(
        f"{'baseline GP WRatio extract (ms)':32s} {gp_baseline_ms:10.3f}  practice in its top 10 for "
        f"{gp_baseline_hits}% of the same queries"
    )
    print(f"{'memory before loading data (MB)':32s} {base_mb:10.3f}  (baseline for peak memory)")
    met = speedup >= MIN_SPEEDUP
    ok &= met
    print(
        f"{'speed-up vs baseline (p50s)':32s} {speedup:10.1f}x  target >= {MIN_SPEEDUP:g}x: {'met' if met else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
