"""Faults in a three-node Typesense cluster while searching threads and an index run use it.

    python benchmarks/cluster_faults.py --files 2000 --searchers 4 --stop-seconds 10

A local cluster (``searchlib.backends.typesense_cluster``: three nodes on loopback) first holds
half of a generated corpus. Then threads search without pause while an index run writes the
whole corpus in small commits, and: node A is killed (SIGKILL), node B is stopped (SIGSTOP)
for ``--stop-seconds`` and continued, and A is started again. The index run is retried until it
completes (an index run resumes: its manifest says what the cluster already holds). Finally
the cluster's records and facet counts are compared with a clean build of the same corpus
in another collection.

Reported: searches, failed searches (after the client's retries over the other nodes),
latency percentiles, index attempts, lost and extra documents, whether every facet count
equals the clean build's, and the seconds from the restart until every node is healthy
again and a write is accepted. Prints one JSON object and a short table; states the machine
and the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from searchlib import Engine
from searchlib.backends.typesense_cluster import LocalCluster
from searchlib.errors import SearchlibError

WORDS = [
    "storm", "grid", "vaccine", "orbit", "budget", "ballot", "river", "solar", "clinic", "launch",
    "tariff", "vote", "heat", "court", "camera", "market", "flood", "rocket", "school", "virus",
]
TOPICS = ["Climate", "Health", "Space", "Politics", "Finance", "Science"]
QUERIES = ["storm", "grid vaccine", '"solar storm"', "orbit OR launch", "market -vote", "heat*",
           "budget ballot court"]


def generate_corpus(folder: Path, files: int, seed: int = 5) -> None:
    """``files`` article files with dates, qualities, providers, topics and related items."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(files):
        words = " ".join(rng.choice(WORDS) for _ in range(20))
        related = ""
        if n % 4 == 0:
            target = rng.randrange(files)
            related = (f'related:\n  - title: "Related {target} {rng.choice(WORDS)}"\n'
                       f'    webUrl: "https://wire.example/{target}"\n')
        topics = ", ".join(rng.sample(TOPICS, rng.randint(1, 2)))
        (folder / f"{n:05d}.md").write_text(
            "---\n"
            f'title: "Story {n} {rng.choice(WORDS)} {rng.choice(WORDS)}"\n'
            f'excerpt: "{words}"\n'
            f"publishedDateTime: 2026-{1 + n % 12:02d}-{1 + n % 28:02d}T08:00:00Z\n"
            f'webUrl: "https://news.example/{n}"\n'
            f"quality: {rng.randint(0, 100)}\n"
            f"provider:\n  name: Provider {n % 7}\n"
            f"topics: [{topics}]\n" + related + "---\n"
            f"{words} {words}\n",
            encoding="utf-8",
        )


