"""Crash safety: `search index` killed with SIGKILL at random moments loses nothing.

After every kill the index opens and answers; the next run completes and leaves an index equal
to a clean rebuild (same ids, same stored fields, same facet counts), and the manifest claims
exactly the files the index holds.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from searchlib import Engine
from searchlib.manifest import Manifest

pytestmark = pytest.mark.slow

KILLS = 20
TOPICS = ["Climate", "Energy", "Health", "Space", "Finance", "Elections"]
WORDS = [
    "storm", "grid", "vaccine", "orbit", "budget", "ballot", "river", "solar", "clinic",
    "launch", "tariff", "vote", "heat", "drought", "rocket", "market", "parliament", "turbine",
    "hospital", "satellite", "inflation", "campaign", "flood", "battery",
]


def generate(folder: Path, count: int, seed: int) -> None:
    """Articles with shared related items, some of which are articles themselves."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        related = []
        for _ in range(rng.randint(0, 4)):
            target = rng.randrange(count + 40)  # beyond count: a related-only item
            related.append(
                f'  - title: "Related {target} {rng.choice(WORDS)}"\n'
                f'    excerpt: "About {rng.choice(WORDS)}"\n'
                f'    webUrl: "https://news.example/{target}?utm_source=feed"\n'
                f"    provider:\n      name: Wire {target % 5}\n"
            )
        topics = rng.sample(TOPICS, rng.randint(1, 2))
        words = " ".join(rng.choice(WORDS) for _ in range(12))
        text = (
            "---\n"
            f'title: "Story {n} {rng.choice(WORDS)} {rng.choice(WORDS)}"\n'
            f'excerpt: "{words}"\n'
            f"publishedDateTime: 2026-{1 + n % 12:02d}-{1 + n % 28:02d}T08:00:00Z\n"
            f'webUrl: "https://news.example/{n}"\n'
            f"quality: {rng.randint(0, 100)}\n"
            f"provider:\n  name: Provider {n % 7}\n"
            f"topics: [{', '.join(topics)}]\n"
            + ("related:\n" + "".join(related) if related else "")
            + "---\n"
        )
        (folder / f"{n:04d}.md").write_text(text, encoding="utf-8")


def index_command(corpus: Path, index_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "searchlib", "index", str(corpus), "--index", str(index_dir),
        "--batch-files", "40", "--quiet",
    ]


def snapshot(index_dir: Path) -> dict[str, Any]:
    """Everything a user can observe: documents with their fields, and facet counts."""
    with Engine(index_dir, create=False) as engine:
        records = {}
        for record in engine.backend.records():
            records[record.id] = record
        results = engine.search("", facet_size=100)
        facets = {name: facet.to_dict() for name, facet in results.facets.items()}
        return {"records": records, "facets": facets, "total": results.total}


def test_killed_index_runs_never_lose_or_corrupt(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    generate(corpus, 400, seed=7)
    index_dir = tmp_path / "index"
    started = time.monotonic()
    subprocess.run(index_command(corpus, index_dir), check=True)
    full_run = time.monotonic() - started
    rng = random.Random(11)
    kills = 0
    for round_number in range(KILLS):
        # Change the corpus between rounds so that runs update, add and delete as well.
        victim = corpus / f"{rng.randrange(400):04d}.md"
        if round_number % 3 == 0 and victim.exists():
            victim.unlink()
        elif round_number % 3 == 1:
            generate(corpus, 400, seed=100 + round_number)
        proc = subprocess.Popen(index_command(corpus, index_dir))
        time.sleep(rng.uniform(0.0, full_run))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        # After any kill: the index opens and answers.
        with Engine(index_dir, create=False) as engine:
            assert engine.search("storm").total >= 0
            assert engine.search("", topics=["Climate"]).total >= 0
    assert kills >= KILLS // 2, f"only {kills} runs were killed before finishing"

    # The corpus is now the last generated one minus deleted files: compare with a rebuild.
    final = subprocess.run(index_command(corpus, index_dir), capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    rebuilt = tmp_path / "rebuilt"
    subprocess.run(index_command(corpus, rebuilt), check=True)
    assert snapshot(index_dir) == snapshot(rebuilt)

    # The manifest claims exactly the files the index holds.
    manifest = Manifest.load(index_dir)
    assert manifest is not None
    with Engine(index_dir, create=False) as engine:
        assert manifest.generation == engine.backend.generation()
        held = {r.path for r in engine.backend.records(kind="article")}
    on_disk = {str(p) for p in corpus.iterdir()}
    assert set(manifest.files) == on_disk
    assert held == on_disk
