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

import json
import os
import shutil
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from . import query as q
from .analysis import DEFAULT_LANGUAGE, check_language, fold_value
from .backends.base import FACETS, SORTS, FeedbackMode, MatchMode, SearchRequest, Sort
from .backends.whoosh import WhooshBackend
from .dates import parse_bound
from .documents import DEFAULT_MAX_FILE_BYTES
from .errors import (
    IndexCorruptError,
    IndexNotFoundError,
    NotFoundError,
    SchemaVersionError,
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
from .manifest import MANIFEST_NAME, Manifest
from .results import Facet, Hit, Notice, SearchResults

#: Bumped whenever the schema or analysis changes in a way old indexes cannot serve.
SCHEMA_VERSION = 2
META_NAME = "searchlib.json"
MAX_LIMIT = 1000
MAX_OFFSET = 100_000
#: The most values ``search`` returns per facet (each facet of every search gets this many):
#: enough for any list a person reads. Every value of one facet comes from ``Engine.facet``.
MAX_FACET_SIZE = 1000
KINDS = ("article", "related")


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
            "path": self.path,
            "documents": self.documents,
            "by_kind": {"article": self.articles, "related": self.related},
            "files": self.files,
            "topics": self.topics,
            "providers": self.providers,
            "size_bytes": self.size_bytes,
            "language": self.language,
            "schema_version": self.schema_version,
        }


