"""The index folder: ``searchlib.json`` (schema version, engine, engine format, language), which
files in the folder belong to the index, and :class:`IndexStore`, an open index.

An index folder holds the engine's own files, the manifest of source files
(``manifest.json``), this metadata, the writer lock, and the index's synonyms
(``synonyms.txt``, kept by ``--rebuild``). Nothing else there is touched.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .analysis import DEFAULT_LANGUAGE, check_language
from .backends import DEFAULT_BACKEND, REGISTRY, backend_class
from .backends.base import Backend
from .errors import (
    IndexCorruptError,
    IndexNotFoundError,
    SchemaVersionError,
    SearchIndexError,
    UsageError,
)
from .locking import WriterLock
from .manifest import MANIFEST_NAME, Manifest
from .synonyms import SYNONYMS_NAME

#: Bumped whenever the document model or analysis changes in a way old indexes cannot serve.
SCHEMA_VERSION = 2
META_NAME = "searchlib.json"
#: The engine of an index whose metadata names none (written before engines were recorded).
LEGACY_ENGINE = "whoosh"


@dataclass(frozen=True)
class IndexMeta:
    """What ``searchlib.json`` records about an index."""

    schema_version: int
    language: str
    engine: str
    engine_format: int

    def to_json(self) -> dict[str, object]:
        """The JSON object written to ``searchlib.json``."""
        return {
            "schema_version": self.schema_version,
            "language": self.language,
            "engine": self.engine,
            "engine_format": self.engine_format,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


def rebuild_hint(path: Path) -> str:
    """How to rebuild the index in ``path`` from its source files."""
    return f"'search index --rebuild PATH --index {path}'"


def has_index(path: Path) -> bool:
    """Whether ``path`` holds an index of any registered engine."""
    if (path / META_NAME).is_file():
        return True
    return any(_exists(name, path) for name in REGISTRY)


def _exists(name: str, path: Path) -> bool:
    try:
        return backend_class(name).exists(path)
    except UsageError:  # an engine that is not installed has no index here that we can read
        return False


def read_meta(path: Path) -> IndexMeta:
    """The metadata of the index in ``path``; raises when it is unreadable or too new or old."""
    try:
        raw = json.loads((path / META_NAME).read_text(encoding="utf-8"))
        version = int(raw["schema_version"])
        language = check_language(str(raw["language"]))
        engine = str(raw.get("engine", LEGACY_ENGINE))
        engine_format = int(raw.get("engine_format", 1))
    except (OSError, ValueError, KeyError, TypeError, UsageError) as exc:
        raise IndexCorruptError(
            f"the index in {path} has no readable {META_NAME}: rebuild it with "
            f"{rebuild_hint(path)}"
        ) from exc
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the index in {path} has schema version {version}, newer than this "
            f"searchlib's {SCHEMA_VERSION}: upgrade searchlib or rebuild the index"
        )
    if version < SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the index in {path} has schema version {version}, older than this "
            f"searchlib's {SCHEMA_VERSION}: rebuild it with {rebuild_hint(path)}"
        )
    return IndexMeta(version, language, engine, engine_format)


def check_engine(path: Path, meta: IndexMeta) -> None:
    """Refuse an index whose engine format this searchlib cannot read."""
    current = backend_class(meta.engine).format_version
    if meta.engine_format != current:
        newer = "newer" if meta.engine_format > current else "older"
        raise SchemaVersionError(
            f"the index in {path} has {meta.engine} format {meta.engine_format}, {newer} than "
            f"this searchlib's {current}: rebuild it with {rebuild_hint(path)}"
        )


def write_meta(path: Path, language: str, engine: str = DEFAULT_BACKEND) -> IndexMeta:
    """Write ``searchlib.json`` for a new index."""
    meta = IndexMeta(SCHEMA_VERSION, language, engine, backend_class(engine).format_version)
    (path / META_NAME).write_text(json.dumps(meta.to_json(), indent=2) + "\n", encoding="utf-8")
    return meta


def owned_files(folder: Path) -> list[Path]:
    """Every file and folder in ``folder`` that belongs to a searchlib index."""
    if not folder.is_dir():
        return []
    owned = {
        entry for entry in folder.iterdir()
        if entry.name.startswith((".manifest-", ".synonyms-"))
        or entry.name in (MANIFEST_NAME, META_NAME, SYNONYMS_NAME)
    }
    for name in REGISTRY:
        try:
            owned.update(backend_class(name).owned_files(folder))
        except UsageError:
            continue
    return sorted(owned)


def remove_index_files(folder: Path, *, keep_synonyms: bool = False) -> None:
    """Delete the files of a searchlib index in ``folder``, and nothing else there
    (``keep_synonyms``: but its synonyms, settings that a rebuild keeps)."""
    for entry in owned_files(folder):
        if keep_synonyms and entry.name == SYNONYMS_NAME:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        elif entry.exists() or entry.is_symlink():
            entry.unlink()


class IndexStore:
    """An open index: its folder (or none, in memory), engine, language and manifest.

    Opens the index in ``path`` with the engine recorded in its metadata, or creates one
    (``backend`` chooses the engine of a new index). The engine never sees the folder's
    metadata or manifest; this class keeps both in step with the engine's commits.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        language: str | None,
        create: bool,
        lock_timeout: float,
        backend: str | None,
        backend_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.path = path
        #: Passed to the engine's ``create``/``open`` (a cluster's nodes), when given.
        self.backend_options = dict(backend_options or {})
        self.lock_timeout = lock_timeout
        self._manifest = Manifest(generation=0)  # an in-memory index's manifest
        requested = check_language(language) if language is not None else None
        if path is not None and has_index(path):
            meta = read_meta(path)
            if requested is not None and requested != meta.language:
                raise UsageError(
                    f"the index in {path} is in {meta.language}, not {requested}: "
                    "rebuild it to change its language"
                )
            if backend is not None and backend != meta.engine:
                raise UsageError(
                    f"the index in {path} uses the {meta.engine} backend, not {backend}: "
                    f"rebuild it to change its backend ('search index --rebuild --backend "
                    f"{backend} PATH --index {path}')"
                )
            check_engine(path, meta)
            self.language, self.engine = meta.language, meta.engine
            with self.recovery():
                self.backend = backend_class(meta.engine).open(
                    path, self.language, lock_timeout=lock_timeout, **self.backend_options
                )
        elif create or path is None:
            self.language = requested or DEFAULT_LANGUAGE
            self.engine = backend or DEFAULT_BACKEND
            self.backend = self._create()
        else:
            raise IndexNotFoundError(
                f"no index in {path}: create one with 'search index PATH --index {path}'"
            )

    def _create(self) -> Backend:
        cls = backend_class(self.engine)
        if self.path is None:
            return cls.create(None, self.language)
        try:
            backend = cls.create(
                self.path, self.language, lock_timeout=self.lock_timeout,
                **self.backend_options,
            )
            write_meta(self.path, self.language, self.engine)
            Manifest(generation=backend.generation()).save(self.path)
        except OSError as exc:
            raise SearchIndexError(
                f"cannot create an index in {self.path}: {exc.strerror or exc}"
            ) from exc
        return backend

    def wipe(self) -> None:
        """Delete the index (only its own files) and create an empty one.

        The synonyms stay: they are settings of the index, not derived from the source files.
        """
        clear = getattr(self.backend, "clear", None)
        if clear is not None:
            clear()  # an index that lives outside the folder (a cluster's collection)
        self.backend.close()
        if self.path is not None:
            remove_index_files(self.path, keep_synonyms=True)
        self._manifest = Manifest(generation=0)
        self.backend = self._create()

    def writing(self) -> AbstractContextManager[object]:
        """The writer lock of the folder (nothing for an in-memory index)."""
        if self.path is None:
            return nullcontext()
        return WriterLock(self.path, timeout=self.lock_timeout)

    def manifest(self) -> Manifest:
        """The manifest of indexed files, rebuilt from the index if it lags behind a commit."""
        if self.path is None:
            return self._manifest
        interrupted = getattr(self.backend, "write_interrupted", None)
        if interrupted is not None and interrupted():
            # An engine whose writes are not atomic (a cluster) holds part of a write that no
            # manifest describes: rebuilt from what the index holds, every file read again.
            from .indexer import manifest_from_records

            return manifest_from_records(self.backend, interrupted=True)
        generation = self.backend.generation()
        manifest = Manifest.load(self.path)
        remote = getattr(self.backend, "load_manifest", None)
        if remote is not None:
            # An index in a cluster keeps its manifest there: the one of the last commit,
            # whichever machine made it (this folder's may be new, or behind).
            shared = Manifest.from_text(remote())
            if shared is not None and shared.generation == generation:
                manifest = shared
        if manifest is None or manifest.generation != generation:
            from .indexer import manifest_from_records  # only to recover a lost manifest

            manifest = manifest_from_records(self.backend)
        return manifest

    def save_manifest(self, manifest: Manifest) -> None:
        """Keep ``manifest`` (atomically on disk, after the commit it describes)."""
        if self.path is None:
            self._manifest = manifest
        else:
            manifest.save(self.path)
            remote = getattr(self.backend, "save_manifest", None)
            if remote is not None:
                remote(manifest.to_text(), manifest.generation)

    def files(self) -> int:
        """How many source files the index holds."""
        manifest = Manifest.load(self.path) if self.path is not None else self._manifest
        if manifest is not None:
            return len(manifest.files)
        return sum(1 for _ in self.backend.records(kind="article"))

    @contextmanager
    def recovery(self) -> Iterator[None]:
        """Add the way back to a damaged-index error: rebuild from the source files."""
        try:
            yield
        except IndexCorruptError as exc:
            if self.path is None or "rebuild" in str(exc):
                raise
            raise IndexCorruptError(
                f"{exc}: rebuild it from the source files with {rebuild_hint(self.path)}"
            ) from exc


def remove_index(
    path: str | os.PathLike[str], *, lock_timeout: float = 0.0, keep_synonyms: bool = False
) -> None:
    """Delete the index in ``path`` (only its own files), waiting for the writer lock.

    The way back from a damaged index or one of another schema version: remove it, then index
    the source files again (``search index --rebuild`` does both, with ``keep_synonyms``:
    the synonyms are settings of the index, not derived from its source files).
    """
    folder = Path(path)
    if not folder.is_dir():
        return
    with WriterLock(folder, timeout=lock_timeout):
        remove_index_files(folder, keep_synonyms=keep_synonyms)
