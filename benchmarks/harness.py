"""Shared benchmark harness: documents, query sets, timing, and the per-phase worker.

Every engine is an *adapter* module (``peer_*.py``) with ``build``, ``open`` and ``query``.
Each phase of each engine (index, re-run, query) runs in a fresh interpreter::

    python benchmarks/harness.py --engine fts5 --phase index --corpus DIR --index DIR

which imports only that engine, does the work, and prints one JSON object whose
``peak_rss_mb`` is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of that process.

All peers read the same files through :func:`iter_documents`, which parses them with
``searchlib.documents.parse_file`` (so parsing costs the same everywhere) and yields the same
document set searchlib indexes: one document per article (title, excerpt, related titles) and
one per distinct related item, which inherits the topics of the articles listing it.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import math
import os
import random
import re
import resource
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

#: Engine name -> adapter module (imported lazily, so a worker loads only its engine).
ADAPTERS = {
    "fts5": "peer_fts5",
    "tantivy": "peer_tantivy",
    "whoosh": "peer_whoosh",
    "searchlib": "peer_searchlib",
    "tantivy-backend": "peer_searchlib_tantivy",
}
CATEGORIES = ("single", "two", "phrase", "facets", "long-nofeedback", "long")
#: Long queries: the words of one title, at least this many (more than searchlib's
#: ``SHORT_QUERY_WORDS``, so that its default ranks them by any word, with feedback).
LONG_WORDS = 4
#: Categories only engines with pseudo-relevance feedback answer (``Adapter.feedback``):
#: searchlib's long queries without feedback, for its cost within one run. They run first,
#: so that each way pays for the words it reads first (the typed words, the added ones).
FEEDBACK_ONLY = ("long-nofeedback",)
SOURCE_SUFFIXES = (".md", ".markdown", ".txt")
#: Weights every engine gives its text fields (searchlib's FIELD_WEIGHTS (searchlib.schema)).
BOOSTS = {"title": 3.0, "excerpt": 1.0, "related": 0.3}
PAGE = 10
FACET_SIZE = 10


# -- documents ----------------------------------------------------------------------------------


@dataclass
class Doc:
    """One document as every peer indexes it."""

    id: str
    kind: str
    title: str
    excerpt: str
    related: str
    provider: str
    topics: tuple[str, ...]
    published: datetime | None
    quality: int | None
    url: str


def source_files(folder: Path) -> list[Path]:
    """The article files under ``folder``, in a stable order (hidden entries skipped)."""
    files = [
        p for p in folder.rglob("*")
        if p.suffix.lower() in SOURCE_SUFFIXES and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted(files)


def iter_documents(folder: Path, stats: dict[str, int] | None = None) -> Iterator[Doc]:
    """Parse every file once and yield articles as they come, then the distinct related items."""
    from searchlib.documents import parse_file
    from searchlib.errors import DocumentError

    counts = stats if stats is not None else {}
    counts.update(files=0, failed=0, documents=0)
    articles: set[str] = set()
    related: dict[str, tuple[Any, dict[str, None]]] = {}
    for path in source_files(folder):
        counts["files"] += 1
        try:
            article = parse_file(path)
        except DocumentError:
            counts["failed"] += 1
            continue
        for item in article.related:
            _, topics = related.setdefault(item.id, (item, {}))
            topics.update(dict.fromkeys(article.topics))
        if article.id in articles:
            continue  # the same URL in two files is one document
        articles.add(article.id)
        counts["documents"] += 1
        yield Doc(
            id=article.id, kind="article", title=article.title, excerpt=article.excerpt,
            related="\n".join(r.title for r in article.related), provider=article.provider,
            topics=article.topics, published=article.published, quality=article.quality,
            url=article.url,
        )
    for rid, (item, topics) in related.items():
        if rid in articles:
            continue  # a related URL that is also an article is that article
        counts["documents"] += 1
        yield Doc(
            id=rid, kind="related", title=item.title, excerpt=item.excerpt, related="",
            provider=item.provider, topics=tuple(topics), published=item.published,
            quality=item.quality, url=item.url,
        )


# -- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One benchmark query: words (a phrase for ``phrase``; any of them for ``long`` and
    ``long-nofeedback``, which engines rank by how many they hold), and filters for
    ``facets``."""

    category: str
    words: tuple[str, ...]
    topic: str | None = None
    provider: str | None = None

    @property
    def phrase(self) -> bool:
        return self.category == "phrase"

    @property
    def any_word(self) -> bool:
        """Whether documents with any of the words match (long queries)."""
        return self.category.startswith("long")

    def text(self) -> str:
        """The query in searchlib's (and most engines') syntax."""
        joined = " ".join(self.words)
        return f'"{joined}"' if self.phrase else joined


