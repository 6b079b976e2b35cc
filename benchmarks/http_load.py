"""Load test of the HTTP API: N concurrent clients for a bounded time while the index commits.

    python benchmarks/http_load.py                        # 20 s, 8 clients, the sample corpus
    python benchmarks/http_load.py --seconds 60 --clients 16 --corpus path/to/articles
    python benchmarks/http_load.py --writer process       # the writer is another process
    python benchmarks/http_load.py --writer none          # reads only

It copies the corpus to a temporary folder, indexes it, starts ``python -m searchlib serve`` on
127.0.0.1 (a free port; nothing but loopback traffic), and runs the clients (httpx2, or httpx)
against ``GET /search`` with a mix of words, phrases, OR, filters, sorts and pages, plus a few
``/documents/{id}``, ``/similar`` and ``/stats``. Meanwhile a writer changes a few files and
re-indexes, again and again, each run a commit: ``--writer http`` (default) through
``POST /index`` (the server's own engine, in its thread pool), ``--writer process`` with an
``Engine`` in a separate process, as a cron ``search index`` would. Prints one JSON object and a
table: requests/s, latency p50/p95/p99, errors (exit 1 if any), index runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

try:  # the maintained fork of httpx, which Starlette's TestClient prefers
    import httpx2 as httpx
except ModuleNotFoundError:  # pragma: no cover
    import httpx  # type: ignore[no-redef]

from searchlib import Engine
from searchlib.cli import sample_corpus

HOST = "127.0.0.1"  # loopback only, by design: there is no option to change it
TOKEN_ENV = "SEARCHLIB_LOAD_TOKEN"
MAX_SECONDS = 600
MAX_CLIENTS = 64
NEW_ARTICLE = """---
title: "Load test bulletin {n}"
excerpt: "Written while the load test ran: {words}."
publishedDateTime: 2026-11-{day:02d}T12:00:00Z
webUrl: "https://load.example/bulletin-{n}"
provider: Load Desk
topics: [Testing]
---
{words}
"""


# -- the writer ----------------------------------------------------------------------------------


def mutate(corpus: Path, round_no: int, rng: random.Random, words: list[str]) -> None:
    """Change a few files, add one and remove an older one: every index run has work."""
    files = sorted(p for p in corpus.rglob("*.md") if not p.name.startswith("load-"))
    for path in rng.sample(files, min(5, len(files))):
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"\nUpdate {round_no}: {' '.join(rng.sample(words, 6))}.\n")
    text = NEW_ARTICLE.format(n=round_no, day=round_no % 28 + 1,
                              words=" ".join(rng.sample(words, 12)))
    (corpus / f"load-{round_no}.md").write_text(text, encoding="utf-8")
    (corpus / f"load-{round_no - 3}.md").unlink(missing_ok=True)


def vocabulary(corpus: Path) -> list[str]:
    words: set[str] = set()
    for path in sorted(corpus.rglob("*.md"))[:200]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith(("title:", "excerpt:")):
                words.update(w.strip('".,:;!?()\'').lower() for w in line.split()[1:])
    return sorted(w for w in words if w.isalpha() and len(w) > 3)


def writer_loop(
    deadline: float, corpus: Path, index_once: Any, pause: float = 0.2
) -> dict[str, Any]:
    rng = random.Random(7)
    words = vocabulary(corpus)
    runs: list[float] = []
    round_no = 0
    while time.monotonic() < deadline:
        round_no += 1
        mutate(corpus, round_no, rng, words)
        start = time.perf_counter()
        index_once()
        runs.append((time.perf_counter() - start) * 1000)
        time.sleep(pause)
    return {"index_runs": len(runs), "index_run_ms_p50": percentile(runs, 50),
            "index_run_ms_max": round(max(runs), 1) if runs else None}


def writer_child(args: argparse.Namespace) -> None:
    """``--writer process``: index from this separate process until the deadline."""
    deadline = time.monotonic() + args.seconds
    with Engine(args.index_dir, create=False, lock_timeout=30) as engine:
        stats = writer_loop(
            deadline, args.corpus, lambda: engine.index([args.corpus]), args.pause
        )
    print(json.dumps(stats))


# -- the clients ---------------------------------------------------------------------------------


def request_mix(seed: int, sample: dict[str, Any], words: list[str]) -> list[tuple[str, Any]]:
    """A fixed, seeded list of (path, params) requests."""
    rng = random.Random(seed)
    topics = [v["value"] for v in sample["facets"]["topic"]["values"]]
    providers = [v["value"] for v in sample["facets"]["provider"]["values"]]
    ids = [h["id"] for h in sample["hits"]]
    out: list[tuple[str, Any]] = []
    for _ in range(2000):
        roll = rng.random()
        if roll < 0.04:
            out.append((f"/documents/{rng.choice(ids)}", {}))
            continue
        if roll < 0.07:
            out.append((f"/documents/{rng.choice(ids)}/similar", {"limit": 5}))
            continue
        if roll < 0.08:
            out.append(("/stats", {}))
            continue
        a, b = rng.sample(words, 2)
        q = rng.choice([a, f"{a} {b}", f"{a} OR {b}", f'"{a} {b}"', f"{a[:4]}*", f"{a} -{b}"])
        params: list[tuple[str, Any]] = [("q", q)]
        if topics and rng.random() < 0.3:
            params.append(("topic", rng.choice(topics)))
        if providers and rng.random() < 0.2:
            params.extend(("provider", p) for p in rng.sample(providers, min(2, len(providers))))
        if rng.random() < 0.2:
            params.append(("sort", rng.choice(["newest", "oldest", "quality"])))
        if rng.random() < 0.2:
            params.append(("offset", rng.choice([10, 20])))
        if rng.random() < 0.1:
            params.append(("since", "2026-09"))
        out.append(("/search", params))
    return out


async def run_clients(base: str, clients: int, deadline: float,
                      mix: list[tuple[str, Any]]) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:

        async def client(number: int) -> None:
            i = number * 97
            while time.monotonic() < deadline:
                path, params = mix[i % len(mix)]
                i += 1
                start = time.perf_counter()
                try:
                    response = await http.get(path, params=params)
                    body = response.json()
                    ok = response.status_code == 200 and "error" not in body
                except Exception as exc:  # every failure counts, none stops the run
                    ok, body = False, f"{type(exc).__name__}: {exc}"
                latencies.append((time.perf_counter() - start) * 1000)
                if not ok:
                    errors.append(f"{path} {params}: {str(body)[:200]}")

        await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies, errors


def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return round(ordered[rank], 2)


# -- the run -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not answer /healthz in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--corpus", type=Path, default=None,
                        help="a folder of articles (default: the bundled sample corpus)")
    parser.add_argument("--writer", choices=["http", "process", "none"], default="http")
    parser.add_argument("--pause", type=float, default=0.2,
                        help="seconds the writer waits between index runs [0.2: back to back]")
    parser.add_argument("--writer-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer_child:
        writer_child(args)
        return
    if not 0 < args.seconds <= MAX_SECONDS or not 0 < args.clients <= MAX_CLIENTS:
        parser.error(f"--seconds must be in (0, {MAX_SECONDS}], --clients in 1..{MAX_CLIENTS}")

    work = Path(tempfile.mkdtemp(prefix="searchlib-load-"))
    try:
        result = run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))
    print_table(result)
    if result["errors"] or result["server_tracebacks"]:
        print("FAILED: some requests failed", file=sys.stderr)
        sys.exit(1)


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    corpus, index = work / "corpus", work / "index"
    shutil.copytree(args.corpus or sample_corpus(), corpus)
    with Engine(index) as engine:
        documents = engine.index([corpus]).documents
    token = secrets.token_urlsafe(24)
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = {**os.environ, TOKEN_ENV: token}
    server = subprocess.Popen(
        [sys.executable, "-m", "searchlib", "serve", "--host", HOST, "--port", str(port),
         "--index", str(index), "--token-env", TOKEN_ENV],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_ready(base, server)
        sample = httpx.get(f"{base}/search", params={"limit": 100}).json()
        mix = request_mix(1, sample, vocabulary(corpus))
        deadline = time.monotonic() + args.seconds
        writer_stats: dict[str, Any] = {}
        writer: threading.Thread | None = None
        child: subprocess.Popen[str] | None = None
        if args.writer == "http":
            def post_index() -> None:
                response = httpx.post(f"{base}/index", json={"paths": [str(corpus)]},
                                      headers={"Authorization": f"Bearer {token}"}, timeout=120)
                if response.status_code != 200:
                    raise RuntimeError(f"POST /index: {response.status_code} {response.text}")

            writer = threading.Thread(
                target=lambda: writer_stats.update(
                    writer_loop(deadline, corpus, post_index, args.pause)
                )
            )
            writer.start()
        elif args.writer == "process":
            child = subprocess.Popen(
                [sys.executable, __file__, "--writer-child", "--seconds", str(args.seconds),
                 "--corpus", str(corpus), "--index-dir", str(index),
                 "--pause", str(args.pause)],
                stdout=subprocess.PIPE, text=True,
            )
        started = time.perf_counter()
        latencies, errors = asyncio.run(run_clients(base, args.clients, deadline, mix))
        elapsed = time.perf_counter() - started
        if writer is not None:
            writer.join()
        if child is not None:
            out, _ = child.communicate(timeout=300)
            writer_stats = json.loads(out.strip().splitlines()[-1]) if out.strip() else {
                "writer_failed": child.returncode}
        after = httpx.get(f"{base}/stats").json()
    finally:
        server.terminate()
        try:
            _, stderr = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            _, stderr = server.communicate()
    tracebacks = stderr.decode("utf-8", "replace").count("Traceback")
    result = {
        "seconds": round(elapsed, 1), "clients": args.clients, "writer": args.writer,
        "pause_s": args.pause,
        "corpus": str(args.corpus or "sample"), "documents_before": documents,
        "documents_after": after["documents"], "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99), "max_ms": percentile(latencies, 100),
        "errors": len(errors), "error_samples": errors[:5], "server_tracebacks": tracebacks,
        **writer_stats,
    }
    return result


def print_table(result: dict[str, Any]) -> None:
    """The figures that matter, for people (stderr; the JSON is on stdout)."""
    table = [
        ("requests", f"{result['requests']} in {result['seconds']} s "
                     f"({result['clients']} clients, writer: {result['writer']})"),
        ("requests/s", result["requests_per_s"]),
        ("latency ms", f"p50 {result['p50_ms']}  p95 {result['p95_ms']}  "
                       f"p99 {result['p99_ms']}  max {result['max_ms']}"),
        ("errors", f"{result['errors']} (server tracebacks: {result['server_tracebacks']})"),
        ("index runs", f"{result.get('index_runs', 0)} (p50 {result.get('index_run_ms_p50')} "
                       f"ms); documents {result['documents_before']} -> "
                       f"{result['documents_after']}"),
    ]
    for name, value in table:
        print(f"{name:<12} {value}", file=sys.stderr)


if __name__ == "__main__":
    main()
