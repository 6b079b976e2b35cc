"""The Whoosh backend: schema, writer, searcher lifecycle, query compilation, facets.

Every line of Whoosh-specific code lives here (and in ``whoosh_analysis``, the pickled analyzer).
The traps of Whoosh 2.7.5 that shape this module (DESIGN §3):

- ``Searcher.refresh()`` can bring merged-away segments back: it is never called; a new
  searcher is opened when the index has a newer commit, and the old one closed.
- ``DATETIME`` drops UTC offsets: datetimes are stored naive, in UTC.
- ``NUMERIC(float, sortable=True)`` crashes: quality is an int.
- Two ``update_document()`` calls for one id in one writer keep both: batches are de-duplicated.
- Whoosh's matchers run Python code per matching document and term (~150 µs a document for
  a word in four fields), and ``groupedby`` facets are slow: searches run on numpy arrays
  instead (:mod:`.whoosh_exec`, over per-segment arrays from :mod:`.whoosh_segments`), with
  the same scores. The matcher path stays as :meth:`WhooshBackend._execute_with_matchers`, the
  reference the tests compare with.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import struct
import tempfile
import threading
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, TEXT, FieldType, Schema
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.formats import Existence
from whoosh.index import LockError
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.sorting import FieldFacet, MultiFacet, ScoreFacet
from whoosh.util import fib, random_name
from whoosh.writing import MERGE_SMALL, OPTIMIZE

from .. import plan as p
from ..durable import fsync_path
from ..errors import IndexCorruptError, IndexLockedError
from ..records import Record, field_texts
from ..schema import BM25_B, BM25_K1, COUNTED_FACETS, DAY_FACET, FACETS, SORTS, Sort
from .base import Execution, IndexInfo, TermStats
from .folder_stamp import FolderWatch
from .whoosh_analysis import NltkAnalyzer
from .whoosh_codec import SearchlibCodec
from .whoosh_complete import Completions
from .whoosh_exec import (
    USECS_PER_DAY,
    Filtering,
    Positions,
    Result,
    Segments,
    View,
    execution_facets,
    live_counts,
    narrowed,
    top,
)
from .whoosh_exec import term_stats as array_term_stats
from .whoosh_facets import FacetCache, facet_key
from .whoosh_query import to_whoosh
from .whoosh_segments import DEFAULT_CACHE_MB, write_postings_files
from .whoosh_topk import best_of_union
from .whoosh_writer import BulkSegmentWriter

_INDEX_NAME = "MAIN"
#: Plans whose matching documents a backend remembers (per searcher).
_MATCHED_PLANS = 16
_NO_QUALITY = -(2**31)


class DateColumn(DATETIME):  # type: ignore[misc]
    """A date stored and kept as a sortable column, not indexed.

    Whoosh indexes a ``DATETIME`` as 16 trie terms a document, for its ``DateRange`` query;
    searchlib filters and sorts dates on the column (as arrays), so the terms were most of a
    segment's term dictionary (60% of its entries with distinct timestamps) for nothing.
    """

    indexed = False


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
        # Each word once per document (suggestions rank words by the documents holding them).
        spell=FieldType(Existence(), plain, scorable=True),
        provider=ID(stored=True, sortable=True),
        provider_text=TEXT(analyzer=plain, phrase=False),
        topic=KEYWORD(commas=True, scorable=False),
        topic_text=TEXT(analyzer=plain, phrase=False),
        published=DateColumn(stored=True, sortable=True),
        # Sort keys that put documents without a date or a quality last in every order.
        dated=COLUMN(NumericColumn("b")),
        quality_rank=COLUMN(NumericColumn("i")),
        quality=STORED,
        # Every facet value of a document in one cell: the facet cache reads it in one pass.
        facet_key=COLUMN(VarBytesColumn()),
        topics=STORED,
        parents=STORED,  # shown, never searched
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
    return IndexCorruptError(f"the index in {path} is damaged ({reason})")


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


class MemoryStorage(RamStorage):  # type: ignore[misc]
    """Whoosh's ``RamStorage`` whose writers sort postings in folders of their own.

    ``RamStorage`` names a writer's temporary folder after the index (``MAIN.tmp`` in the
    system's temporary folder), so two processes writing in-memory indexes at once shared it,
    and the first to finish removed the other's files (``FileNotFoundError``). Here every
    writer gets a fresh folder inside one folder of the storage's own, removed with the
    storage: Whoosh's column writer empties its folder but never removes it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def temp_storage(self, name: str | None = None) -> Any:
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="searchlib-")
        folder = os.path.join(self._scratch.name, f"{random_name()}.tmp")
        return FileStorage(folder).create()

    def destroy(self) -> None:
        super().destroy()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None