@dataclass
class Outcome:
    """What a query returned: the total, the page of ids, and facet counts (if asked)."""

    total: int
    ids: list[str]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


_PLAIN = re.compile(r"[a-z]{3,}")


def make_queries(folder: Path, per_category: int, seed: int) -> list[Query]:
    """A fixed, seeded query set drawn from the titles of (a sample of) the corpus.

    Words are plain ASCII words of three letters or more that are no stopword, so every
    engine's tokenizer sees the same word; two-word queries and phrases come from one title
    (a phrase from adjacent words), so they match something; facet queries add one topic and
    the provider of the article the word came from; a long query is every usable word of a
    title with at least :data:`LONG_WORDS` of them (natural questions on the real corpus,
    word salad on a generated one), asked twice: ``long-nofeedback``, then ``long``.
    """
    from searchlib.analysis import stopwords
    from searchlib.documents import parse_file
    from searchlib.errors import DocumentError

    stops = stopwords("english")
    rng = random.Random(seed)
    files = source_files(folder)
    sample = rng.sample(files, min(len(files), 4000))
    titles: list[tuple[list[str | None], tuple[str, ...], str]] = []
    for path in sample:
        try:
            article = parse_file(path)
        except DocumentError:
            continue
        words: list[str | None] = []
        for raw in article.title.split():
            word = raw.lower()
            words.append(word if _PLAIN.fullmatch(word) and word not in stops else None)
        if any(words) and article.topics and article.provider:
            titles.append((words, article.topics, article.provider))
    if not titles:
        raise SystemExit(f"no usable titles in {folder}")

    def pick(category: str) -> Query:
        while True:
            words, topics, provider = rng.choice(titles)
            usable = [w for w in words if w]
            if category in ("single", "facets"):
                word = rng.choice(usable)
                if category == "single":
                    return Query("single", (word,))
                return Query("facets", (word,), rng.choice(topics), provider)
            if category == "two" and len(set(usable)) >= 2:
                return Query("two", tuple(rng.sample(sorted(set(usable)), 2)))
            if category == "long" and len(set(usable)) >= LONG_WORDS:
                return Query("long", tuple(dict.fromkeys(usable)))
            pairs = [(a, b) for a, b in itertools.pairwise(words) if a and b and a != b]
            if category == "phrase" and pairs:
                return Query("phrase", rng.choice(pairs))

    picked = [
        pick(category) for category in CATEGORIES if category not in FEEDBACK_ONLY
        for _ in range(per_category)
    ]
    longs = [q for q in picked if q.category == "long"]
    return [
        *(q for q in picked if q.category != "long"),
        *(Query("long-nofeedback", q.words) for q in longs),
        *longs,
    ]


def save_queries(queries: list[Query], path: Path) -> None:
    path.write_text("\n".join(json.dumps(asdict(q)) for q in queries) + "\n", encoding="utf-8")


def load_queries(path: Path) -> list[Query]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        out.append(Query(data["category"], tuple(data["words"]), data["topic"], data["provider"]))
    return out


