"""The Whoosh backend: schema, writer, searcher lifecycle, query compilation, facets.

Every line of Whoosh-specific code lives here (and in ``whoosh_analysis``, the pickled analyzer).
The traps of Whoosh 2.7.5 that shape this module (DESIGN §3):

- ``Searcher.refresh()`` can bring merged-away segments back: it is never called; a new
  searcher is opened when the index has a newer commit, and the old one closed.
- ``DATETIME`` drops UTC offsets: datetimes are stored naive, in UTC.
- ``NUMERIC(float, sortable=True)`` crashes: quality is an int.
- Two ``update_document()`` calls for one id in one writer keep both: batches are de-duplicated.
- ``groupedby`` facets are slow: facet counts come from a per-searcher cache of value -> doc set,
  intersected with the matching doc set.
"""

from __future__ import annotations

import json
import math
import pickle
import re
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.index import LockError
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.sorting import FieldFacet, MultiFacet, ScoreFacet

from .. import query as q
from ..analysis import Analyzer
from ..errors import IndexCorruptError, IndexLockedError
from ..manifest import fsync_path
from ..results import EmptyFilters, Hit, SearchResults
from .base import FACETS, Record, SearchRequest
from .whoosh_analysis import NltkAnalyzer
from .whoosh_facets import FacetCache, build_facet, facet_key
from .whoosh_feedback import (
    DEFAULT_FEEDBACK,
    FeedbackSettings,
    expand,
    nested_negation,
    relevance_model,
    typed_words,
)
from .whoosh_query import Compiled, QueryCompiler

#: Queries with more words than this rank documents with any word (those with all first).
SHORT_QUERY_WORDS = 3
#: Fewer matches than this make a search look for a "did you mean" suggestion.
SUGGEST_BELOW = 3
_INDEX_NAME = "MAIN"
_NO_QUALITY = -(2**31)


def build_schema(language: str) -> Schema:
    """The index schema: searchable text, facet keys, sortable columns, stored display fields."""
    stemmed = NltkAnalyzer(language)
    plain = NltkAnalyzer(language, stem=False, stopwords=False)
    return Schema(
        id=ID(stored=True, unique=True),
        kind=ID(stored=True),
        title=TEXT(analyzer=stemmed, stored=True),
        excerpt=TEXT(analyzer=stemmed, stored=True),
        body=TEXT(analyzer=stemmed, stored=True),
        # Related titles only add weight to an article; phrases across them mean nothing.
        related=TEXT(analyzer=stemmed, phrase=False),
        # Unstemmed words of titles and excerpts: the vocabulary "did you mean" draws from.
        spell=TEXT(analyzer=plain, phrase=False),
        provider=ID(stored=True, sortable=True),
        provider_text=TEXT(analyzer=plain, phrase=False),
        topic=KEYWORD(commas=True, scorable=False),
        topic_text=TEXT(analyzer=plain, phrase=False),
        published=DATETIME(stored=True, sortable=True),
        # Sort keys that put documents without a date or a quality last in every order.
        dated=COLUMN(NumericColumn("b")),
        quality_rank=COLUMN(NumericColumn("i")),
        quality=STORED,
        # Every facet value of a document in one cell: the facet cache reads it in one pass.
        facet_key=COLUMN(VarBytesColumn()),
        topics=STORED,
        parents=KEYWORD(commas=True, stored=True, scorable=False),
        url=STORED,
        provider_domain=STORED,
        path=STORED,
        content_hash=STORED,
        related_ids=STORED,
        extra=STORED,
    )


# What reading a truncated, deleted or overwritten index file raises.
_DAMAGE: tuple[type[BaseException], ...] = (
    OSError, EOFError, struct.error, zlib.error, pickle.UnpicklingError
)

# Unpickling a damaged table of contents can raise nearly anything.
_OPEN_DAMAGE: tuple[type[BaseException], ...] = (
    *_DAMAGE, ValueError, KeyError, AttributeError, TypeError, IndexError
)


def damaged(path: Path | str, exc: BaseException) -> IndexCorruptError:
    """The error for an index whose files cannot be read, with the way to recover."""
    reason = str(exc) or type(exc).__name__
    return IndexCorruptError(
        f"the index in {path} is damaged ({reason}): rebuild it from the source files with "
        f"'search index --rebuild PATH --index {path}'"
    )


