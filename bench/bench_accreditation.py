"""Benchmark: the local accreditation check and name matching against a large register.

Generates its own synthetic register of 10,000 entries (random first names and surnames, some
double-barrelled, with titles and post-nominals as registers and people write them), then times:
- 1,000 name matches with finder.names.NameIndex (exact dict hits + rapidfuzz candidate search);
- the same matching done naively, difflib.SequenceMatcher against every entry, measured in the
  same run on a slice of the queries and scaled to 1,000 (the full naive run takes minutes);
- one local check (`finder.cli.live.check_therapist(..., offline=True)`) against 10,000 local IPT records.

Run: /work/venv/bin/python bench/bench_accreditation.py [--entries 10000] [--queries 1000]
"""

from __future__ import annotations

import argparse
import difflib
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from finder.cli import live
from finder.names import NameIndex, fold, parse_name

FIRST = [
    "Jane",
    "John",
    "Priya",
    "Sam",
    "Alex",
    "Maria",
    "Mohammed",
    "Aisha",
    "Tom",
    "Chloe",
    "Oliver",
    "Amelia",
    "Kwame",
    "Siobhan",
    "Zofia",
    "Hiroshi",
    "Fatima",
    "Liam",
    "Grace",
    "Ravi",
    "Eilidh",
    "Noah",
    "Isla",
    "Yusuf",
    "Ffion",
    "Dmitri",
    "Ana",
    "Ciaran",
    "Mei",
    "Olu",
]
SYLLABLES = [
    "smi",
    "th",
    "jon",
    "es",
    "tay",
    "lor",
    "brow",
    "n",
    "wil",
    "son",
    "pat",
    "el",
    "kha",
    "an",
    "o'",
    "bri",
    "en",
    "mac",
    "don",
    "ald",
    "ok",
    "af",
    "or",
    "sha",
    "h",
    "ev",
    "ans",
    "wri",
    "ght",
    "ro",
    "bert",
    "son",
    "hug",
    "hes",
    "gre",
    "en",
    "wal",
    "ker",
    "ed",
    "wards",
]
TITLES = ["", "", "", "Dr ", "Mr ", "Mrs ", "Ms ", "Mx "]
LETTERS = ["", "", "", " MBACP", " MBACP (Accred)", " PhD", " DClinPsy CPsychol", " UKCP Reg"]


def surname(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def synthetic_names(n: int, rng: random.Random) -> list[str]:
    names = []
    for _ in range(n):
        last = surname(rng)
        if rng.random() < 0.12:
            last = f"{last}-{surname(rng)}"
        middle = f" {rng.choice('ABCDEFGHJKLMNPRST')}." if rng.random() < 0.3 else ""
        names.append(f"{rng.choice(TITLES)}{rng.choice(FIRST)}{middle} {last}{rng.choice(LETTERS)}")
    return names


def queries_for(names: list[str], n: int, rng: random.Random) -> list[str]:
    queries = []
    for i in range(n):
        base = rng.choice(names)
        kind = i % 3
        if kind == 0:
            queries.append(base)  # as listed
        elif kind == 1:  # a typo in the surname
            parsed = parse_name(base)
            s = parsed.surname
            j = rng.randrange(len(s))
            queries.append(f"{parsed.first} {s[:j]}{rng.choice('aeiou')}{s[j + 1 :]}")
        else:
            queries.append(f"{rng.choice(FIRST)} {surname(rng)}")  # probably nobody
    return queries


def naive_matches(query: str, folded_names: list[str]) -> list[int]:
    q = fold(query)
    return [
        i for i, name in enumerate(folded_names) if difflib.SequenceMatcher(None, q, name).ratio() >= 0.85
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--naive-sample", type=int, default=25, help="queries timed for the naive baseline")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    names = synthetic_names(args.entries, rng)
    queries = queries_for(names, args.queries, rng)
    parsed_queries = [parse_name(q) for q in queries]

    t0 = time.perf_counter()
    index = NameIndex(names)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = [index.matches(q) for q in parsed_queries]
    indexed = time.perf_counter() - t0
    exact_hits = sum(1 for f in found if any(m.exact for _, m in f))

    folded = [fold(n) for n in names]
    sample = queries[: args.naive_sample]
    t0 = time.perf_counter()
    for q in sample:
        naive_matches(q, folded)
    naive_sample = time.perf_counter() - t0
    naive_scaled = naive_sample / len(sample) * len(queries)

    records = [
        {
            "name": n,
            "ipt_level": "Level B IPT Practitioner",
            "registrations": [],
            "source": "synthetic",
            "last_verified": "2026-11-01",
            "town": "Leeds",
        }
        for n in names
    ]
    times = []
    for q in queries[:20]:
        t0 = time.perf_counter()
        live.check_therapist(q if parse_name(q).first else "Jane Smith", None, offline=True, records=records)
        times.append(time.perf_counter() - t0)

    print(
        f"register: {len(names):,} synthetic entries; queries: {len(queries):,} (1/3 listed, 1/3 typo, 1/3 absent)"
    )
    print(f"index build:                     {build * 1000:8.1f} ms")
    print(
        f"{len(queries):,} matches, NameIndex:       {indexed * 1000:8.1f} ms  ({indexed / len(queries) * 1e6:.0f} µs each;"
        f" {exact_hits} with an exact match)"
    )
    print(
        f"{len(queries):,} matches, naive difflib:   {naive_scaled * 1000:8.1f} ms  (measured on {len(sample)} "
        f"queries: {naive_sample * 1000:.0f} ms, scaled)"
    )
    print(f"speed-up vs naive:               {naive_scaled / indexed:8.1f}x")
    print(
        f"local check (offline, {len(records):,} IPT records): median {statistics.median(times) * 1000:.1f} ms, "
        f"max {max(times) * 1000:.1f} ms over {len(times)} checks"
    )


if __name__ == "__main__":
    main()
