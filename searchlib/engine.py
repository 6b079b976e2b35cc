"""``Engine``: the one object users hold, from a script, the CLI or a long-lived service.

Example::

    from searchlib import Engine

    with Engine("index") as engine:
        engine.index(["articles/"])
        results = engine.search("facial recognition", topics=["AI"], limit=5)
        for hit in results.hits:
            print(hit.rank, hit.title)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from .analysis import DEFAULT_LANGUAGE, check_language
from .backends import DEFAULT_BACKEND, backend_class
from .backends.base import Backend
from .documents import DEFAULT_MAX_FILE_BYTES
from .errors import (
    IndexCorruptError,
    IndexNotFoundError,
    NotFoundError,
    SearchIndexError,
    UsageError,
)
from .indexer import (
    DEFAULT_BATCH_FILES,
    Indexer,
    IndexReport,
    ProgressCallback,
    manifest_from_records,
)
from .locking import WriterLock
from .manifest import Manifest
from .request import MAX_FACET_SIZE, MAX_LIMIT, MAX_OFFSET, build_request, check_facet
from .results import Facet, Hit, SearchResults
from .schema import KINDS, FeedbackMode, MatchMode, Sort
from .searching import SearchPipeline
from .searching.hits import detailed_hit
from .store import (
    SCHEMA_VERSION,
    check_engine,
    has_index,
    read_meta,
    rebuild_hint,
    remove_index_files,
    write_meta,
)

__all__ = [
    "KINDS", "MAX_FACET_SIZE", "MAX_LIMIT", "MAX_OFFSET", "Engine", "Stats", "remove_index",
]


@dataclass(frozen=True)
class Stats:
    """What an index holds. ``to_dict()`` is ``search stats --json``."""

    path: str
    documents: int
    articles: int
    related: int
    files: int
    topics: int
    providers: int
    size_bytes: int
    language: str
    schema_version: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "path": self.path, "documents": self.documents,
            "by_kind": {"article": self.articles, "related": self.related},
            "files": self.files, "topics": self.topics, "providers": self.providers,
            "size_bytes": self.size_bytes, "language": self.language,
            "schema_version": self.schema_version,
        }


class Engine:
    """An index folder: build it, keep it in sync with source files, search it.

    Thread-safe: one engine can serve searches from many threads while one of them indexes.
    Searches see the latest commit. Use as a context manager, or call :meth:`close`.
    ``backend`` chooses the engine of a new index (``whoosh``, the default); an existing index
    opens with the engine it was built with. ``cache_mb`` is how many megabytes of decoded
    postings the whoosh backend keeps between searches (default 64; 0 keeps none), so that
    common and repeated words cost nothing after their first search; engines without such a
    cache ignore it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        *,
        language: str | None = None,
        create: bool = True,
        lock_timeout: float = 0.0,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        backend: str | None = None,
        cache_mb: float | None = None,
    ) -> None:
        if cache_mb is not None and (
            isinstance(cache_mb, bool) or not isinstance(cache_mb, (int, float))
            or not cache_mb >= 0 or cache_mb == float("inf")
        ):
            raise UsageError(
                f"cache_mb must be a number of megabytes, 0 or more, not {cache_mb!r}"
            )
        self.path = None if path is None else Path(path)
        self.lock_timeout = lock_timeout
        self.max_file_bytes = max_file_bytes
        self._write_lock = threading.Lock()
        self._backend: Backend | None = None
        self._memory_manifest = Manifest(generation=0)
        requested = check_language(language) if language is not None else None
        if self.path is not None and has_index(self.path):
            meta = read_meta(self.path)
            if requested is not None and requested != meta.language:
                raise UsageError(
                    f"the index in {self.path} is in {meta.language}, not {requested}: "
                    "rebuild it to change its language"
                )
            if backend is not None and backend != meta.engine:
                raise UsageError(
                    f"the index in {self.path} uses the {meta.engine} backend, not {backend}: "
                    "rebuild it to change its backend"
                )
            check_engine(self.path, meta)
            self.language, self.backend_name = meta.language, meta.engine
            with self._recovery():
                self._backend = backend_class(meta.engine).open(
                    self.path, self.language, lock_timeout=lock_timeout
                )
        elif create or self.path is None:
            self.language = requested or DEFAULT_LANGUAGE
            self.backend_name = backend or DEFAULT_BACKEND
            self._backend = self._create()
        else:
            raise IndexNotFoundError(
                f"no index in {self.path}: create one with 'search index PATH --index {self.path}'"
            )
        if cache_mb is not None:
            set_cache = getattr(self.backend, "set_cache_mb", None)
            if set_cache is not None:
                set_cache(cache_mb)
        self.pipeline = SearchPipeline(self.backend, self.language)

    @classmethod
    def in_memory(cls, *, language: str | None = None, backend: str = "memory") -> Engine:
        """An index that lives in memory only: for tests and throwaway use."""
        return cls(None, language=language, backend=backend)

    # -- lifecycle ---------------------------------------------------------------------------

    def _create(self) -> Backend:
        cls = backend_class(self.backend_name)
        if self.path is None:
            return cls.create(None, self.language)
        try:
            backend = cls.create(self.path, self.language, lock_timeout=self.lock_timeout)
            write_meta(self.path, self.language, self.backend_name)
            Manifest(generation=backend.generation()).save(self.path)
        except OSError as exc:
            raise SearchIndexError(
                f"cannot create an index in {self.path}: {exc.strerror or exc}"
            ) from exc
        return backend

    @contextmanager
    def _recovery(self) -> Iterator[None]:
        """Add the way back to a damaged-index error: rebuild from the source files."""
        try:
            yield
        except IndexCorruptError as exc:
            if self.path is None or "rebuild" in str(exc):
                raise
            raise IndexCorruptError(
                f"{exc}: rebuild it from the source files with {rebuild_hint(self.path)}"
            ) from exc

    @property
    def backend(self) -> Backend:
        """The open backend (raises once the engine is closed)."""
        if self._backend is None:
            raise UsageError("the engine is closed")
        return self._backend

    def close(self) -> None:
        """Release the searcher and index files. The engine cannot be used afterwards."""
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- indexing ----------------------------------------------------------------------------

    def index(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        rebuild: bool = False,
        progress: ProgressCallback | None = None,
        batch_files: int = DEFAULT_BATCH_FILES,
    ) -> IndexReport:
        """Bring the index in line with the files under ``paths`` and report what changed.

        New files are added, changed ones updated, and files that vanished from these folders
        removed. ``rebuild=True`` starts from an empty index. Files that cannot be parsed are
        listed in ``report.failed`` and skipped; they never stop the run.
        """
        roots = [Path(p) for p in paths]
        if not roots:
            raise UsageError("give at least one file or folder to index")
        if self.path is None:
            with self._write_lock, self._recovery():
                if rebuild:
                    self._wipe()
                indexer = Indexer(
                    self.backend, self._memory_manifest, save_manifest=self._keep_manifest,
                    max_file_bytes=self.max_file_bytes, batch_files=batch_files,
                )
                return indexer.run(roots, progress=progress)
        folder = self.path
        with self._write_lock, WriterLock(folder, timeout=self.lock_timeout), self._recovery():
            if rebuild:
                self._wipe()
            manifest = Manifest.load(folder)
            if manifest is None or manifest.generation != self.backend.generation():
                manifest = manifest_from_records(self.backend)
            indexer = Indexer(
                self.backend, manifest, save_manifest=lambda m: m.save(folder),
                max_file_bytes=self.max_file_bytes, batch_files=batch_files,
            )
            return indexer.run(roots, progress=progress)

    def _keep_manifest(self, manifest: Manifest) -> None:
        self._memory_manifest = manifest

    def _wipe(self) -> None:
        """Delete this index's files (and only them) and create an empty index."""
        self.close()
        if self.path is not None:
            remove_index_files(self.path)
        self._memory_manifest = Manifest(generation=0)
        self._backend = self._create()
        self.pipeline = SearchPipeline(self._backend, self.language)

    # -- reading -----------------------------------------------------------------------------

    def search(
        self,
        text: str = "",
        *,
        topics: Sequence[str] = (),
        providers: Sequence[str] = (),
        kind: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        sort: Sort = "relevance",
        limit: int = 10,
        offset: int = 0,
        facet_size: int = 10,
        match: MatchMode = "auto",
        feedback: FeedbackMode = "auto",
        strict: bool = False,
    ) -> SearchResults:
        """Search the index.

        ``text`` uses the query language (see the README): words, ``"phrases"``, ``-word``,
        ``OR``, ``(groups)``, ``field:value``, ``prefix*``, ``fuzzy~``. Filters are structured:
        several ``topics`` (or ``providers``) match any of them; filters of different kinds all
        apply; their values match whatever their case, accents or spacing (``reuters`` finds
        ``Reuters``). ``since``/``until`` take ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ISO 8601
        and are inclusive, in UTC. Raises :class:`~searchlib.errors.UsageError` for bad
        arguments.

        Any text is searched, as a search box should: syntax that cannot be parsed is read as
        plain words and a text over 1,000 characters is searched by its first words (see
        :func:`~searchlib.query.parse_lenient`), and :attr:`SearchResults.notices` says what
        was reinterpreted. ``strict=True``, for programs that build queries, raises
        :class:`~searchlib.errors.QueryError` (with the ``position`` of the problem) instead.

        ``match``: ``auto`` needs every word of a query of up to 3 words (any word when no
        document has them all) and ranks longer queries by any word, documents with every word
        first; ``all`` and ``any`` force a mode. ``feedback``: ``auto`` expands queries of more
        than 3 words ranked by relevance with words of their top documents (RM3), ``on``
        expands every such query, ``off`` none; the added words are in
        :attr:`SearchResults.feedback`.
        """
        request = build_request(
            text, topics=topics, providers=providers, kind=kind, since=since, until=until,
            sort=sort, limit=limit, offset=offset, facet_size=facet_size, match=match,
            feedback=feedback, strict=strict,
        )
        self.backend  # noqa: B018 - raises once the engine is closed
        with self._recovery():
            results = self.pipeline.search(request)
        if request.notices:
            return replace(results, query=text, notices=request.notices)
        return results

    def facet(
        self,
        name: str,
        text: str = "",
        *,
        topics: Sequence[str] = (),
        providers: Sequence[str] = (),
        kind: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        limit: int | None = None,
        sort: Sort = "relevance",
        match: MatchMode = "auto",
        feedback: FeedbackMode = "auto",
        strict: bool = False,
    ) -> Facet:
        """Every value of one facet (``topic``, ``provider`` or ``kind``) with its count.

        The counts are those of :meth:`search` with the same arguments, over all its matches,
        and just as disjunctive: the facet's own filter is not applied to them. Values are
        sorted by count (highest first), then name. ``limit=None`` returns them all;
        otherwise the first ``limit`` are returned, ``truncated`` is set when more exist, and
        selected values are always listed. Raises :class:`~searchlib.errors.UsageError` for an
        unknown facet and for the arguments :meth:`search` refuses; the query is read as
        :meth:`search` reads it (leniently unless ``strict``).

        Example::

            engine.facet("provider", "vaccine", topics=["Health"])  # all providers, counted
        """
        check_facet(name, limit)
        request = build_request(
            text, topics=topics, providers=providers, kind=kind, since=since, until=until,
            sort=sort, limit=0, offset=0, facet_size=1, match=match, feedback=feedback,
            strict=strict,
        )
        self.backend  # noqa: B018 - raises once the engine is closed
        with self._recovery():
            return self.pipeline.facet(name, request, limit)

    def similar(
        self,
        doc_id: str,
        *,
        limit: int = 10,
        offset: int = 0,
        topics: Sequence[str] = (),
        providers: Sequence[str] = (),
        kind: str | None = None,
    ) -> SearchResults:
        """Documents most like ``doc_id`` (never itself), in the same shape as :meth:`search`."""
        self.get(doc_id)  # raises NotFoundError for an unknown id
        request = build_request(
            "", topics=topics, providers=providers, kind=kind, since=None, until=None,
            sort="relevance", limit=limit, offset=offset, facet_size=10, match="any",
        )
        with self._recovery():
            return self.pipeline.similar(doc_id, request)

    def get(self, doc_id: str) -> Hit:
        """One document with every stored field; raises :class:`NotFoundError` if unknown."""
        if not isinstance(doc_id, str) or not doc_id:
            raise UsageError("a document id must be a non-empty string")
        with self._recovery():
            record = self.backend.get(doc_id)
        if record is None:
            raise NotFoundError(f"no document with id {doc_id!r}")
        return detailed_hit(record)

    def stats(self) -> Stats:
        """Counts, size and settings of the index."""
        with self._recovery():
            info = self.backend.info()
            manifest = Manifest.load(self.path) if self.path is not None else self._memory_manifest
            files = len(manifest.files) if manifest is not None else len(
                list(self.backend.records(kind="article"))
            )
        kinds = info.facets.get("kind", {})
        return Stats(
            path=str(self.path) if self.path is not None else ":memory:",
            documents=info.count, articles=kinds.get("article", 0),
            related=kinds.get("related", 0), files=files,
            topics=len(info.facets.get("topic", {})),
            providers=len(info.facets.get("provider", {})),
            size_bytes=info.size_bytes, language=self.language, schema_version=SCHEMA_VERSION,
        )


def remove_index(path: str | os.PathLike[str], *, lock_timeout: float = 0.0) -> None:
    """Delete the index in ``path`` (only its own files), waiting for the writer lock.

    The way back from a damaged index or one of another schema version: remove it, then index
    the source files again (``search index --rebuild`` does both).
    """
    folder = Path(path)
    if not folder.is_dir():
        return
    with WriterLock(folder, timeout=lock_timeout):
        remove_index_files(folder)