@contextmanager
def _guard(path: Path | str) -> Iterator[None]:
    """Turn errors from damaged index files into :class:`IndexCorruptError`."""
    try:
        yield
    except _DAMAGE as exc:
        raise damaged(path, exc) from exc


class LuceneIdfBM25F(BM25F):  # type: ignore[misc]
    """BM25F with the idf of Lucene and Robertson, ``log(1 + (N - df + 0.5) / (df + 0.5))``.

    Whoosh's ``log(N / (df + 1)) + 1`` gives common words too much weight; on the judged
    collections this idf alone added +0.009 mean average precision (benchmarks/RELEVANCE.md).
    """

    def idf(self, searcher: Searcher, fieldname: str, text: Any) -> float:
        parent = searcher.get_parent()
        df = parent.doc_frequency(fieldname, text)
        total = parent.doc_count_all()
        return math.log(1 + (total - df + 0.5) / (df + 0.5))


def _storage(path: Path) -> FileStorage:
    """Index files read with plain reads, not mmap.

    With mmap, Whoosh 2.7.5 copies every part of a compound segment into a ``BytesIO`` when it
    opens it, so each open searcher holds a full copy of the index (measured on the real corpus:
    +53 MB for a 26 MB index, against +5 MB without mmap, at the same query speed).
    """
    return FileStorage(str(path), supports_mmap=False)


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _aware(value: Any) -> datetime | None:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) else None


