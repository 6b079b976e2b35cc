"""How alike the tantivy and the Whoosh backends rank: top-10 overlap on one corpus.

    python benchmarks/overlap.py                                # the real corpus
    python benchmarks/overlap.py --corpus DIR --queries 50      # any folder

Indexes the corpus with both engines (``Engine(path, backend=...)``, in a temporary folder
unless ``--work`` names one to keep), then runs every query through ``Engine.search`` on each:
the benchmark's query set drawn from the corpus (``harness.make_queries``: single words, two
words, phrases, and words with a topic or provider filter) plus the queries of the cross-engine
pipeline test. For each query it prints how many of the Whoosh backend's first 10 hits the
tantivy backend also ranks in its first 10, and for every query under 8/10, where each engine
ranks the documents the other leaves out (and their scores), which is what explains them.
Without pseudo-relevance feedback the totals must agree exactly (both engines match the same
documents); with it (long queries), each engine adds words from its own best documents, so the
words added, and then the totals, may differ: such queries are marked.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness import make_queries

from searchlib import Engine

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpora" / "coronavirus-news"
TOP = 10
#: Further down than this, a document counts as "not found" in the other engine's ranking.
DEPTH = 100
#: The free-text queries of ``tests/backends/test_pipeline.py`` (those that rank: not empty).
PIPELINE_QUERIES = [
    "facial recognition", '"facial recognition"', "heatwave OR drought", "mars -drill",
    "lander", "recog*", "lander~", "title:heatwave", "heatwave zebra", "covid-19", "人脸识别",
    "(mars OR moon) lander", "court ruling on police cameras and face matching",
]


def build(work: Path, corpus: Path, backend: str) -> Engine:
    engine = Engine(work / backend, backend=backend)
    report = engine.index([corpus])
    print(f"{backend}: {report.documents} documents", file=sys.stderr)
    return engine


def ranking(engine: Engine, text: str, filters: dict[str, Any]
            ) -> tuple[int, list[str], dict[str, float], tuple[str, ...]]:
    results = engine.search(text, limit=DEPTH, **filters)
    return results.total, [hit.id for hit in results.hits], {
        hit.id: float(hit.score or 0.0) for hit in results.hits
    }, tuple(results.feedback)


def compare(whoosh: Engine, tantivy: Engine, text: str, filters: dict[str, Any]
            ) -> dict[str, Any]:
    w_total, w_ids, w_scores, w_feedback = ranking(whoosh, text, filters)
    t_total, t_ids, t_scores, t_feedback = ranking(tantivy, text, filters)
    # Feedback (long queries) adds words from each engine's own best documents: when the
    # words differ, so may the matches. Without it, the totals must be equal.
    plain = {**filters, "feedback": "off"}
    if whoosh.search(text, limit=0, **plain).total != tantivy.search(text, limit=0, **plain).total:
        raise SystemExit(f"{text!r} {filters}: totals differ")
    w_top, t_top = w_ids[:TOP], t_ids[:TOP]
    shown = min(TOP, w_total)
    row: dict[str, Any] = {
        "query": text, "filters": filters, "total": w_total,
        "overlap": len(set(w_top) & set(t_top)), "of": shown,
    }
    if w_feedback != t_feedback:
        row["tantivy_total"] = t_total
        row["feedback_only_whoosh"] = sorted(set(w_feedback) - set(t_feedback))
        row["feedback_only_tantivy"] = sorted(set(t_feedback) - set(w_feedback))
    if row["overlap"] < min(8, shown):
        def where(doc: str, ids: list[str]) -> str:
            return str(ids.index(doc) + 1) if doc in ids else f">{DEPTH}"

        row["only_whoosh"] = [
            {"id": d, "whoosh_rank": w_top.index(d) + 1, "tantivy_rank": where(d, t_ids),
             "whoosh_score": round(w_scores[d], 3)}
            for d in w_top if d not in t_top
        ]
        row["only_tantivy"] = [
            {"id": d, "tantivy_rank": t_top.index(d) + 1, "whoosh_rank": where(d, w_ids),
             "tantivy_score": round(t_scores[d], 3)}
            for d in t_top if d not in w_top
        ]
        # How close the cut-off is: the 10th and 11th scores of each engine.
        row["whoosh_cutoff"] = [round(w_scores[d], 3) for d in w_ids[TOP - 1 : TOP + 1]]
        row["tantivy_cutoff"] = [round(t_scores[d], 3) for d in t_ids[TOP - 1 : TOP + 1]]
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--queries", type=int, default=25, help="drawn queries per category")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, help="keep both indexes in this folder")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"no such folder: {args.corpus}")
    with tempfile.TemporaryDirectory() as temporary:
        work = args.work or Path(temporary)
        whoosh, tantivy = build(work, args.corpus, "whoosh"), build(work, args.corpus, "tantivy")
        cases: list[tuple[str, dict[str, Any]]] = []
        for query in make_queries(args.corpus, args.queries, args.seed):
            filters: dict[str, Any] = {}
            if query.topic:
                filters["topics"] = [query.topic]
            if query.provider:
                filters["providers"] = [query.provider]
            cases.append((query.text(), filters))
        cases += [(text, {}) for text in PIPELINE_QUERIES]
        rows = [compare(whoosh, tantivy, text, filters) for text, filters in cases]
        whoosh.close()
        tantivy.close()
    ranked = [row for row in rows if row["of"] > 0]
    full = [row for row in ranked if row["of"] == TOP]
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    mean = sum(row["overlap"] for row in full) / len(full) if full else float("nan")
    below = [row for row in ranked if row["overlap"] < min(8, row["of"])]
    print(json.dumps({
        "queries": len(rows), "with_hits": len(ranked), "with_10_hits": len(full),
        "mean_overlap_of_10": round(mean, 2),
        "at_least_8_of_10": sum(1 for row in full if row["overlap"] >= 8),
        "below_8": len(below),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