# -- measuring ----------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of ``values`` (which need not be sorted)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def summarize(latencies_ms: list[float], totals: list[int]) -> dict[str, float]:
    return {
        "n": len(latencies_ms),
        "p50_ms": round(percentile(latencies_ms, 50), 3),
        "p95_ms": round(percentile(latencies_ms, 95), 3),
        "p99_ms": round(percentile(latencies_ms, 99), 3),
        "mean_ms": round(sum(latencies_ms) / len(latencies_ms), 3),
        "mean_total": round(sum(totals) / len(totals), 1),
    }


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def peak_workers_rss_mb() -> float:
    """Peak resident set size of the largest of this process's children that have ended (an
    engine's worker processes: searchlib's parse workers end with their indexing run)."""
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def dir_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


class Adapter(Protocol):
    """What an engine module provides."""

    def build(self, corpus: Path, index: Path) -> dict[str, Any]: ...

    def open(self, index: Path) -> None: ...

    def query(self, query: Query) -> Outcome: ...

    def close(self) -> None: ...


# -- the worker ---------------------------------------------------------------------------------


def run_phase(
    engine: str, phase: str, corpus: Path, index: Path, queries: Path | None
) -> dict[str, Any]:
    started = time.perf_counter()
    module = importlib.import_module(ADAPTERS[engine])
    adapter: Adapter = module.Adapter()
    result: dict[str, Any] = {
        "engine": engine, "phase": phase,
        "import_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if phase in ("index", "rerun"):
        if phase == "index" and index.exists() and any(index.iterdir()):
            raise SystemExit(f"{index} is not empty")
        index.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        info = adapter.build(corpus, index)
        seconds = time.perf_counter() - t0
        adapter.close()
        files = int(info.get("files", 0))
        result.update(info)
        result.update(
            seconds=round(seconds, 3),
            docs_per_s=round(files / seconds, 1) if seconds else 0.0,
            index_bytes=dir_bytes(index),
        )
    elif phase == "query":
        assert queries is not None
        qs = load_queries(queries)
        t0 = time.perf_counter()
        adapter.open(index)
        adapter.query(qs[0])
        result["open_first_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        per: dict[str, tuple[list[float], list[int]]] = {c: ([], []) for c in CATEGORIES}
        for q in qs:
            if q.category in FEEDBACK_ONLY and not getattr(adapter, "feedback", False):
                continue
            t = time.perf_counter()
            outcome = adapter.query(q)
            elapsed = (time.perf_counter() - t) * 1000
            per[q.category][0].append(elapsed)
            per[q.category][1].append(outcome.total)
        adapter.close()
        result["categories"] = {c: summarize(*per[c]) for c in CATEGORIES if per[c][0]}
    else:
        raise SystemExit(f"unknown phase {phase!r}")
    result["peak_rss_mb"] = peak_rss_mb()
    result["peak_workers_rss_mb"] = peak_workers_rss_mb()
    return result


def write_queries(corpus: Path, out: Path, per_category: int, seed: int) -> dict[str, Any]:
    """Draw the query set into ``out``; describe the corpus (files, bytes)."""
    save_queries(make_queries(corpus, per_category, seed), out)
    files = source_files(corpus)
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run one phase of one engine (a worker), or draw the query set."
    )
    parser.add_argument("--engine", choices=sorted(ADAPTERS))
    parser.add_argument("--phase", choices=("index", "rerun", "query", "queries"), required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index", type=Path, help="index folder (not for 'queries')")
    parser.add_argument("--queries", type=Path, required=True, help="query set file")
    parser.add_argument("--per-category", type=int, default=200, help="for 'queries'")
    parser.add_argument("--seed", type=int, default=1, help="for 'queries'")
    args = parser.parse_args(argv)
    if args.phase == "queries":
        result = write_queries(args.corpus, args.queries, args.per_category, args.seed)
    elif args.engine is None or args.index is None:
        parser.error("--engine and --index are required for this phase")
    else:
        result = run_phase(args.engine, args.phase, args.corpus, args.index, args.queries)
    print(json.dumps(result), flush=True)
    return 0


def child_env() -> dict[str, str]:
    """The environment for worker processes: unbuffered, no bytecode writes into the repo."""
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


if __name__ == "__main__":
    sys.exit(main())