class WhooshBackend:
    """A searchlib index stored by Whoosh, on disk or in memory."""

    def __init__(self, ix: Any, language: str, *, lock_timeout: float = 0.0) -> None:
        self._ix = ix
        #: Where the index lives, for error messages.
        self.location = str(getattr(ix.storage, "folder", "memory"))
        self.language = language
        self.lock_timeout = lock_timeout
        self.analyzer = Analyzer(language)
        self._plain = Analyzer(language, stem=False, remove_stopwords=False)
        self._lock = threading.RLock()
        self._searcher: Searcher | None = None
        self._cache: FacetCache | None = None
        self._weighting = LuceneIdfBM25F(B=0.75, K1=1.2)
        self._compiler = QueryCompiler(self.analyzer, self._plain)
        #: RM3 settings for long queries (see ``whoosh_feedback``).
        self.feedback_settings: FeedbackSettings = DEFAULT_FEEDBACK

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, language: str, **kwargs: Any) -> WhooshBackend:
        """Create an empty index in ``path`` (an existing one there is replaced)."""
        path.mkdir(parents=True, exist_ok=True)
        ix = _storage(path).create_index(build_schema(language), indexname=_INDEX_NAME)
        return cls(ix, language, **kwargs)

    @classmethod
    def open(cls, path: Path, language: str, **kwargs: Any) -> WhooshBackend:
        """Open the index in ``path``."""
        try:
            ix = _storage(path).open_index(_INDEX_NAME)
            backend = cls(ix, language, **kwargs)
            backend._current()  # read the segments now: a broken index fails here, not later
            backend.doc_count()
        except _OPEN_DAMAGE as exc:
            raise damaged(path, exc) from exc
        except Exception as exc:  # Whoosh raises many unrelated types for a damaged TOC
            if type(exc).__module__.startswith("whoosh"):
                raise damaged(path, exc) from exc
            raise
        return backend

    @staticmethod
    def exists(path: Path) -> bool:
        """Whether ``path`` holds a Whoosh index."""
        return bool(whoosh_index.exists_in(str(path), indexname=_INDEX_NAME))

    @classmethod
    def in_memory(cls, language: str = "english") -> WhooshBackend:
        """An index in RAM, for tests and throwaway use."""
        storage = RamStorage()
        ix = storage.create_index(build_schema(language), indexname=_INDEX_NAME)
        return cls(ix, language)

    def close(self) -> None:
        """Close the searcher and the index."""
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
            self._searcher = None
            self._cache = None
            self._ix.close()

    # -- writing -----------------------------------------------------------------------------

    def write(self, records: Iterable[Record], delete_ids: Iterable[str]) -> None:
        """Add or replace ``records`` and delete ``delete_ids``, in one durable commit."""
        batch: dict[str, Record] = {}
        for record in records:
            batch[record.id] = record  # the last version of an id wins (Whoosh would keep both)
        deletes = [doc_id for doc_id in dict.fromkeys(delete_ids) if doc_id not in batch]
        if not batch and not deletes:
            return
        before = self._file_names()
        try:
            # Compound segments (Whoosh's default) cost memory, since Whoosh reads each one
            # whole when it opens it, but they are opened at once: with one file per part, a
            # searcher still in use meets files that a concurrent commit has already deleted.
            writer = self._ix.writer(timeout=self.lock_timeout, limitmb=128)
        except LockError as exc:
            raise IndexLockedError(
                f"index is locked by another writer: {self.location}"
            ) from exc
        try:
            for doc_id in deletes:
                writer.delete_by_term("id", doc_id)
            for record in batch.values():
                writer.update_document(**self._fields(record))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        self._sync(before)

    def _file_names(self) -> set[str]:
        storage = self._ix.storage
        return set() if isinstance(storage, RamStorage) else set(storage.list())

    def _sync(self, before: set[str]) -> None:
        """fsync the files a commit created, then the folder: Whoosh itself never fsyncs.

        Whoosh never rewrites a file in place (segments and tables of contents are new files),
        so the new files and the folder entries naming them are all a commit consists of.
        """
        storage = self._ix.storage
        if isinstance(storage, RamStorage):
            return
        folder = Path(storage.folder)
        for name in sorted(set(storage.list()) - before):
            fsync_path(folder / name)
        fsync_path(folder)

    def _fields(self, r: Record) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "id": r.id,
            "kind": r.kind,
            "title": r.title,
            "excerpt": r.excerpt,
            "body": r.body,
            "related": r.related_text,
            "spell": f"{r.title}\n{r.excerpt}",
            "provider": r.provider,
            "provider_text": r.provider,
            "topic": ",".join(r.topics),
            "facet_key": facet_key(r.kind, r.provider, r.topics),
            "topic_text": "\n".join(r.topics),
            "topics": list(r.topics),
            "parents": ",".join(r.parents),
            "url": r.url,
            "provider_domain": r.provider_domain,
            "path": r.path,
            "content_hash": r.content_hash,
            "related_ids": list(r.related_ids),
            "extra": json.dumps(dict(r.extra), ensure_ascii=False) if r.extra else "",
        }
        published = _naive_utc(r.published)
        fields["dated"] = int(published is not None)
        if published is not None:
            fields["published"] = published
        if r.quality is not None:
            fields["quality"] = r.quality
        fields["quality_rank"] = (
            _NO_QUALITY if r.quality is None else max(_NO_QUALITY + 1, min(2**31 - 1, r.quality))
        )
        return {k: v for k, v in fields.items() if v != "" or k in ("title", "excerpt")}

    # -- reading -----------------------------------------------------------------------------

    def _current(self) -> tuple[Searcher, FacetCache]:
        """The open searcher, replaced by a new one when the index has a newer commit."""
        with self._lock:
            if self._searcher is None or not self._searcher.up_to_date():
                new = self._ix.searcher(weighting=self._weighting)
                old, self._searcher = self._searcher, new
                self._cache = FacetCache(new)
                if old is not None:
                    old.close()
            assert self._cache is not None
            return self._searcher, self._cache

    def generation(self) -> int:
        """The generation number of the latest commit."""
        return int(self._ix.latest_generation())

    def doc_count(self) -> int:
        """Live documents in the index."""
        with self._lock, _guard(self.location):
            searcher, _ = self._current()
            return int(searcher.doc_count())

    def counts(self) -> Mapping[str, Mapping[str, int]]:
        """Documents per value, for each facet."""
        with self._lock, _guard(self.location):
            _, cache = self._current()
            return {name: {v: len(d) for v, d in cache.values(name).items()} for name in FACETS}

    def size_bytes(self) -> int:
        """Bytes used by the index files."""
        storage = self._ix.storage
        if isinstance(storage, RamStorage):
            return sum(storage.file_length(name) for name in storage.list())
        folder = Path(storage.folder)
        return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())

    def get(self, doc_id: str) -> Record | None:
        """The stored record with that id."""
        with self._lock, _guard(self.location):
            searcher, _ = self._current()
            stored = searcher.document(id=doc_id)
            return None if stored is None else self._record(stored)

    def records(self, *, kind: str | None = None) -> Iterator[Record]:
        """Every stored record, optionally of one kind (a snapshot of the current commit)."""
        with self._lock, _guard(self.location):
            searcher, _ = self._current()
            stored = [
                fields for _, fields in searcher.reader().iter_docs()
                if kind is None or fields.get("kind") == kind
            ]
        for fields in stored:
            yield self._record(fields)

    @staticmethod
    def _record(stored: Mapping[str, Any]) -> Record:
        extra = stored.get("extra") or ""
        return Record(
            id=stored["id"],
            kind=stored.get("kind", "article"),
            title=stored.get("title", ""),
            excerpt=stored.get("excerpt", ""),
            url=stored.get("url", ""),
            provider=stored.get("provider", ""),
            published=_aware(stored.get("published")),
            quality=stored.get("quality"),
            topics=tuple(stored.get("topics") or ()),
            parents=tuple(p for p in (stored.get("parents") or "").split(",") if p),
            body=stored.get("body", ""),
            provider_domain=stored.get("provider_domain", ""),
            path=stored.get("path", ""),
            content_hash=stored.get("content_hash", ""),
            related_ids=tuple(stored.get("related_ids") or ()),
            extra=json.loads(extra) if extra else {},
        )

    def to_hit(self, record: Record) -> Hit:
        """A hit for a stored record with every stored field (``show``)."""
        details: dict[str, Any] = {
            "body": record.body,
            "path": record.path,
            "provider_domain": record.provider_domain,
            "related": list(record.related_ids),
            "extra": dict(record.extra),
        }
        return Hit(
            id=record.id, kind=record.kind, title=record.title, excerpt=record.excerpt,
            url=record.url, provider=record.provider, published=record.published,
            topics=record.topics, parents=record.parents, quality=record.quality,
            details=details,
        )

    # -- searching ---------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResults:
        """Run a search: ranked page, total, disjunctive facets, highlights, suggestion.

        Match modes: ``all`` (every word), ``any`` (any word), and ``auto``, the default:
        a short query (up to :data:`SHORT_QUERY_WORDS` words) must match every word; a longer
        one, or a short one that no document matches in full, is *tiered*: any word matches,
        and documents with every word rank first. ``benchmarks/RELEVANCE.md`` has the numbers.

        Only the fallback of a short query is ``relaxed`` (with the ``missing`` words): long
        queries rank by any word by design. A search that its filters emptied names them in
        ``empty_filters``.
        """
        started = time.perf_counter()
        with self._lock, _guard(self.location):
            searcher, cache = self._current()
            plan = self._plan(searcher, cache, request)

            def total(variant: SearchRequest) -> int:
                matched = self._plan(searcher, cache, variant).matched
                return len(self._apply_filters(searcher, cache, variant, matched))

            return self._run(
                searcher, cache, request, plan.compiled, plan.matched, started,
                fell_back=plan.fell_back, feedback=plan.feedback, total=total,
            )

    def _plan(self, searcher: Searcher, cache: FacetCache, request: SearchRequest) -> _Plan:
        """How ``request`` is run: its compiled query (after the match mode and feedback
        decisions) and the documents that query matches before filters."""
        fell_back = False
        matched: frozenset[int] | None = None
        if request.match == "any":
            compiled = self._compiler.compile(request.query, "any")
        elif request.match == "all":
            compiled = self._compiler.compile(request.query, "all")
        else:
            compiled = self._compiler.compile(request.query, "all")
            if compiled.positive_clauses > SHORT_QUERY_WORDS:
                compiled = self._compiler.tiered(request.query)
            elif compiled.positive_clauses > 1:
                matched = self._matching(searcher, cache, compiled.match)
                if not self._apply_filters(searcher, cache, request, matched):
                    # Nothing has every word: rank the documents that have some of them.
                    compiled = self._compiler.tiered(request.query)
                    fell_back = True
                    matched = None
        feedback: tuple[str, ...] = ()
        if self._feedback_applies(request, compiled):
            compiled, feedback = self._with_feedback(searcher, cache, request, compiled)
            matched = None
        if matched is None:
            matched = self._matching(searcher, cache, compiled.match)
        return _Plan(compiled, matched, fell_back, feedback)

    def _feedback_applies(self, request: SearchRequest, compiled: Compiled) -> bool:
        """Whether the search is expanded by pseudo-relevance feedback (RM3).

        ``auto`` expands queries of more than :data:`SHORT_QUERY_WORDS` words ranked by
        relevance, which are tiered; short queries keep meaning "documents with my words".
        Never with ``match="all"`` or a ``NOT`` inside a group (whose scope the added words
        could not respect).
        """
        if (
            request.feedback == "off"
            or request.sort != "relevance"
            or request.match == "all"
            or compiled.match is None
            or compiled.positive_clauses == 0
            or nested_negation(request.query)
        ):
            return False
        return request.feedback == "on" or compiled.positive_clauses > SHORT_QUERY_WORDS

    def _with_feedback(
        self, searcher: Searcher, cache: FacetCache, request: SearchRequest, compiled: Compiled
    ) -> tuple[Compiled, tuple[str, ...]]:
        """``compiled`` expanded with the words of its own top documents, and those words."""
        settings = self.feedback_settings
        filters = self._filter_sets(searcher, cache, request)
        allowed: set[int] | None = None
        if filters:
            matched = self._matching(searcher, cache, compiled.match)
            allowed = set(self._apply_filters(searcher, cache, request, matched))
            if not allowed:
                return compiled, ()
        first = searcher.search(compiled.match, filter=allowed, limit=settings.docs, terms=False)
        top = [(hit.docnum, float(hit.score)) for hit in first]
        keep = None
        if settings.max_df < 1.0:
            most = settings.max_df * searcher.doc_count_all()

            def keep(term: str) -> bool:
                return all(searcher.doc_frequency(f, term) <= most for f in ("title", "excerpt"))

        model = relevance_model(searcher, self.analyzer, top, settings.terms, keep)
        original = Counter(
            term for word in typed_words(request.query) for term in self.analyzer.terms(word)
        )
        match = expand(
            self._compiler, compiled, original, model, settings.original_weight,
            self._compiler.excluded(request.query),
        )
        if match is compiled.match:
            return compiled, ()
        added = tuple(word.surface for word in model if word.term not in original)
        return Compiled(match, compiled.highlight, compiled.positive_clauses), added

    def similar(self, doc_id: str, request: SearchRequest) -> SearchResults:
        """Documents sharing the most distinctive terms of ``doc_id``."""
        started = time.perf_counter()
        with self._lock, _guard(self.location):
            searcher, cache = self._current()
            stored = searcher.document(id=doc_id)
            text = ""
            if stored is not None:
                text = f"{stored.get('title') or ''} {stored.get('excerpt') or ''}"
            terms: list[tuple[str, float]] = []
            if text.strip():
                terms = searcher.key_terms_from_text("excerpt", text, numterms=12)
            clauses = [
                self._compiler.any_field(term, boost=max(weight, 0.01)) for term, weight in terms
            ]
            match = wq.Or(clauses) if clauses else None
            compiled = Compiled(match, match, len(clauses))
            matched = self._matching(searcher, cache, match)
            request = SearchRequest(
                text=request.text, query=request.query, topics=request.topics,
                providers=request.providers, kinds=request.kinds, since=request.since,
                until=request.until, sort=request.sort, limit=request.limit,
                offset=request.offset, facet_size=request.facet_size,
                exclude_ids=(*request.exclude_ids, doc_id), suggest=False,
            )

            def total(variant: SearchRequest) -> int:
                return len(self._apply_filters(searcher, cache, variant, matched))

            return self._run(searcher, cache, request, compiled, matched, started, total=total)

    def _matching(
        self, searcher: Searcher, cache: FacetCache, match: wq.Query | None
    ) -> frozenset[int]:
        if match is None:
            return frozenset()
        if isinstance(match, wq.Every):
            return cache.all_docs
        return frozenset(searcher.docs_for_query(match))

    def _filter_sets(
        self, searcher: Searcher, cache: FacetCache, request: SearchRequest
    ) -> dict[str, frozenset[int]]:
        """The doc set each active filter allows, keyed by facet name (or ``date``/``exclude``)."""
        sets: dict[str, frozenset[int]] = {}
        for name, selected in (
            ("topic", request.topics), ("provider", request.providers), ("kind", request.kinds)
        ):
            if selected:
                # Filter values match written values case- and accent-insensitively.
                values = cache.values(name)
                union: set[int] = set()
                for value in cache.matching(name, selected):
                    union.update(values[value])
                sets[name] = frozenset(union)
        if request.since is not None or request.until is not None:
            date_range = wq.DateRange(
                "published", _naive_utc(request.since), _naive_utc(request.until)
            )
            sets["date"] = frozenset(searcher.docs_for_query(date_range))
        if request.exclude_ids:
            excluded = {
                n for doc_id in request.exclude_ids
                for n in searcher.docs_for_query(wq.Term("id", doc_id))
            }
            sets["exclude"] = cache.all_docs - excluded
        return sets

    def _apply_filters(
        self,
        searcher: Searcher,
        cache: FacetCache,
        request: SearchRequest,
        matched: frozenset[int],
        *,
        skip: str | None = None,
    ) -> frozenset[int]:
        result = matched
        for name, allowed in self._filter_sets(searcher, cache, request).items():
            if name != skip:
                result = result & allowed
        return result

    def _run(
        self,
        searcher: Searcher,
        cache: FacetCache,
        request: SearchRequest,
        compiled: Compiled,
        matched: frozenset[int],
        started: float,
        *,
        fell_back: bool = False,
        feedback: tuple[str, ...] = (),
        total: Callable[[SearchRequest], int] | None = None,
    ) -> SearchResults:
        """The results of ``compiled`` (matching ``matched`` before filters) for ``request``.

        ``total`` gives the total of the same search with other filters: it explains a search
        that its filters emptied (:meth:`_empty_filters`).
        """
        filters = self._filter_sets(searcher, cache, request)

        def narrowed(skip: str | None) -> frozenset[int]:
            result = matched
            for name, allowed in filters.items():
                if name != skip:
                    result = result & allowed
            return result

        hit_docs = narrowed(None)
        facets = {
            name: build_facet(cache, name, narrowed(name), selected, request.facet_size)
            for name, selected in (
                ("topic", request.topics),
                ("provider", request.providers),
                ("kind", request.kinds),
            )
        }
        page = self._page(searcher, request, compiled, hit_docs, filtered=bool(filters))
        hits = tuple(hit for _, hit in page)
        # "Relaxed" is the fallback of a short query from every word to any word, only: long
        # queries rank documents with any word by design.
        relaxed = fell_back and bool(hit_docs)
        missing = (
            self._missing(searcher, request.query, [docnum for docnum, _ in page])
            if relaxed else ()
        )
        empty = None
        if not hit_docs and total is not None:
            empty = _empty_filters(request, total)
        suggestion = None
        if request.suggest and (fell_back or len(hit_docs) < SUGGEST_BELOW):
            suggestion = self._suggest(
                searcher, cache, request, 0 if fell_back else len(hit_docs)
            )
        return SearchResults(
            query=request.text,
            total=len(hit_docs),
            offset=request.offset,
            limit=request.limit,
            took_ms=(time.perf_counter() - started) * 1000,
            hits=hits,
            facets=facets,
            suggestion=suggestion,
            feedback=feedback,
            relaxed=relaxed,
            missing=missing,
            empty_filters=empty,
        )

    def _page(
        self,
        searcher: Searcher,
        request: SearchRequest,
        compiled: Compiled,
        hit_docs: frozenset[int],
        *,
        filtered: bool,
    ) -> list[tuple[int, Hit]]:
        """The hits of the requested page, each with its docnum."""
        if not hit_docs or request.limit == 0 or request.offset >= len(hit_docs):
            return []
        window = request.offset + request.limit
        match = compiled.match if compiled.match is not None else wq.NullQuery
        dated_first = FieldFacet("dated", reverse=True)
        newest = MultiFacet([dated_first, FieldFacet("published", reverse=True)])
        sortedby: Any
        if request.sort == "newest":
            sortedby = newest
        elif request.sort == "oldest":
            sortedby = MultiFacet([dated_first, FieldFacet("published")])
        elif request.sort == "quality":
            sortedby = MultiFacet(
                [FieldFacet("quality_rank", reverse=True), dated_first,
                 FieldFacet("published", reverse=True)]
            )
        elif isinstance(match, wq.Every):
            sortedby = newest
        else:
            sortedby = MultiFacet(
                [ScoreFacet(), dated_first, FieldFacet("published", reverse=True)]
            )
        allowed = set(hit_docs) if filtered else None
        ranked = not isinstance(match, wq.Every)
        page: list[tuple[int, float | None]] | None = None
        if request.sort == "relevance" and ranked:
            page = self._ranked_page(searcher, match, allowed, request.offset, window)
        if page is None:
            results = searcher.search(
                match, filter=allowed, limit=window, sortedby=sortedby, terms=False
            )
            page = []
            for hit in results[request.offset : window]:
                score = hit.score if request.sort == "relevance" and ranked else None
                if isinstance(score, tuple):  # sorted by (score, date): the key holds -score
                    score = -float(score[0])
                page.append((hit.docnum, score))
        marker = self._compiler.highlighter(searcher, compiled.highlight)
        return [
            (docnum, self._hit(searcher.stored_fields(docnum), rank, score, marker))
            for rank, (docnum, score) in enumerate(page, start=request.offset + 1)
        ]

    @staticmethod
    def _ranked_page(
        searcher: Searcher, match: wq.Query, allowed: set[int] | None, offset: int, window: int
    ) -> list[tuple[int, float | None]] | None:
        """The page by score, newer first among equal scores; None if a tie needs a full sort.

        Whoosh's plain top-k collection is ~3x faster than sorting every match by (score,
        date). Equal scores are ordered by date here; when a tie straddles the end of the
        window, only the full sort can tell which documents belong on the page.
        """
        results = searcher.search(match, filter=allowed, limit=window + 1, terms=False)
        scored = [(hit.docnum, float(hit.score)) for hit in results]
        if len(scored) > window and scored[window - 1][1] == scored[window][1]:
            return None
        scored = scored[:window]
        reader = searcher.reader()
        dated = reader.column_reader("dated")
        published = reader.column_reader("published", translate=False)  # sortable ints
        scored.sort(key=lambda ds: (-ds[1], -dated[ds[0]], -published[ds[0]]))
        return [(docnum, score) for docnum, score in scored[offset:window]]

    def _hit(
        self, stored: Mapping[str, Any], rank: int, score: Any, marker: Callable[[str], str]
    ) -> Hit:
        record = self._record(stored)
        return Hit(
            id=record.id, kind=record.kind, title=record.title, excerpt=record.excerpt,
            url=record.url, provider=record.provider, published=record.published,
            topics=record.topics, parents=record.parents, rank=rank,
            score=None if score is None else float(score), quality=record.quality,
            highlights={"title": marker(record.title), "excerpt": marker(record.excerpt)},
        )

    def _missing(self, searcher: Searcher, query: q.Node, page: list[int]) -> tuple[str, ...]:
        """The typed words (positive ones, as first typed) that no document of ``page`` has.

        Words are listed once (compared case-insensitively), in query order, each as typed:
        ``crash``, ``recog*``, ``lander~``; a phrase counts word by word.

        A word is in a document when the word, analysed as the search analyses it (stemmed:
        *crashes* has *crash*), is in its title, excerpt or body, or in the field it names
        (``title:crash``, ``provider:reuters``). Words that analysis drops (stopwords) are
        not searched for, so never missing.
        """
        if not page:
            return ()
        on_page = frozenset(page)
        words: dict[str, list[wq.Query]] = {}
        first: dict[str, str] = {}
        for leaf in _positive_words(query):
            typed = leaf.text
            if isinstance(leaf, q.Prefix):
                typed += "*"
            elif isinstance(leaf, q.Fuzzy):
                typed += "~" if leaf.distance == 1 else f"~{leaf.distance}"
            key = typed.casefold()
            first.setdefault(key, typed)
            fields = _TEXT_FIELDS if leaf.field is None else (leaf.field,)
            for field in fields:
                match = self._compiler.compile(replace(leaf, field=field), "all").match
                if match is not None:
                    words.setdefault(key, []).append(match)
        return tuple(
            first[key] for key, queries in words.items()
            if not on_page.intersection(searcher.docs_for_query(wq.Or(queries)))
        )

    # -- suggestions -------------------------------------------------------------------------

    def _suggest(
        self, searcher: Searcher, cache: FacetCache, request: SearchRequest, found: int
    ) -> str | None:
        """A corrected query from the index's vocabulary, if it finds more than ``found``.

        ``found`` counts the documents with every word of the query (0 when none has them all).
        """
        words = [
            (field, text) for field, text in q.terms(request.query)
            if field in (None, "title", "excerpt")
        ]
        if not words:
            return None
        corrector = searcher.corrector("spell")
        replacements: dict[str, str] = {}
        for _, text in words:
            for token in self._plain.tokens(text):
                word = token.term
                if word.isdigit() or searcher.doc_frequency("spell", word) > 0:
                    continue
                options = corrector.suggest(word, limit=1, maxdist=2, prefix=1)
                if options:
                    replacements[text[token.start : token.end]] = options[0]
        if not replacements:
            return None
        suggestion = request.text
        for wrong, right in replacements.items():
            suggestion = _replace_word(suggestion, wrong, right)
        if suggestion == request.text:
            return None
        try:
            parsed = q.parse(suggestion)
        except Exception:
            return None
        retry = SearchRequest(
            text=suggestion, query=parsed, topics=request.topics, providers=request.providers,
            kinds=request.kinds, since=request.since, until=request.until, match=request.match,
            exclude_ids=request.exclude_ids, suggest=False,
        )
        # The correction must find more documents that have every word than the query did.
        compiled = self._compiler.compile(parsed, "all")
        matched = self._matching(searcher, cache, compiled.match)
        better = len(self._apply_filters(searcher, cache, retry, matched))
        return suggestion if better > found else None


