"""Type-ahead latency: ``Engine.suggest`` on a warm engine over realistic prefixes.

The prefixes are what a user types on the way to a title word or phrase of the index (drawn
by how often titles hold them, cut at a random length of 1-14 characters), so common short
prefixes come up as often as they would. Prints JSON lines: the cost of the first call (which
builds the completion tables), then p50/p95/max over the timed calls.

    python benchmarks/suggest.py --index index --prefixes 400
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from searchlib import Engine
from searchlib.records import completion_terms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="index", help="an index folder [index]")
    parser.add_argument("--prefixes", type=int, default=400, help="timed prefixes [400]")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with Engine(args.index, create=False) as engine:
        started = time.perf_counter()
        engine.suggest("co")
        first_ms = (time.perf_counter() - started) * 1000
        pool = [
            term for record in engine.backend.records()
            for term in completion_terms(record.title, engine.language)
        ]
        prefixes = []
        for _ in range(args.prefixes):
            target = rng.choice(pool)
            prefixes.append(target[: rng.randint(1, min(len(target), 14))])
        for prefix in prefixes[:50]:  # warm-up, untimed
            engine.suggest(prefix)
        times = []
        for prefix in prefixes:
            started = time.perf_counter()
            engine.suggest(prefix)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(json.dumps({"phase": "first_call", "ms": round(first_ms, 1)}))
    print(json.dumps({
        "phase": "suggest", "prefixes": len(times), "p50_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(len(times) * 0.95)], 3), "max_ms": round(times[-1], 3),
    }))


if __name__ == "__main__":
    main()
