"""The writer lock of an index folder: one indexing run at a time, across processes.

Whoosh locks only while one writer is open, and an indexing run commits in several batches, each
with its own writer: another process could slip in between two batches and both would then save
their own manifest. So a whole run holds an ``flock`` on ``searchlib.lock``; the kernel drops it
when the process dies, so a crash never leaves a stale lock behind.

An ``flock`` belongs to the open file description, not to the process: a child forked while the
lock is held shares it through its copy of the descriptor, and the lock lives on until the last
copy is closed. A forked child that outlives a killed parent would keep every later run locked
out. So every forked child closes its copies at once (:func:`drop_inherited_locks`, run after each
``fork()``), without unlocking: the parent keeps its lock for as long as it lives.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from pathlib import Path
from types import TracebackType

from .errors import IndexLockedError, SearchIndexError

LOCK_NAME = "searchlib.lock"
_POLL_SECONDS = 0.05
#: Lock types of ``/proc/self/fdinfo`` that belong to an open file description, as ``flock``'s do.
_SHARED_BY_FORK = (" FLOCK ", " OFDLCK ")

# The locks this process holds. A plain set: its updates are atomic under the GIL, and the fork
# handler reads it in the child, where taking a lock another thread held could deadlock.
_held: set[WriterLock] = set()


class WriterLock:
    """An exclusive, process-wide lock on an index folder, waited for up to ``timeout`` seconds."""

    def __init__(self, folder: Path, *, timeout: float = 0.0) -> None:
        self.path = folder / LOCK_NAME
        self.timeout = timeout
        self._fd: int | None = None

    @property
    def fd(self) -> int | None:
        """The descriptor that holds the lock, or None while it is not held."""
        return self._fd

    def acquire(self) -> None:
        """Take the lock, or raise :class:`IndexLockedError` once ``timeout`` has passed."""
        try:
            # Close-on-exec (Python's default, made explicit): a program started from this
            # process never inherits the lock.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise SearchIndexError(
                f"cannot write to the index in {self.path.parent}: {exc.strerror or exc}"
            ) from exc
        deadline = time.monotonic() + max(self.timeout, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    waited = f" (waited {self.timeout:g} s)" if self.timeout > 0 else ""
                    raise IndexLockedError(
                        f"index is locked by another writer: {self.path.parent}{waited}"
                    ) from None
                time.sleep(_POLL_SECONDS)
                continue
            self._fd = fd
            _held.add(self)
            return

    def release(self) -> None:
        """Let go of the lock."""
        _held.discard(self)
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def held_lock_fds() -> list[int]:
    """The descriptors of the writer locks this process holds."""
    return sorted(lock._fd for lock in _held if lock._fd is not None)


def drop_inherited_locks() -> None:
    """Close this process's descriptors of every writer lock, without unlocking.

    Meant for a forked child: its descriptors share the parent's lock, which must end with the
    parent. Unlocking (``LOCK_UN``) here would release the parent's lock too, so the descriptors
    are only closed, and the child's copies of the lock objects no longer count as held.
    """
    for lock in list(_held):
        fd, lock._fd = lock._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
    _held.clear()


def drop_all_inherited_locks() -> None:
    """:func:`drop_inherited_locks`, and on Linux close every other descriptor an ``flock`` is on.

    This also covers locks taken by other code, such as Whoosh's write lock, which is an ``flock``
    too. For a worker process that never takes a lock of its own; it reads ``/proc``, so it is
    not run after every fork.
    """
    drop_inherited_locks()
    if not sys.platform.startswith("linux"):
        return
    try:
        names = os.listdir("/proc/self/fdinfo")
    except OSError:
        return
    for name in names:
        try:
            with open(f"/proc/self/fdinfo/{name}", encoding="ascii", errors="replace") as info:
                shared = any(
                    line.startswith("lock:") and any(kind in line for kind in _SHARED_BY_FORK)
                    for line in info
                )
            if shared:
                os.close(int(name))
        except (OSError, ValueError):
            continue  # gone meanwhile (the listing's own descriptor), or not a number


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=drop_inherited_locks)
