"""Whether a folder is unchanged since it was last looked at, from one ``stat``.

A search must see every commit made before it, by this process or another, so each one asks
whether the index has a newer commit. Whoosh answers by listing the folder (its newest
``_MAIN_N.toc``): ~30 µs, twice or more per search. A folder's modification time changes
whenever a file in it is created, renamed or deleted, which every commit does; one ``stat``
(~1.5 µs) then tells an unchanged folder.

Timestamps are only as fine as the file system's clock tick (the kernel's coarse clock, 1-10
ms, where times keep nanoseconds; a second or two on file systems that keep whole seconds, such
as ext3 or FAT): two changes within one tick leave the same time. So a time is trusted only once
it is older than a tick when the folder was listed, with a wide margin (:data:`SETTLED_NS`, or
:data:`WHOLE_SECOND_SETTLED_NS` for a time of whole seconds: "racy" timestamps, as Git treats
them): any later change gets a later time, which differs. A network file system's
client may answer ``stat`` from its cache of attributes (NFS: up to a minute) while a listing
is fresh; the folder is therefore listed again at least every :data:`RECHECK_S` seconds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from time import monotonic

#: How old a folder's modification time must be to be trusted (see the module docstring).
SETTLED_NS = 100_000_000
#: ... when it is a whole number of seconds (the file system may keep no less).
WHOLE_SECOND_SETTLED_NS = 3_000_000_000
#: A stamp is trusted for at most this long after the check that settled it.
RECHECK_S = 1.0

Stamp = tuple[int, int, int]


def folder_stamp(folder: str) -> Stamp | None:
    """The folder's modification time, inode and device (None: it cannot be read)."""
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ino, st.st_dev)


def _settling(mtime_ns: int) -> int:
    """How old a modification time must be to be trusted."""
    return WHOLE_SECOND_SETTLED_NS if mtime_ns % 1_000_000_000 == 0 else SETTLED_NS


class FolderWatch:
    """Answers "is what I last saw in ``folder`` still current?" with one ``stat`` when the
    folder has not changed since a full check (``check``, e.g. a listing) said yes."""

    def __init__(self, folder: str | None) -> None:
        self.folder = folder
        self._settled: Stamp | None = None
        self._settled_at = 0.0  # monotonic() of the check that settled it

    def current(self, check: Callable[[], bool]) -> bool:
        """Whether the last state seen is current: True without calling ``check`` when the
        folder's stamp is the settled one of the last check that said so, else ``check()``.
        """
        if self.folder is None:
            return check()
        # The stamp is taken before the check: a change during the check makes it stale.
        stamp = folder_stamp(self.folder)
        now = monotonic()
        if stamp is not None and stamp == self._settled and now - self._settled_at < RECHECK_S:
            return True
        fresh = check()
        settled = stamp is not None and time.time_ns() - stamp[0] > _settling(stamp[0])
        self._settled = stamp if fresh and settled else None
        self._settled_at = now
        return fresh

    def forget(self) -> None:
        """Check in full next time (this process changed the folder, or is about to)."""
        self._settled = None