def _replace_word(text: str, wrong: str, right: str) -> str:
    return re.sub(rf"(?<!\w){re.escape(wrong)}(?!\w)", right, text, flags=re.IGNORECASE)


#: Where an unfielded typed word counts as present for :meth:`WhooshBackend._missing`.
_TEXT_FIELDS = ("title", "excerpt", "body")
#: The filters a search can be emptied by, in the order :func:`_empty_filters` tries them.
_FILTERS = ("topic", "provider", "kind", "date")


@dataclass(frozen=True)
class _Plan:
    """A search's compiled query, what it matches before filters, and how it was chosen."""

    compiled: Compiled
    matched: frozenset[int]
    fell_back: bool
    feedback: tuple[str, ...]


def _positive_words(node: q.Node) -> list[q.Term | q.Prefix | q.Fuzzy]:
    """The words a query asks for (not under ``NOT``), in query order; a phrase gives its
    words one by one."""
    words: list[q.Term | q.Prefix | q.Fuzzy] = []
    stack: list[q.Node] = [node]  # no recursion: NOT chains can be deep
    while stack:
        current = stack.pop()
        if isinstance(current, (q.Term, q.Prefix, q.Fuzzy)):
            words.append(current)
        elif isinstance(current, q.Phrase):
            words.extend(q.Term(word, current.field) for word in current.words)
        elif isinstance(current, (q.Seq, q.And, q.Or)):
            stack.extend(reversed(current.children))
    return words