def _snapshot(engine: Engine) -> dict[str, Any]:
    records = {r.id: r for r in engine.backend.records()}
    results = engine.search("", facet_size=1000)
    facets = {name: facet.to_dict() for name, facet in results.facets.items()}
    return {"records": records, "facets": facets, "total": results.total}


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_faults(
    cluster: LocalCluster, corpus: Path, workdir: Path, *, searchers: int = 4,
    stop_seconds: float = 10.0, batch_files: int = 50,
) -> dict[str, Any]:
    """The fault run on a started ``cluster`` (see the module docstring); its measurements."""
    os.environ["SEARCHLIB_TYPESENSE_API_KEY"] = cluster.api_key
    files = sorted(corpus.glob("*.md"))
    half = workdir / "half"
    half.mkdir(parents=True, exist_ok=True)
    for path in files[: len(files) // 2]:
        (half / path.name).write_bytes(path.read_bytes())
    nodes = cluster.urls
    index_dir = workdir / "faulty-index"
    with Engine(index_dir, backend="typesense", nodes=nodes, collection="faults") as engine:
        engine.index([half], batch_files=batch_files)

    latencies: list[float] = []
    errors: list[str] = []
    stop = threading.Event()
    search_engine = Engine(index_dir, create=False, nodes=nodes)

    def search(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            query = rng.choice(QUERIES)
            started = time.perf_counter()
            try:
                search_engine.search(query, limit=10)
                latencies.append(time.perf_counter() - started)
            except SearchlibError as exc:
                errors.append(f"{query}: {exc}")

    attempts: list[str] = []
    completed = threading.Event()

    def index() -> None:
        # An index run that fails (no leader for a while) is run again: it resumes.
        while not completed.is_set():
            try:
                with Engine(index_dir, create=False, nodes=nodes) as writer:
                    writer.index([corpus], batch_files=batch_files)
                attempts.append("completed")
                completed.set()
            except SearchlibError as exc:
                attempts.append(f"failed: {str(exc).splitlines()[0]}")
                time.sleep(0.5)

    threads = [threading.Thread(target=search, args=(n,)) for n in range(searchers)]
    for thread in threads:
        thread.start()
    writer_thread = threading.Thread(target=index)
    started = time.monotonic()
    writer_thread.start()
    events: list[tuple[float, str]] = []
    killed, stopped = cluster.members[0], cluster.members[1]
    time.sleep(1.0)
    cluster.kill(killed, signal.SIGKILL)
    events.append((time.monotonic() - started, f"SIGKILL node {killed.index}"))
    time.sleep(1.0)
    cluster.kill(stopped, signal.SIGSTOP)
    events.append((time.monotonic() - started, f"SIGSTOP node {stopped.index}"))
    time.sleep(stop_seconds)
    cluster.kill(stopped, signal.SIGCONT)
    events.append((time.monotonic() - started, f"SIGCONT node {stopped.index}"))
    cluster.start_node(killed)
    restarted = time.monotonic()
    events.append((restarted - started, f"restart node {killed.index}"))
    cluster.wait_ready(120.0, nodes=cluster.members)
    recovered = time.monotonic() - restarted
    events.append((time.monotonic() - started, "every node healthy, writes accepted"))
    writer_thread.join(timeout=600)
    time.sleep(1.0)  # searches on the recovered cluster too
    stop.set()
    for thread in threads:
        thread.join()
    search_engine.close()
    elapsed = time.monotonic() - started

    with Engine(index_dir, create=False, nodes=nodes) as engine:
        faulty = _snapshot(engine)
    with Engine(workdir / "clean-index", backend="typesense", nodes=nodes,
                collection="clean") as engine:
        engine.index([corpus], batch_files=batch_files)
        clean = _snapshot(engine)
    lost = set(clean["records"]) - set(faulty["records"])
    extra = set(faulty["records"]) - set(clean["records"])
    changed = [i for i in set(clean["records"]) & set(faulty["records"])
               if clean["records"][i] != faulty["records"][i]]
    ms = [1000 * s for s in latencies]
    return {
        "files": len(files), "documents": len(clean["records"]), "searchers": searchers,
        "stop_seconds": stop_seconds, "seconds": round(elapsed, 1), "searches": len(latencies),
        "search_errors": len(errors), "error_samples": errors[:3],
        "p50_ms": _round(_percentile(ms, 0.5)), "p95_ms": _round(_percentile(ms, 0.95)),
        "p99_ms": _round(_percentile(ms, 0.99)), "max_ms": _round(max(ms, default=None)),
        "index_attempts": attempts, "index_completed": completed.is_set(),
        "lost": len(lost), "extra": len(extra), "changed": len(changed),
        "facets_equal": faulty["facets"] == clean["facets"] and faulty["total"] == clean["total"],
        "recovered_seconds": round(recovered, 2),
        "events": [(round(t, 2), what) for t, what in events],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    """Run the fault benchmark and print its JSON and table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--searchers", type=int, default=4)
    parser.add_argument("--stop-seconds", type=float, default=10.0)
    parser.add_argument("--batch-files", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cluster-faults-") as tmp:
        work = Path(tmp)
        generate_corpus(work / "corpus", args.files)
        with LocalCluster(work / "cluster", nodes=3) as cluster:
            result = run_faults(cluster, work / "corpus", work, searchers=args.searchers,
                                stop_seconds=args.stop_seconds, batch_files=args.batch_files)
    result["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        "Typesense 0.24.1 x3 on loopback"
    )
    result["commit"] = _commit()
    print(json.dumps(result, indent=2))
    print()
    print("| searches | failed | p50 ms | p95 ms | p99 ms | max ms | index attempts | lost | "
          "extra | facets equal | recovered s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {result['searches']} | {result['search_errors']} | {result['p50_ms']} | "
          f"{result['p95_ms']} | {result['p99_ms']} | {result['max_ms']} | "
          f"{len(result['index_attempts'])} | {result['lost']} | {result['extra']} | "
          f"{result['facets_equal']} | {result['recovered_seconds']} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