class Engine:
    """An index folder: build it, keep it in sync with source files, search it.

    Thread-safe: one engine can serve searches from many threads while one of them indexes.
    Searches see the latest commit. Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        language: str | None = None,
        create: bool = True,
        lock_timeout: float = 0.0,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.max_file_bytes = max_file_bytes
        self._write_lock = threading.Lock()
        self._backend: WhooshBackend | None = None
        requested = check_language(language) if language is not None else None
        if WhooshBackend.exists(self.path):
            meta = self._read_meta()
            self.language = meta["language"]
            if requested is not None and requested != self.language:
                raise UsageError(
                    f"the index in {self.path} is in {self.language}, not {requested}: "
                    "rebuild it to change its language"
                )
            self._backend = WhooshBackend.open(
                self.path, self.language, lock_timeout=lock_timeout
            )
        elif create:
            self.language = requested or DEFAULT_LANGUAGE
            self._backend = self._create()
        else:
            raise IndexNotFoundError(
                f"no index in {self.path}: create one with 'search index PATH --index {self.path}'"
            )

    # -- lifecycle ---------------------------------------------------------------------------

    def _read_meta(self) -> dict[str, Any]:
        try:
            meta = json.loads((self.path / META_NAME).read_text(encoding="utf-8"))
            version = int(meta["schema_version"])
            language = check_language(str(meta["language"]))
        except (OSError, ValueError, KeyError, TypeError, UsageError) as exc:
            raise IndexCorruptError(
                f"the index in {self.path} has no readable {META_NAME}: "
                f"rebuild it with 'search index --rebuild PATH --index {self.path}'"
            ) from exc
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"the index in {self.path} has schema version {version}, newer than this "
                f"searchlib's {SCHEMA_VERSION}: upgrade searchlib or rebuild the index"
            )
        if version < SCHEMA_VERSION:
            raise SchemaVersionError(
                f"the index in {self.path} has schema version {version}, older than this "
                f"searchlib's {SCHEMA_VERSION}: rebuild it with "
                f"'search index --rebuild PATH --index {self.path}'"
            )
        return {"language": language, "schema_version": version}

    def _create(self) -> WhooshBackend:
        try:
            backend = WhooshBackend.create(
                self.path, self.language, lock_timeout=self.lock_timeout
            )
            meta = {"schema_version": SCHEMA_VERSION, "language": self.language,
                    "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
            text = json.dumps(meta, indent=2) + "\n"
            (self.path / META_NAME).write_text(text, encoding="utf-8")
            Manifest(generation=backend.generation()).save(self.path)
        except OSError as exc:
            raise SearchIndexError(
                f"cannot create an index in {self.path}: {exc.strerror or exc}"
            ) from exc
        return backend

    @property
    def backend(self) -> WhooshBackend:
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
        with self._write_lock, WriterLock(self.path, timeout=self.lock_timeout):
            if rebuild:
                self._wipe()
            indexer = Indexer(
                self.backend,
                self._load_manifest(),
                save_manifest=lambda m: m.save(self.path),
                max_file_bytes=self.max_file_bytes,
                batch_files=batch_files,
            )
            return indexer.run(roots, progress=progress)

    def _load_manifest(self) -> Manifest:
        manifest = Manifest.load(self.path)
        if manifest is None or manifest.generation != self.backend.generation():
            manifest = manifest_from_records(self.backend)
        return manifest

    def _wipe(self) -> None:
        """Delete this index's files (and only them) and create an empty index."""
        self.close()
        remove_index_files(self.path)
        self._backend = self._create()

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
        parsed, notices = self._parse(text, strict)
        # A query read leniently is searched as its canonical string: what "did you mean"
        # corrects, so that a suggestion is a query that runs as it reads.
        request = self._request(
            q.to_string(parsed) if notices else text, topics=topics, providers=providers,
            kind=kind, since=since, until=until, sort=sort, limit=limit, offset=offset,
            facet_size=facet_size, match=match, feedback=feedback, parsed=parsed,
        )
        results = self.backend.search(request)
        return replace(results, query=text, notices=notices) if notices else results

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
    ) -> Facet:
        """Every value of one facet (``topic``, ``provider`` or ``kind``) with its count.

        The counts are those of :meth:`search` with the same arguments, over all its matches,
        and just as disjunctive: the facet's own filter is not applied to them, so the other
        values of a filtered facet keep their counts. Values are sorted by count (highest
        first), then name. ``limit=None`` returns them all; otherwise the first ``limit`` are
        returned, ``truncated`` is set when more exist, and selected values are always
        listed (after the others, as in :meth:`search`). Values without a match are left out,
        unless selected. Raises :class:`~searchlib.errors.UsageError` for an unknown facet
        and for the arguments :meth:`search` refuses.

        Example::

            engine.facet("provider", "vaccine", topics=["Health"])  # all providers, counted
        """
        if not isinstance(name, str) or name not in FACETS:
            raise UsageError(f"unknown facet {name!r}: choose one of {', '.join(FACETS)}")
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise UsageError(f"limit must be a whole number of at least 1, not {limit!r}")
        request = self._request(
            text, topics=topics, providers=providers, kind=kind, since=since, until=until,
            sort=sort, limit=0, offset=0, facet_size=1, match=match, feedback=feedback,
        )
        # No page, no suggestion; every value of every facet (their counts come in one pass).
        request = replace(request, facet_size=sys.maxsize, suggest=False)
        every = self.backend.search(request).facets[name]
        return _first_values(every, limit)

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
        request = self._request(
            "", topics=topics, providers=providers, kind=kind, since=None, until=None,
            sort="relevance", limit=limit, offset=offset, facet_size=10, match="any",
        )
        return self.backend.similar(doc_id, request)

    def get(self, doc_id: str) -> Hit:
        """One document with every stored field; raises :class:`NotFoundError` if unknown."""
        if not isinstance(doc_id, str) or not doc_id:
            raise UsageError("a document id must be a non-empty string")
        record = self.backend.get(doc_id)
        if record is None:
            raise NotFoundError(f"no document with id {doc_id!r}")
        return self.backend.to_hit(record)

    def stats(self) -> Stats:
        """Counts, size and settings of the index."""
        backend = self.backend
        counts = backend.counts()
        manifest = Manifest.load(self.path)
        files = len(manifest.files) if manifest is not None else len(
            list(backend.records(kind="article"))
        )
        return Stats(
            path=str(self.path),
            documents=backend.doc_count(),
            articles=counts["kind"].get("article", 0),
            related=counts["kind"].get("related", 0),
            files=files,
            topics=len(counts["topic"]),
            providers=len(counts["provider"]),
            size_bytes=backend.size_bytes(),
            language=self.language,
            schema_version=SCHEMA_VERSION,
        )

    # -- validation --------------------------------------------------------------------------

    def _parse(self, text: object, strict: object) -> tuple[q.Node, tuple[Notice, ...]]:
        """The query tree of ``text`` and what reading it leniently changed."""
        if not isinstance(text, str):
            raise UsageError("the query must be a string")
        if not isinstance(strict, bool):
            raise UsageError(f"strict must be True or False, not {strict!r}")
        if strict:
            return q.parse(text), ()
        return q.parse_lenient(text)

    def _request(
        self,
        text: str,
        *,
        topics: Sequence[str],
        providers: Sequence[str],
        kind: str | None,
        since: str | datetime | None,
        until: str | datetime | None,
        sort: str,
        limit: int,
        offset: int,
        facet_size: int,
        match: str,
        feedback: str = "auto",
        parsed: q.Node | None = None,
    ) -> SearchRequest:
        if not isinstance(text, str):
            raise UsageError("the query must be a string")
        if parsed is None:
            parsed = q.parse(text)
        if sort not in SORTS:
            raise UsageError(f"unknown sort {sort!r}: choose one of {', '.join(SORTS)}")
        if match not in ("auto", "all", "any"):
            raise UsageError(f"unknown match mode {match!r}: choose one of auto, all, any")
        if feedback not in ("auto", "on", "off"):
            raise UsageError(f"unknown feedback mode {feedback!r}: choose one of auto, on, off")
        if feedback == "on" and match == "all":
            raise UsageError(
                "feedback 'on' adds documents without every word: not with match 'all'"
            )
        if feedback == "on" and sort != "relevance":
            raise UsageError(f"feedback 'on' changes the ranking: not with sort {sort!r}")
        if kind is not None and fold_value(kind) in KINDS:
            kind = fold_value(kind)  # "Article" is "article", like every facet filter value
        if kind is not None and kind not in KINDS:
            raise UsageError(f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")
        _check_int("limit", limit, 0, MAX_LIMIT)
        _check_int("offset", offset, 0, MAX_OFFSET)
        _check_int("facet_size", facet_size, 1, MAX_FACET_SIZE)
        since_dt = parse_bound(since, "since", end=False)
        until_dt = parse_bound(until, "until", end=True)
        if since_dt is not None and until_dt is not None and since_dt > until_dt:
            raise UsageError("since must not be later than until")
        return SearchRequest(
            text=text,
            query=parsed,
            topics=_values("topic", topics),
            providers=_values("provider", providers),
            kinds=(kind,) if kind else (),
            since=since_dt,
            until=until_dt,
            sort=sort,
            limit=limit,
            offset=offset,
            facet_size=facet_size,
            match=cast(MatchMode, match),
            feedback=cast(FeedbackMode, feedback),
        )


def _first_values(facet: Facet, limit: int | None) -> Facet:
    """``facet`` cut to its first ``limit`` values by count, selected values always kept."""
    # The backend lists the values with a match by count, then selected ones without.
    counted = [v for v in facet.values if v.count > 0]
    if limit is None or len(counted) <= limit:
        return facet
    kept = counted[:limit]
    kept += [v for v in counted[limit:] if v.selected]
    kept += [v for v in facet.values if v.count == 0]
    return Facet(name=facet.name, values=tuple(kept), truncated=True)


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{name} must be a whole number from {low} to {high}, not {value!r}")


def _values(name: str, values: Sequence[str]) -> tuple[str, ...]:
    """Filter values as given, without blank ones and without repeats of one folded key
    (they select the same facet values: ``ai`` and ``AI``)."""
    if isinstance(values, str):
        values = [values]
    out: dict[str, str] = {}
    for value in values:
        if not isinstance(value, str):
            raise UsageError(f"{name} filter values must be strings, not {value!r}")
        key = fold_value(value)
        if key:
            out.setdefault(key, value)
    return tuple(out.values())


def remove_index_files(folder: Path) -> None:
    """Delete the files of a searchlib index in ``folder``, and nothing else there."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        name = entry.name
        ours = (
            name.startswith(("MAIN_", "_MAIN_", ".manifest-"))
            or name in (MANIFEST_NAME, META_NAME)
            or name.endswith((".seg", ".toc"))
        )
        if ours and entry.is_file():
            entry.unlink()
        elif ours and entry.is_dir():
            shutil.rmtree(entry)


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