def _without(request: SearchRequest, names: Iterable[str]) -> SearchRequest:
    """``request`` with the filters ``names`` (facet names or ``date``) removed."""
    changes: dict[str, Any] = {}
    for name in names:
        if name == "date":
            changes.update(since=None, until=None)
        else:
            changes[{"topic": "topics", "provider": "providers", "kind": "kinds"}[name]] = ()
    return replace(request, **changes)


def _empty_filters(
    request: SearchRequest, total: Callable[[SearchRequest], int]
) -> EmptyFilters | None:
    """Which filters emptied a search with no results, and the total without them.

    None unless the search has active filters and finds something without any of them. The
    filter whose removal alone finds the most is named (the first of topic, provider, kind,
    date on a tie); when removing any one alone still finds nothing, all of them are.
    """
    active = [
        name for name, on in zip(
            _FILTERS,
            (request.topics, request.providers, request.kinds,
             request.since is not None or request.until is not None),
            strict=True,
        )
        if on
    ]
    if not active:
        return None
    unfiltered = total(_without(request, active))
    if unfiltered == 0:
        return None
    if len(active) == 1:
        return EmptyFilters((active[0],), unfiltered)
    best, best_total = None, 0
    for name in active:
        found = total(_without(request, (name,)))
        if found > best_total:
            best, best_total = name, found
    if best is None:
        return EmptyFilters(tuple(active), unfiltered)
    return EmptyFilters((best,), best_total)
