"""Forked parse workers never hold the writer lock and never outlive their parent.

A worker that kept a copy of the lock descriptor, or lived on as an orphan after its parent was
killed, would keep every later ``search index`` locked out.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from whoosh.util.filelock import FileLock

from searchlib import Engine, indexer
from searchlib.errors import IndexLockedError
from searchlib.indexer import die_with_parent, parse_workers, worker_pool
from searchlib.locking import WriterLock, drop_inherited_locks, held_lock_fds

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads process states from /proc"
)

#: Upper bound for a process to end after its parent was killed (it normally takes milliseconds).
GONE_WITHIN = 30.0


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not reaped yet, holds nothing: not counted)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pid: int) -> bool:
    deadline = time.monotonic() + GONE_WITHIN
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def lock_is_free(folder: Path) -> bool:
    """Whether another holder could take the writer lock right now."""
    try:
        with WriterLock(folder):
            return True
    except IndexLockedError:
        return False


def test_the_lock_tracks_its_descriptor(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path)
    assert lock.fd is None
    with lock:
        assert lock.fd is not None
        assert held_lock_fds() == [lock.fd]
        assert os.get_inheritable(lock.fd) is False  # close-on-exec
    assert lock.fd is None
    assert held_lock_fds() == []


def test_a_pool_worker_does_not_hold_the_lock(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path)
    lock.acquire()
    with worker_pool(1) as pool:
        worker = pool.submit(os.getpid).result()
        assert worker != os.getpid()
        assert not lock_is_free(tmp_path)
        # Let go the way this process's death would: its descriptor closes, nothing unlocks.
        drop_inherited_locks()
        assert lock.fd is None
        assert alive(worker)
        assert lock_is_free(tmp_path)
        assert pool.submit(os.getpid).result() == worker  # the worker still works
    lock.release()  # a no-op now


def test_a_pool_worker_does_not_hold_other_flocks(tmp_path: Path) -> None:
    # Whoosh's write lock is an flock on a descriptor too; a worker closes its copy as well.
    path = tmp_path / "MAIN_WRITELOCK"
    whoosh_lock = FileLock(str(path))
    assert whoosh_lock.acquire()
    with worker_pool(1) as pool:
        worker = pool.submit(os.getpid).result()
        os.close(whoosh_lock.fd)  # as this process's death would: no unlock
        whoosh_lock.fd = None
        assert alive(worker)
        other = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if the worker holds it
        finally:
            os.close(other)


def test_any_forked_child_does_not_hold_the_lock(tmp_path: Path) -> None:
    ready_read, ready_write = os.pipe()
    go_read, go_write = os.pipe()
    with WriterLock(tmp_path) as lock:
        child = os.fork()
        if child == 0:
            # The child: say it runs (fork handlers have run by now), then wait to be told to go.
            os.write(ready_write, b"r")
            os.read(go_read, 1)
            os._exit(0 if lock.fd is None and held_lock_fds() == [] else 3)
        try:
            assert os.read(ready_read, 1) == b"r"
            drop_inherited_locks()  # as if this process had died
            assert alive(child)
            assert lock_is_free(tmp_path)
        finally:
            os.write(go_write, b"g")
            _, status = os.waitpid(child, 0)
            for fd in (ready_read, ready_write, go_read, go_write):
                os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0


HOLDER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from searchlib.indexer import die_with_parent, worker_pool
    from searchlib.locking import WriterLock

    lock = WriterLock(Path(sys.argv[1]))
    lock.acquire()
    if sys.argv[2] == "pool":
        pool = worker_pool(1)
        child = pool.submit(os.getpid).result()
    else:  # a plain fork that watches its parent without prctl, as where prctl is missing
        parent = os.getpid()
        ready_read, ready_write = os.pipe()
        child = os.fork()
        if child == 0:
            die_with_parent(parent, use_prctl=False)
            os.write(ready_write, b"r")
            while True:
                time.sleep(60)
        os.read(ready_read, 1)  # the child runs, its fork handlers done
    print(child, flush=True)
    time.sleep(600)
    """
)


def killed_holder(folder: Path, mode: str) -> int:
    """Run a process that holds the lock and has a child; SIGKILL it; return the child's pid."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder), mode], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        child = int(holder.stdout.readline())
        assert alive(child)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    return child


@pytest.mark.parametrize("mode", ["pool", "watch"])
def test_a_child_dies_with_its_killed_parent(tmp_path: Path, mode: str) -> None:
    child = killed_holder(tmp_path, mode)
    assert lock_is_free(tmp_path)  # at once: the child never held it
    assert wait_gone(child), f"child {child} outlived its killed parent"


@pytest.mark.parametrize("use_prctl", [True, False])
def test_a_child_whose_parent_is_already_gone_exits_at_once(use_prctl: bool) -> None:
    # The parent died between fork() and die_with_parent(): the child was handed to another
    # parent, which is what a pid other than the real parent's stands for here.
    not_the_parent = os.getpid() + 1_000_000
    child = os.fork()
    if child == 0:
        die_with_parent(not_the_parent, use_prctl=use_prctl)
        os._exit(0)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 1


@pytest.mark.parametrize("use_prctl", [True, False])
def test_a_child_with_its_parent_alive_carries_on(use_prctl: bool) -> None:
    child = os.fork()
    if child == 0:
        die_with_parent(os.getppid(), use_prctl=use_prctl)
        os._exit(0)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize(
    ("cpus", "busy", "expected"),
    [(1, True, 0), (1, False, 0), (2, True, 1), (2, False, 2), (4, True, 3), (4, False, 4),
     (16, True, 4), (16, False, 4)],
)
def test_parse_workers_leave_a_busy_writer_a_core(cpus: int, busy: bool, expected: int) -> None:
    assert parse_workers(cpus, busy_writer=busy) == expected


@pytest.mark.parametrize(("backend", "expected"), [("whoosh", 1), ("tantivy", 2)])
def test_indexing_parses_in_as_many_workers_as_the_engine_wants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str, expected: int
) -> None:
    if backend == "tantivy":
        pytest.importorskip("tantivy", reason="the tantivy extra is not installed")
    pools: list[int] = []

    def counting_pool(workers: int) -> Any:
        pools.append(workers)
        return worker_pool(workers)

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(indexer, "worker_pool", counting_pool)
    monkeypatch.setattr(indexer, "PARALLEL_MIN_FILES", 2)
    # Another test's leftover thread would make the indexer parse in-line (forking is only
    # safe from a single thread).
    monkeypatch.setattr(indexer.threading, "active_count", lambda: 1)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(3):
        (corpus / f"a{n}.md").write_text(
            f"---\ntitle: Story {n}\nurl: https://x.example/{n}\n---\nBody {n}\n", encoding="utf-8"
        )
    with Engine(tmp_path / "index", backend=backend) as engine:
        report = engine.index([corpus])
        assert report.added == 3
        assert engine.search("story").total == 3
    assert pools == [expected]
