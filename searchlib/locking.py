"""The writer lock of an index folder: one indexing run at a time, across processes.

Whoosh locks only while one writer is open, and an indexing run commits in several batches, each
with its own writer: another process could slip in between two batches and both would then save
their own manifest. So a whole run holds an ``flock`` on ``searchlib.lock``; the kernel drops it
when the process dies, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from .errors import IndexLockedError, SearchIndexError

LOCK_NAME = "searchlib.lock"
_POLL_SECONDS = 0.05


class WriterLock:
    """An exclusive, process-wide lock on an index folder, waited for up to ``timeout`` seconds."""

    def __init__(self, folder: Path, *, timeout: float = 0.0) -> None:
        self.path = folder / LOCK_NAME
        self.timeout = timeout
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`IndexLockedError` once ``timeout`` has passed."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
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
            return

    def release(self) -> None:
        """Let go of the lock."""
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
