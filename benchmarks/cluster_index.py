"""Indexing into a three-node Typesense cluster beside the Whoosh backend, in one run.

    python benchmarks/cluster_index.py ../shared/corpora/coronavirus-news
    python benchmarks/cluster_index.py --nodes 1 ../shared/corpora/coronavirus-news

Indexes the corpus with the Whoosh backend (a temporary folder), then with the typesense
backend into a local cluster (``searchlib.backends.typesense_cluster``: three nodes on
loopback, every write replicated to all three; ``--nodes 1``: one node, what each machine of a
cluster whose nodes do not share cores indexes), each from scratch with ``Engine.index``'s
defaults. Reports files per second, documents, and each node's resident memory before and
after (from ``/proc``), from which the memory per 100,000 documents; then the latency of a
few searches on each. Prints one JSON object and a short table; states machine and commit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from searchlib import Engine
from searchlib.backends.typesense_cluster import LocalCluster

QUERIES = ["coronavirus vaccine", "lockdown", '"social distancing"', "china economy",
           "hospital beds shortage", "mask*"]


def rss_mb(pid: int | None) -> float:
    """Resident memory of a process, in MB (0 when it is gone)."""
    if pid is None:
        return 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def timed_index(engine: Engine, corpus: Path) -> dict[str, Any]:
    started = time.perf_counter()
    report = engine.index([corpus])
    seconds = time.perf_counter() - started
    files = report.added + report.updated
    return {"seconds": round(seconds, 1), "files": files,
            "files_per_s": round(files / seconds, 1), "documents": engine.stats().documents}


def search_ms(engine: Engine) -> dict[str, float]:
    """Median of 5 runs of each query (after one warm-up), in ms."""
    out = {}
    for query in QUERIES:
        engine.search(query)
        times = []
        for _ in range(5):
            started = time.perf_counter()
            engine.search(query)
            times.append(1000 * (time.perf_counter() - started))
        out[query] = round(sorted(times)[2], 1)
    return out


def main() -> None:
    """Run both builds and print the JSON and table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--nodes", type=int, default=3, help="nodes of the local cluster [3]")
    args = parser.parse_args()
    result: dict[str, Any] = {"corpus": args.corpus.name}
    with tempfile.TemporaryDirectory(prefix="cluster-index-") as tmp:
        work = Path(tmp)
        with Engine(work / "whoosh", backend="whoosh") as engine:
            result["whoosh"] = timed_index(engine, args.corpus)
            result["whoosh"]["search_ms"] = search_ms(engine)
        with LocalCluster(work / "cluster", nodes=args.nodes) as cluster:
            os.environ["SEARCHLIB_TYPESENSE_API_KEY"] = cluster.api_key
            before = [rss_mb(node.pid) for node in cluster.members]
            with Engine(work / "typesense", backend="typesense", nodes=cluster.urls) as engine:
                result["typesense"] = timed_index(engine, args.corpus)
                time.sleep(2.0)  # let the nodes settle before reading their memory
                after = [rss_mb(node.pid) for node in cluster.members]
                result["typesense"]["search_ms"] = search_ms(engine)
    docs = result["typesense"]["documents"]
    grown = [a - b for a, b in zip(after, before, strict=True)]
    result["typesense"]["node_rss_mb_before"] = [round(x) for x in before]
    result["typesense"]["node_rss_mb_after"] = [round(x) for x in after]
    result["typesense"]["mb_per_100k_documents_per_node"] = round(
        max(grown) / docs * 100_000
    )
    result["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Typesense 0.24.1 x{args.nodes} on loopback"
    )
    try:
        result["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
            check=True, cwd=Path(__file__).parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        result["commit"] = "unknown"
    print(json.dumps(result, indent=2))
    print()
    print("| engine | files | documents | seconds | files/s |")
    print("|---|---|---|---|---|")
    for name in ("whoosh", "typesense"):
        r = result[name]
        print(f"| {name} | {r['files']} | {r['documents']} | {r['seconds']} | "
              f"{r['files_per_s']} |")


if __name__ == "__main__":
    main()
