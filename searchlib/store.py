"""The index folder: ``searchlib.json`` (schema version, engine, engine format, language), and
which files in the folder belong to the index.

An index folder holds the engine's own files, the manifest of source files
(``manifest.json``), this metadata, and the writer lock. Nothing else there is touched.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .analysis import check_language
from .backends import DEFAULT_BACKEND, REGISTRY, backend_class
from .errors import IndexCorruptError, SchemaVersionError, UsageError
from .manifest import MANIFEST_NAME

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
        if entry.name.startswith(".manifest-") or entry.name in (MANIFEST_NAME, META_NAME)
    }
    for name in REGISTRY:
        try:
            owned.update(backend_class(name).owned_files(folder))
        except UsageError:
            continue
    return sorted(owned)


def remove_index_files(folder: Path) -> None:
    """Delete the files of a searchlib index in ``folder``, and nothing else there."""
    for entry in owned_files(folder):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        elif entry.exists() or entry.is_symlink():
            entry.unlink()
