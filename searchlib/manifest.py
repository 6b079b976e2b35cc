"""The manifest: which source files the index holds, by content hash.

It lives in the index folder as ``manifest.json`` and is only a cache of what the index itself
stores (every article document carries its source path, content hash, topics and related ids).
It is written after each commit, atomically, and records that commit's generation: when the
generation does not match the index (a crash between commit and manifest write, or a damaged
file), the manifest is rebuilt from the index, so it can never claim a file the index lacks.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .durable import fsync_path

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


@dataclass(slots=True)
class FileEntry:
    """What the index holds for one source file."""

    hash: str
    article_id: str
    topics: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    size: int = -1
    mtime_ns: int = -1

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "hash": self.hash, "id": self.article_id, "topics": list(self.topics),
            "related": list(self.related), "size": self.size, "mtime_ns": self.mtime_ns,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileEntry:
        """Read an entry written by :meth:`to_json`."""
        return cls(
            hash=str(data["hash"]), article_id=str(data["id"]),
            topics=tuple(map(sys.intern, data.get("topics", ()))),
            related=tuple(map(sys.intern, data.get("related", ()))),
            size=int(data.get("size", -1)), mtime_ns=int(data.get("mtime_ns", -1)),
        )


@dataclass
class Manifest:
    """Source path -> :class:`FileEntry`, plus the index generation it describes."""

    generation: int = -1
    files: dict[str, FileEntry] = field(default_factory=dict)
    #: Ids the next write deletes: records an interrupted write left that no file accounts
    #: for (see :func:`searchlib.indexer.manifest_from_records`). Never saved.
    stray: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> Manifest | None:
        """The manifest in ``folder``, or None when it is missing or unreadable."""
        try:
            return cls.from_text((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        except OSError:
            return None

    def to_text(self) -> str:
        """The manifest as JSON text (what :meth:`save` writes), for a store elsewhere."""
        return json.dumps({
            "version": MANIFEST_VERSION, "generation": self.generation,
            "files": {path: self.files[path].to_json() for path in sorted(self.files)},
        }, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_text(cls, text: str | None) -> Manifest | None:
        """A manifest from :meth:`to_text`'s JSON, or None when it is missing or unreadable."""
        if text is None:
            return None
        try:
            data = json.loads(text)
            if data.get("version") != MANIFEST_VERSION:
                return None
            files = {str(k): FileEntry.from_json(v) for k, v in data["files"].items()}
            return cls(generation=int(data["generation"]), files=files)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def save(self, folder: Path) -> None:
        """Write atomically and durably: temp file, fsync, rename, fsync the folder.

        The JSON is written entry by entry (each by the C encoder, which ``json.dump`` to a
        file does not use): no copy of the whole manifest is built in memory.
        """
        fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".tmp", dir=folder)
        encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(f'{{"version":{MANIFEST_VERSION},"generation":{self.generation},'
                          '"files":{')
                for i, path in enumerate(sorted(self.files)):
                    out.write(("," if i else "") + encode(path) + ":"
                              + encode(self.files[path].to_json()))
                out.write("}}")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, folder / MANIFEST_NAME)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        fsync_path(folder)
