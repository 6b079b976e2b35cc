"""Soak: searching threads and a writing process on one index, for a bounded time.

    python benchmarks/soak.py --seconds 60 --threads 4 --docs 2000
    python benchmarks/soak.py --seconds 60 --backend tantivy

One ``Engine`` is shared by N threads that search without pause while a separate process keeps
re-indexing a changing corpus (add, update, delete) into the same index. Reports queries served,
errors (must be 0), latency percentiles, commits seen, and file descriptors before and after.
Prints one JSON object and a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from searchlib import Engine

QUERIES = ["storm", "grid vaccine", '"solar storm"', "orbit OR launch", "market -vote", "heat*"]
WORDS = [
    "storm", "grid", "vaccine", "orbit", "budget", "ballot", "river", "solar", "clinic", "launch",
    "tariff", "vote", "heat",
]

_WRITER = """
import random, sys, time
from pathlib import Path
from searchlib import Engine
corpus, index, seconds = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
words = sys.argv[4].split(",")
rng = random.Random(1)
deadline = time.monotonic() + seconds
runs = 0
with Engine(index, lock_timeout=30) as engine:
    while time.monotonic() < deadline:
        for _ in range(50):
            n = rng.randrange(int(sys.argv[5]))
            path = corpus / f"{n:05d}.md"
            if rng.random() < 0.2 and path.exists():
                path.unlink()
            else:
                path.write_text(
                    f"---\\ntitle: Story {n} {rng.choice(words)}\\n"
                    f"excerpt: {' '.join(rng.choice(words) for _ in range(10))}\\n"
                    f"webUrl: https://soak.example/{n}\\ntopics: [T{n % 5}]\\n---\\n",
                    encoding="utf-8",
                )
        engine.index([corpus], batch_files=100)
        runs += 1
print(runs)
"""


def write_corpus(folder: Path, docs: int) -> None:
    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(docs):
        (folder / f"{n:05d}.md").write_text(
            f"---\ntitle: Story {n} {rng.choice(WORDS)}\n"
            f"excerpt: {' '.join(rng.choice(WORDS) for _ in range(10))}\n"
            f"webUrl: https://soak.example/{n}\ntopics: [T{n % 5}]\n---\n",
            encoding="utf-8",
        )


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--backend", default=None,
                        help="engine of the index (whoosh, the default, or tantivy)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
        write_corpus(corpus, args.docs)
        with Engine(index, backend=args.backend) as engine:  # the writer finds it recorded
            engine.index([corpus])
        engine = Engine(index)
        fds_before = open_fds()
        latencies: list[float] = []
        errors: list[str] = []
        generations: set[int] = set()
        lock = threading.Lock()
        stop = threading.Event()

        def searcher(seed: int) -> None:
            rng = random.Random(seed)
            while not stop.is_set():
                text = rng.choice(QUERIES)
                started = time.perf_counter()
                try:
                    results = engine.search(text, topics=rng.choice([[], ["T1"], ["T1", "T2"]]))
                    kinds = sum(v.count for v in results.facets["kind"].values)
                    if kinds != results.total:
                        raise AssertionError(f"facets {kinds} != total {results.total}")
                except Exception as exc:  # every error is counted and reported
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    generations.add(engine.backend.generation())

        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(corpus), str(index), str(args.seconds),
             ",".join(WORDS), str(args.docs)],
            stdout=subprocess.PIPE, text=True,
        )
        threads = [threading.Thread(target=searcher, args=(i,)) for i in range(args.threads)]
        for thread in threads:
            thread.start()
        out, _ = writer.communicate(timeout=args.seconds + 120)
        stop.set()
        for thread in threads:
            thread.join()
        fds_after = open_fds()
        engine.close()

    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    report: dict[str, Any] = {
        "seconds": args.seconds,
        "threads": args.threads,
        "docs": args.docs,
        "queries": len(latencies),
        "qps": round(len(latencies) / args.seconds, 1),
        "errors": len(errors),
        "first_errors": errors[:5],
        "p50_ms": round(quantiles[49], 2),
        "p95_ms": round(quantiles[94], 2),
        "p99_ms": round(quantiles[98], 2),
        "index_runs": int(out.strip() or 0),
        "writer_exit": writer.returncode,
        "generations_seen": len(generations),
        "fds_before": fds_before,
        "fds_after": fds_after,
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
    }
    print(json.dumps(report))
    print()
    print("| queries | q/s | errors | p50 ms | p95 ms | p99 ms | index runs | commits seen |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {report['queries']} | {report['qps']} | {report['errors']} | {report['p50_ms']} | "
        f"{report['p95_ms']} | {report['p99_ms']} | {report['index_runs']} | "
        f"{report['generations_seen']} |"
    )
    sys.exit(1 if errors or writer.returncode else 0)


if __name__ == "__main__":
    main()
