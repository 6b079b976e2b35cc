"""Crash safety: `search index` killed with SIGKILL at random moments loses nothing.

The corpus is large enough for the indexer to parse in forked worker processes, and the kills
land anywhere in a run, while workers parse included. After every kill no process of the killed
run remains, the writer lock is free at once, and the index opens and answers; the next run
completes and leaves an index equal to a clean rebuild (same ids, same stored fields, same facet
counts), and the manifest claims exactly the files the index holds.
"""

from __future__ import annotations

import contextlib
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
from searchlib.backends import DISK_BACKENDS, available
from searchlib.indexer import PARALLEL_MIN_FILES
from searchlib.locking import WriterLock
from searchlib.manifest import Manifest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="reads process states from /proc"
    ),
]

KILLS = 20
#: Enough files that a run which reads them all parses them in worker processes (a few are
#: deleted on the way).
FILES = PARALLEL_MIN_FILES + 100
#: Upper bound for the processes of a killed run to end (they normally take milliseconds).
GONE_WITHIN = 30.0
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


#: Every engine that keeps an index on disk and is installed here.
ENGINES = [name for name in DISK_BACKENDS if name in available()]


def index_command(corpus: Path, index_dir: Path, backend: str) -> list[str]:
    return [
        sys.executable, "-m", "searchlib", "index", str(corpus), "--index", str(index_dir),
        "--batch-files", "100", "--quiet", "--backend", backend,
    ]


def group_members(pgid: int) -> list[int]:
    """The live processes of process group ``pgid`` (zombies hold nothing: not counted)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        state, pgrp = fields[0], int(fields[3])
        if pgrp == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def wait_group_gone(pgid: int) -> list[int]:
    """Wait until no process of ``pgid`` runs; return those still running at the deadline."""
    deadline = time.monotonic() + GONE_WITHIN
    while (left := group_members(pgid)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return left


def snapshot(index_dir: Path) -> dict[str, Any]:
    """Everything a user can observe: documents with their fields, and facet counts."""
    with Engine(index_dir, create=False) as engine:
        records = {}
        for record in engine.backend.records():
            records[record.id] = record
        results = engine.search("", facet_size=100)
        facets = {name: facet.to_dict() for name, facet in results.facets.items()}
        return {"records": records, "facets": facets, "total": results.total}


@pytest.mark.parametrize("backend", ENGINES)
def test_killed_index_runs_never_lose_or_corrupt(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "typesense":
        request.getfixturevalue("typesense_cluster")  # its nodes in the environment
    corpus = tmp_path / "corpus"
    generate(corpus, FILES, seed=7)
    index_dir = tmp_path / "index"
    started = time.monotonic()
    subprocess.run(index_command(corpus, index_dir, backend), check=True)
    full_run = time.monotonic() - started
    rng = random.Random(11)
    kills = parse_kills = 0
    # For each kind of round, a time by which its run has finished by itself (the first full
    # run's duration, then the time at which the last run of that kind was found finished):
    # kills are drawn within it. A run over an unchanged corpus takes a fraction of a full
    # one, and how large a fraction depends on the engine (a cluster's first run also creates
    # its collections): drawn within the full run's time, too few of them were killed.
    durations = dict.fromkeys(range(3), full_run)
    for round_number in range(KILLS):
        kind = round_number % 3
        # Change the corpus between rounds so that runs update, add and delete as well; the
        # first two kinds of change make the next run read every file, in worker processes.
        if round_number % 3 == 0:
            victim = corpus / f"{rng.randrange(FILES):04d}.md"
            if victim.exists():
                victim.unlink()
            for path in corpus.iterdir():
                os.utime(path)  # touched, not changed: read and hashed again
        elif round_number % 3 == 1:
            generate(corpus, FILES, seed=100 + round_number)
        # A session of its own: the run and the workers it forks share a process group. Its
        # output goes to a file, not a pipe, which a surviving worker would keep open.
        with (tmp_path / "stderr.txt").open("w+") as stderr:
            run_started = time.monotonic()
            proc = subprocess.Popen(
                index_command(corpus, index_dir, backend), start_new_session=True, stderr=stderr
            )
            killed = False
            try:
                time.sleep(rng.uniform(0.0, durations[kind]))
                if proc.poll() is None:
                    parsing = bool([pid for pid in group_members(proc.pid) if pid != proc.pid])
                    os.kill(proc.pid, signal.SIGKILL)  # the run only, as the OOM killer does
                    # A run can end between the poll and the signal: then it was not killed.
                    killed = proc.wait() == -signal.SIGKILL
                    kills += killed
                    parse_kills += killed and parsing  # workers were parsing
                proc.wait()
                if not killed:
                    durations[kind] = time.monotonic() - run_started
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            stderr.seek(0)
            # A run that finished by itself succeeded (it was not refused for a lock, either).
            assert proc.returncode == (-signal.SIGKILL if killed else 0), stderr.read()
        # No worker of the killed run lives on...
        left = wait_group_gone(proc.pid)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # not to leave them behind when failing
        assert left == [], f"round {round_number}: processes of the killed run remain"
        # ...so the next run is never refused for the lock: it can take it at once.
        with WriterLock(index_dir, timeout=0):
            pass
        # And the index opens and answers.
        with Engine(index_dir, create=False) as engine:
            assert engine.search("storm").total >= 0
            assert engine.search("", topics=["Climate"]).total >= 0
    print(f"{kills} of {KILLS} runs killed, {parse_kills} while workers parsed")
    assert kills >= KILLS // 2, f"only {kills} runs were killed before finishing"
    if (os.cpu_count() or 1) >= 2:  # with a single CPU the indexer parses in-line
        assert parse_kills >= 3, f"only {parse_kills} kills landed while workers parsed"

    # The corpus is now the last generated one minus deleted files: compare with a rebuild.
    final = subprocess.run(
        index_command(corpus, index_dir, backend), capture_output=True, text=True
    )
    assert final.returncode == 0, final.stderr
    rebuilt = tmp_path / "rebuilt"
    subprocess.run(index_command(corpus, rebuilt, backend), check=True)
    assert snapshot(index_dir) == snapshot(rebuilt)

    # The manifest claims exactly the files the index holds.
    manifest = Manifest.load(index_dir)
    assert manifest is not None
    with Engine(index_dir, create=False) as engine:
        assert engine.backend_name == backend
        assert manifest.generation == engine.backend.generation()
        held = {r.path for r in engine.backend.records(kind="article")}
    on_disk = {str(p) for p in corpus.iterdir()}
    assert set(manifest.files) == on_disk
    assert held == on_disk