def _cache_bytes(cache_mb: float) -> int:
    """The postings cache budget in bytes; a clear error for a bad setting."""
    if (
        isinstance(cache_mb, bool) or not isinstance(cache_mb, (int, float))
        or not 0 <= cache_mb < math.inf
    ):
        raise ValueError(f"cache_mb must be a number of megabytes, 0 or more, not {cache_mb!r}")
    return int(cache_mb * 2**20)


def _merge_is_due(ix: Any) -> bool:
    """Whether Whoosh's ``MERGE_SMALL`` policy would merge some of the index's segments.

    The same test as the policy's: the ``i + 1`` smallest segments (``i > 3``) hold fewer
    documents than the ``i + 5``-th Fibonacci number. Segments of a bulk load are large, so it
    is small incremental commits piling up that get merged.
    """
    counts = sorted(segment.doc_count_all() for segment in ix._segments())
    total = 0
    for i, count in enumerate(counts):
        total += max(count, 0)
        if i > 3 and total < fib(i + 5):
            return True
    return False


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

    name: ClassVar[str] = "whoosh"
    #: Version 1: the schema of ``build_schema`` with the ``facet_key`` column. Version 2:
    #: segments written by :class:`~searchlib.backends.whoosh_codec.SearchlibCodec` (short
    #: posting lists inlined, stored fields pickled with protocol 5), ``spell`` without
    #: frequencies, ``parents`` stored only. Version 3: ``published`` a column, not indexed.
    format_version: ClassVar[int] = 3
    #: Postings are built and sorted in Python, in the writing process.
    busy_writer: ClassVar[bool] = True

    def __init__(
        self,
        ix: Any,
        language: str,
        *,
        lock_timeout: float = 0.0,
        cache_mb: float = DEFAULT_CACHE_MB,
    ) -> None:
        self._ix = ix
        #: Where the index lives, for error messages.
        self.location = str(getattr(ix.storage, "folder", "memory"))
        self.language = language
        self.lock_timeout = lock_timeout
        self._lock = threading.RLock()
        self._searcher: Searcher | None = None
        #: Tells an unchanged index folder from one ``stat`` (Whoosh lists the folder).
        self._watch = FolderWatch(getattr(ix.storage, "folder", None))
        self._cache: FacetCache | None = None
        self._view: View | None = None
        self._info: IndexInfo | None = None
        #: Matching documents of recent plans, for the current searcher only.
        self._matched: dict[p.Plan | None, frozenset[int]] = {}
        self._weighting = LuceneIdfBM25F(B=BM25_B, K1=BM25_K1)
        self._segments = Segments(_cache_bytes(cache_mb))
        #: Type-ahead: each segment's title words and phrases (see .whoosh_complete).
        self._completions = Completions(language)

    @property
    def cache_mb(self) -> float:
        """Megabytes of decoded postings kept between searches (see :meth:`set_cache_mb`)."""
        return self._segments.postings.max_bytes / 2**20

    def set_cache_mb(self, cache_mb: float) -> None:
        """Keep up to ``cache_mb`` megabytes of decoded postings between searches (0: none).

        Common and repeated terms then cost no decoding; the per-segment columns (field
        lengths, sort keys, facet codes: about 20 bytes a document) are kept regardless.
        """
        with self._lock:
            self._segments.postings.resize(_cache_bytes(cache_mb))

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: Path | None,
        language: str,
        *,
        lock_timeout: float = 0.0,
        cache_mb: float = DEFAULT_CACHE_MB,
    ) -> WhooshBackend:
        """Create an empty index in ``path`` (an existing one there is replaced), or in RAM."""
        if path is None:
            ix = MemoryStorage().create_index(build_schema(language), indexname=_INDEX_NAME)
            return cls(ix, language, cache_mb=cache_mb)
        path.mkdir(parents=True, exist_ok=True)
        ix = _storage(path).create_index(build_schema(language), indexname=_INDEX_NAME)
        return cls(ix, language, lock_timeout=lock_timeout, cache_mb=cache_mb)

    @classmethod
    def open(
        cls,
        path: Path,
        language: str,
        *,
        lock_timeout: float = 0.0,
        cache_mb: float = DEFAULT_CACHE_MB,
    ) -> WhooshBackend:
        """Open the index in ``path``."""
        try:
            ix = _storage(path).open_index(_INDEX_NAME)
            backend = cls(ix, language, lock_timeout=lock_timeout, cache_mb=cache_mb)
            with backend._lock:
                backend._current()  # read the segments now: a broken index fails here
                backend._searcher.doc_count()  # type: ignore[union-attr]
        except _OPEN_DAMAGE as exc:
            raise damaged(path, exc) from exc
        except Exception as exc:  # Whoosh raises many unrelated types for a damaged TOC
            if type(exc).__module__.startswith("whoosh"):
                raise damaged(path, exc) from exc
            raise
        return backend

    @classmethod
    def exists(cls, path: Path) -> bool:
        """Whether ``path`` holds a Whoosh index."""
        return bool(whoosh_index.exists_in(str(path), indexname=_INDEX_NAME))

    @classmethod
    def owned_files(cls, path: Path) -> list[Path]:
        """Whoosh's files in ``path``: tables of contents, segments and its lock files."""
        if not path.is_dir():
            return []
        return sorted(
            entry for entry in path.iterdir()
            if entry.name.startswith(("MAIN_", "_MAIN_")) or entry.name.endswith((".seg", ".toc"))
        )

    def close(self) -> None:
        """Close the searcher and the index."""
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
            self._searcher = None
            self._watch.forget()
            self._cache = None
            self._view = None
            self._info = None
            self._segments.close()
            self._ix.close()

    # -- writing -----------------------------------------------------------------------------

    def write(self, records: Iterable[Record], delete_ids: Iterable[str]) -> None:
        """Add or replace ``records`` and delete ``delete_ids``, in one durable commit.

        Records are filed as they come (``records`` may be a generator that parse workers
        feed), then ``delete_ids`` is read. The last record of an id wins: an earlier one of
        the same write is left out of the segment (Whoosh itself would keep both).
        """
        writer: BulkSegmentWriter | None = None
        before: set[str] = set()
        added: dict[str, int] = {}
        replace = False
        try:
            for record in records:
                if writer is None:
                    before, writer = self._file_names(), self._bulk_writer()
                    replace = bool(writer.segments)  # a new index has no earlier versions
                fields = self._fields(record)
                if record.analysed is not None and record.analysed.language == self.language:
                    fields["_terms"] = record.analysed.terms  # analysed in a parse worker
                earlier = added.get(record.id)
                if earlier is not None:
                    writer.discard(earlier)
                elif replace:
                    writer.delete_by_term("id", record.id)
                added[record.id] = writer.add_document(**fields)
            deletes = [doc_id for doc_id in dict.fromkeys(delete_ids) if doc_id not in added]
            if deletes and writer is None:
                before, writer = self._file_names(), self._bulk_writer()
            for doc_id in deletes:
                assert writer is not None
                writer.delete_by_term("id", doc_id)
        except BaseException:
            if writer is not None:
                writer.cancel()
            raise
        if writer is None:
            return  # nothing to write: no commit
        writer.commit()
        self._sync(before)
        if _merge_is_due(self._ix):
            self._merge(MERGE_SMALL)

    def _bulk_writer(self) -> BulkSegmentWriter:
        try:
            # Compound segments (Whoosh's default) cost memory, since Whoosh reads each one
            # whole when it opens it, but they are opened at once: with one file per part, a
            # searcher still in use meets files that a concurrent commit has already deleted.
            return BulkSegmentWriter(self._ix, timeout=self.lock_timeout)
        except LockError as exc:
            raise IndexLockedError(
                f"index is locked by another writer: {self.location}"
            ) from exc

    def optimize(self) -> None:
        """Merge every segment into one (a commit of its own)."""
        self._merge(OPTIMIZE)

    def _merge(self, policy: Any) -> None:
        """One commit that merges segments as ``policy`` (a Whoosh merge policy) chooses."""
        before = self._file_names()
        try:
            writer = self._ix.writer(timeout=self.lock_timeout, codec=SearchlibCodec())
        except LockError as exc:
            raise IndexLockedError(
                f"index is locked by another writer: {self.location}"
            ) from exc
        writer.commit(mergetype=policy)
        # Whoosh's writer writes no postings files (whoosh_postings): the merged segment's.
        write_postings_files(self._ix)
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

    @staticmethod
    def _fields(r: Record) -> dict[str, Any]:
        fields: dict[str, Any] = dict(field_texts(r))
        fields.update({
            "id": r.id,
            "kind": r.kind,
            "provider": r.provider,
            "topic": ",".join(r.topics),
            "facet_key": facet_key(r.kind, r.provider, r.topics),
            "topics": list(r.topics),
            "parents": ",".join(r.parents),
            "url": r.url,
            "provider_domain": r.provider_domain,
            "path": r.path,
            "content_hash": r.content_hash,
            "related_ids": list(r.related_ids),
            "extra": json.dumps(dict(r.extra), ensure_ascii=False) if r.extra else "",
        })
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

    def generation(self) -> int:
        """The generation number of the latest commit."""
        return int(self._ix.latest_generation())

    # -- reading -----------------------------------------------------------------------------

    def _current(self) -> tuple[Searcher, FacetCache]:
        """The open searcher, replaced by a new one when the index has a newer commit."""
        with self._lock:
            searcher = self._searcher
            if searcher is None or not self._watch.current(searcher.up_to_date):
                new = self._ix.searcher(weighting=self._weighting)
                old, self._searcher = self._searcher, new
                self._cache = FacetCache(new)
                self._view = View(new, self._segments)
                self._info = None
                self._matched = {}
                if old is not None:
                    old.close()
            assert self._cache is not None
            return self._searcher, self._cache

    def _current_view(self) -> View:
        """The arrays view of the open searcher (see :mod:`.whoosh_exec`)."""
        self._current()
        assert self._view is not None
        return self._view

    def info(self) -> IndexInfo:
        """Live documents, bytes on disk, and documents per facet value (cached per commit)."""
        with self._lock, _guard(self.location):
            view = self._current_view()
            if self._info is None:
                counts = live_counts(view)
                facets: dict[str, Mapping[str, int]] = {name: counts[name] for name in FACETS}
                count = int(view.searcher.doc_count())
                self._info = IndexInfo(count, self._size_bytes(), facets)
            return self._info

    def _size_bytes(self) -> int:
        storage = self._ix.storage
        if isinstance(storage, RamStorage):
            return sum(storage.file_length(name) for name in storage.list())
        total = 0
        for entry in Path(storage.folder).iterdir():
            try:
                total += entry.stat().st_size if entry.is_file() else 0
            except FileNotFoundError:
                continue  # a segment another process's commit merged away meanwhile
        return total

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

    def term_stats(self, field: str, terms: Iterable[str]) -> Mapping[str, TermStats]:
        """Document and total frequency of each term in ``field``, over live documents.

        Whoosh's own statistics still count deleted documents until their segment is merged
        away; when the index has deletions, the term's postings are walked instead.
        """
        with self._lock, _guard(self.location):
            view = self._current_view()
            stats = array_term_stats(view, field, terms)
            return {term: TermStats(df, frequency) for term, (df, frequency) in stats.items()}

    def similar_words(self, word: str, max_distance: int, limit: int) -> list[str]:
        """Words of live titles and excerpts within ``max_distance`` edits, in the most
        documents first, then alphabetically."""
        with self._lock, _guard(self.location):
            view = self._current_view()
            reader = view.searcher.reader()
            if "spell" not in reader.schema:
                return []
            candidates = {
                c.decode("utf-8") if isinstance(c, bytes) else c
                for c in reader.terms_within("spell", word, max_distance, prefix=1)
            }
            stats = array_term_stats(view, "spell", sorted(candidates))
            found = [(df, c) for c, (df, _) in stats.items() if df]
        found.sort(key=lambda fw: (-fw[0], fw[1]))
        return [w for _, w in found[:limit]]

    def complete(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """Completions of ``prefix`` from titles, in the most live documents first, then
        alphabetically (see :mod:`.whoosh_complete`)."""
        if not prefix or limit <= 0:
            return []
        with self._lock, _guard(self.location):
            return self._completions.top(self._current_view().leaves, prefix, limit)

    # -- searching ---------------------------------------------------------------------------

    def execute(
        self,
        plan: p.Plan | None,
        filters: p.Filters,
        facets: Mapping[str, p.Filters],
        sort: Sort,
        offset: int,
        limit: int,
    ) -> Execution:
        """Matching set, page and facet counts of ``plan``, with array operations over the
        segments of one searcher (see :mod:`.whoosh_exec`)."""
        if sort not in SORTS:
            raise ValueError(f"unknown sort {sort!r}: choose one of {', '.join(SORTS)}")
        if offset < 0:
            raise ValueError(f"offset must be 0 or more, not {offset}")
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, not {limit}")
        for facet in facets:
            if facet not in COUNTED_FACETS:
                raise ValueError(
                    f"unknown facet {facet!r}: choose one of {', '.join(COUNTED_FACETS)}"
                )
        with self._lock, _guard(self.location):
            view = self._current_view()
            filtering = Filtering(view)
            allowed = filtering.mask(filters)
            best = None
            if plan is None:
                results = [
                    Result(np.zeros(leaf.size, dtype=np.bool_)) for leaf in view.leaves
                ]
            else:
                if sort == "relevance" and limit:
                    best = best_of_union(view, plan, allowed, offset + limit)
                results = view.evaluate(plan) if best is None else best.results
            hits = narrowed(results, allowed) if best is None else best.hits
            positions = Positions()
            positions.seed(hits, results)
            total = sum(int(positions(h).size) for h in hits)
            counts = execution_facets(view, results, facets, filtering, positions)
            scored = plan is not None and bool(p.positive_leaves(plan))
            scores = results if scored and sort == "relevance" else None
            ranked = hits
            if best is not None:
                ranked = best.ranked
                for mask, docs in zip(best.ranked, best.ranked_docs, strict=True):
                    positions.know(mask, docs)
            page = top(view, ranked, scores, sort, offset, limit, positions)
            rows = tuple(
                (self._segments.record(leaf, docnum, self._record), score)
                for leaf, docnum, score in page
            )
            return Execution(total, rows, counts)

    def count(self, plan: p.Plan | None, filters: p.Filters) -> int:
        """How many documents match ``plan`` under ``filters``."""
        if plan is None:
            return 0
        with self._lock, _guard(self.location):
            view = self._current_view()
            hits = narrowed(view.evaluate(plan), Filtering(view).mask(filters))
            return sum(int(np.count_nonzero(h)) for h in hits)

    # -- the reference: Whoosh's own matchers ------------------------------------------------

    def _execute_with_matchers(
        self,
        plan: p.Plan | None,
        filters: p.Filters,
        facets: Mapping[str, p.Filters],
        sort: Sort,
        offset: int,
        limit: int,
    ) -> Execution:
        """:meth:`execute` with Whoosh's matchers (``to_whoosh``): what the array executor
        must give (the tests compare them), ~100x slower."""
        with self._lock, _guard(self.location):
            searcher, cache = self._current()
            match = None if plan is None else to_whoosh(plan)
            matched = self._matching(searcher, cache, plan, match)
            sets = _FilterSets(searcher, cache)
            hit_docs = sets.narrow(matched, filters)
            counts: dict[str, dict[str, int]] = {}
            for name, facet_filters in facets.items():
                docs = sets.narrow(matched, facet_filters)
                if name == DAY_FACET:
                    counts[name] = _day_counts(searcher, docs)
                    continue
                values = cache.values(name)
                if docs is cache.all_docs:
                    counted = {value: len(ids) for value, ids in values.items()}
                else:
                    counted = {value: len(docs & ids) for value, ids in values.items()}
                counts[name] = {value: n for value, n in counted.items() if n}
            page = self._page(
                searcher, match, hit_docs, sort, offset, limit,
                filtered=hit_docs is not matched, scored=bool(p.positive_leaves(plan)),
            )
            rows = tuple(
                (self._record(searcher.stored_fields(docnum)), score) for docnum, score in page
            )
            return Execution(len(hit_docs), rows, counts)

    def _count_with_matchers(self, plan: p.Plan | None, filters: p.Filters) -> int:
        """:meth:`count` with Whoosh's matchers (the reference)."""
        with self._lock, _guard(self.location):
            searcher, cache = self._current()
            match = None if plan is None else to_whoosh(plan)
            matched = self._matching(searcher, cache, plan, match)
            return len(_FilterSets(searcher, cache).narrow(matched, filters))

    def _matching(
        self, searcher: Searcher, cache: FacetCache, plan: p.Plan | None, match: wq.Query | None
    ) -> frozenset[int]:
        """The documents ``plan`` matches, remembered for the current searcher: the pipeline
        often counts a plan, then executes it (plans are hashable for this)."""
        if match is None:
            return frozenset()
        if isinstance(match, wq.Every):
            return cache.all_docs
        found = self._matched.get(plan)
        if found is None:
            found = frozenset(searcher.docs_for_query(match))
            if len(self._matched) >= _MATCHED_PLANS:
                self._matched.pop(next(iter(self._matched)))  # the oldest
            self._matched[plan] = found
        return found

    def _page(
        self,
        searcher: Searcher,
        match: wq.Query | None,
        hit_docs: frozenset[int],
        sort: Sort,
        offset: int,
        limit: int,
        *,
        filtered: bool,
        scored: bool,
    ) -> list[tuple[int, float | None]]:
        """The window of ``hit_docs`` in ``sort`` order; a plan without a positive clause
        (everything, or everything but some words) is not scored: it goes newest first."""
        if not hit_docs or limit == 0 or offset >= len(hit_docs):
            return []
        window = offset + limit
        query = match if match is not None else wq.NullQuery
        dated_first = FieldFacet("dated", reverse=True)
        newest = MultiFacet([dated_first, FieldFacet("published", reverse=True)])
        sortedby: Any
        if sort == "newest":
            sortedby = newest
        elif sort == "oldest":
            sortedby = MultiFacet([dated_first, FieldFacet("published")])
        elif sort == "quality":
            sortedby = MultiFacet(
                [FieldFacet("quality_rank", reverse=True), dated_first,
                 FieldFacet("published", reverse=True)]
            )
        elif not scored:
            sortedby = newest
        else:
            sortedby = MultiFacet(
                [ScoreFacet(), dated_first, FieldFacet("published", reverse=True)]
            )
        allowed = set(hit_docs) if filtered else None
        ranked = scored
        if sort == "relevance" and ranked:
            page = self._ranked_page(searcher, query, allowed, offset, window)
            if page is not None:
                return page
        results = searcher.search(
            query, filter=allowed, limit=window, sortedby=sortedby, terms=False
        )
        out: list[tuple[int, float | None]] = []
        for hit in results[offset:window]:
            score = hit.score if sort == "relevance" and ranked else None
            if isinstance(score, tuple):  # sorted by (score, date): the key holds -score
                score = -float(score[0])
            out.append((hit.docnum, None if score is None else float(score)))
        return out

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


def _day_counts(searcher: Searcher, docs: frozenset[int]) -> dict[str, int]:
    """Documents per UTC publication day among ``docs`` (the matchers' reference)."""
    reader = searcher.reader()
    dated = reader.column_reader("dated")
    published = reader.column_reader("published", translate=False)
    days = Counter(
        date.fromordinal(published[doc] // USECS_PER_DAY + 1).isoformat()
        for doc in docs if dated[doc]
    )
    return dict(days)


class _FilterSets:
    """The doc set each filter allows, computed once per search and shared by its facets."""

    def __init__(self, searcher: Searcher, cache: FacetCache) -> None:
        self._searcher = searcher
        self._cache = cache
        self._memo: dict[tuple[Any, ...], frozenset[int]] = {}

    def narrow(self, docs: frozenset[int], filters: p.Filters) -> frozenset[int]:
        """``docs`` that every active filter allows (``docs`` itself when none is active)."""
        result = docs
        for key in filters.parts():
            result = result & self._allowed(key)
        return result

    def _dated_between(self, since: datetime | None, until: datetime | None) -> frozenset[int]:
        """Documents dated from ``since`` to ``until`` (both included), from the columns."""
        reader = self._searcher.reader()
        field = reader.schema["published"]
        dated = reader.column_reader("dated")
        published = reader.column_reader("published", translate=False)  # sortable ints
        low = field.to_column_value(_naive_utc(since)) if since is not None else None
        high = field.to_column_value(_naive_utc(until)) if until is not None else None
        return frozenset(
            doc for doc in self._cache.all_docs
            if dated[doc]
            and (low is None or published[doc] >= low)
            and (high is None or published[doc] <= high)
        )

    def _allowed(self, key: tuple[Any, ...]) -> frozenset[int]:
        if key in self._memo:
            return self._memo[key]
        name = key[0]
        if name in ("topic", "provider", "kind"):
            values = self._cache.values(name)
            union: set[int] = set()
            for value in key[1]:
                union.update(values.get(value, ()))
            allowed = frozenset(union)
        elif name == "date":
            allowed = self._dated_between(key[1], key[2])
        else:
            excluded = {
                n for doc_id in key[1]
                for n in self._searcher.docs_for_query(wq.Term("id", doc_id))
            }
            allowed = self._cache.all_docs - excluded
        self._memo[key] = allowed
        return allowed
