"""Freshness on a real corpus without judgments: how old are the top 10, with and without it?

The judged collections say whether freshness costs relevance; this says what it does to an
archive's results: for common queries, the age of each top-10 hit counted from the newest
document of the index (hours), without freshness and with ``freshness=D`` from the newest
document, and how many of the top 10 stay in it. Read-only; it searches an existing index.

Usage::

    python benchmarks/freshness_ages.py --index index            # the default queries
    python benchmarks/freshness_ages.py --index index --durations 12h,1d,7d --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

#: Common subjects of the coronavirus-news corpus (May 2020), one to three words each.
QUERIES = (
    "coronavirus", "vaccine", "trump", "lockdown", "unemployment", "masks", "testing",
    "schools reopen", "economy", "china", "nursing homes", "stock market",
)


def ages(engine: Any, text: str, anchor: Any, **options: Any) -> tuple[list[float], list[str]]:
    """Hours from ``anchor`` to each top-10 hit's date (undated left out), and their ids."""
    results = engine.search(text, limit=10, **options)
    hours = [
        (anchor - hit.published).total_seconds() / 3600
        for hit in results.hits if hit.published is not None
    ]
    return hours, [hit.id for hit in results.hits]


def main(argv: list[str] | None = None) -> int:
    from searchlib import Engine

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=Path("index"))
    parser.add_argument("--durations", default="12h,1d,7d")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    durations = [d.strip() for d in args.durations.split(",") if d.strip()]
    rows: list[dict[str, Any]] = []
    with Engine(args.index, create=False) as engine:
        newest = engine.search("", sort="newest", limit=1).hits[0].published
        for text in QUERIES:
            base, base_ids = ages(engine, text, newest)
            row: dict[str, Any] = {
                "query": text, "total": engine.search(text, limit=0).total,
                "off": round(statistics.median(base), 1) if base else None,
            }
            for duration in durations:
                hours, ids = ages(engine, text, newest, freshness=duration,
                                  freshness_from="newest")
                row[duration] = round(statistics.median(hours), 1) if hours else None
                row[f"{duration} kept"] = len(set(ids) & set(base_ids))
            rows.append(row)
    header = ["query", "matches", "median age, off", *(f"with {d}" for d in durations),
              *(f"top 10 kept, {d}" for d in durations)]
    print(f"Newest document: {newest:%Y-%m-%d %H:%M} UTC; ages in hours from it.\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        cells = [row["query"], f"{row['total']:,}", str(row["off"]),
                 *(str(row[d]) for d in durations), *(str(row[f"{d} kept"]) for d in durations)]
        print("| " + " | ".join(cells) + " |")
    medians = {
        key: round(statistics.median(r[key] for r in rows if r[key] is not None), 1)
        for key in ("off", *durations)
    }
    kept = {d: round(statistics.fmean(r[f"{d} kept"] for r in rows), 1) for d in durations}
    print(f"\nMedian of the medians: off {medians['off']} h; "
          + "; ".join(f"{d} {medians[d]} h (top 10 kept: {kept[d]})" for d in durations))
    if args.json:
        args.json.write_text(json.dumps({"newest": newest.isoformat(), "rows": rows,
                                         "medians": medians, "kept": kept}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
