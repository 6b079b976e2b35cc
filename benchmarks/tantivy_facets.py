"""What facet counts cost raw tantivy: its benchmarked queries with and without them.

searchlib returns the topic, provider and kind counts of the matching set with every result;
the raw tantivy peer of ``run.py`` counts facets only for its ``facets`` queries. This runs the
peer's own single-word and phrase queries on its own index (kept by ``run.py
--keep-indexes``), as ``run.py`` times them, then the same queries followed by one terms
aggregation of ``topic`` and ``provider`` over the query's matches (tantivy's own way to count
them; the kind facet left out, which only lowers the figure). Those counts are a floor under
any backend that returns them, whatever the rest of its work costs. Prints one JSON object and
a short table; states the machine and commit.

    python benchmarks/run.py --docs 100000 --engines tantivy --keep-indexes
    python benchmarks/tantivy_facets.py --index benchmarks/out/work/100000/tantivy \\
        --queries benchmarks/out/work/100000/queries.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import BOOSTS, FACET_SIZE, Query, load_queries
from peer_tantivy import TEXT_FIELDS, Adapter

CATEGORIES = ("single", "phrase")


def counted(adapter: Adapter) -> Callable[[Query], object]:
    """The peer's query, then the topic and provider counts of its matches."""
    assert adapter.index is not None and adapter.searcher is not None
    index, searcher = adapter.index, adapter.searcher
    aggregations = {
        name: {"terms": {"field": name, "size": FACET_SIZE}} for name in ("topic", "provider")
    }

    def run(query: Query) -> object:
        outcome = adapter.query(query)
        text = index.parse_query(
            query.text(), TEXT_FIELDS, field_boosts=BOOSTS,
            conjunction_by_default=not query.any_word,
        )
        searcher.aggregate(text, aggregations)
        return outcome

    return run


def p50_ms(run: Callable[[Query], object], queries: list[Query], rounds: int) -> float:
    """Median latency over ``rounds`` passes, after one untimed pass."""
    for query in queries:
        run(query)
    times = []
    for _ in range(rounds):
        for query in queries:
            started = time.perf_counter()
            run(query)
            times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3)


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
            check=True, cwd=Path(__file__).parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="raw tantivy's index")
    parser.add_argument("--queries", type=Path, required=True, help="run.py's query set")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes [3]")
    args = parser.parse_args()
    adapter = Adapter()
    adapter.open(args.index)
    queries = load_queries(args.queries)
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}",
        "commit": commit(), "index": args.index.name, "categories": {},
    }
    with_counts = counted(adapter)
    for category in CATEGORIES:
        chosen = [query for query in queries if query.category == category]
        plain, faceted = p50_ms(adapter.query, chosen, args.rounds), p50_ms(
            with_counts, chosen, args.rounds
        )
        result["categories"][category] = {
            "queries": len(chosen), "p50_ms": plain, "with_facets_p50_ms": faceted,
            "ratio": round(faceted / plain, 2),
        }
    adapter.close()
    print(json.dumps(result, indent=2))
    print()
    print("| query | raw tantivy p50, ms | with topic and provider counts, ms | ratio |")
    print("|---|---|---|---|")
    for category, row in result["categories"].items():
        print(f"| {category} | {row['p50_ms']} | {row['with_facets_p50_ms']} | "
              f"{row['ratio']}× |")


if __name__ == "__main__":
    main()
