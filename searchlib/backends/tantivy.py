"""The tantivy backend: searchlib's records in a tantivy index (Rust, PyPI ``tantivy``).

tantivy cannot run a Python analyzer, so every searchable field holds searchlib's own analysed
terms (the same :class:`~searchlib.analysis.Analyzer` as every engine: Snowball stems,
stopwords, folding, CJK bigrams) joined by spaces, and a tokenizer that only splits on
whitespace (:data:`TOKENIZER`, no lower-casing, no stemming) reads them back one term a token.
A term therefore means the same thing here as in the other engines, and a term's position is
its index in the field's term list, as in the reference backend, so phrases agree too.

How it reads the protocol:

- **Scores.** BM25F, as the reference backend computes it: a word's frequency in each field
  is divided by ``1 - b + b * length / average``, weighted
  (:data:`~searchlib.schema.FIELD_WEIGHTS`, 1 for the plain fields and ``kind``), summed and
  saturated once, with Lucene's idf of the largest per-field document frequency. tantivy has
  no BM25F scorer, so it ranks on its own BM25 per field, each field's score scaled to the
  word's one idf and weighted (near BM25F, but a word in two fields saturates twice); its
  best :data:`RESCORED` documents (at least the requested window, every match when there are
  no more) are then scored again exactly: field lengths are fast fields, and one restricted
  search a word reads each candidate's term frequencies (see ``_frequencies``). Phrases,
  ``Prefix`` and ``Fuzzy`` keep tantivy's score (``Prefix`` and ``Fuzzy`` expand through the
  term dictionary and add up the scores of the terms they reach, as the reference does).
  Statistics are tantivy's: ``N`` and document frequencies count deleted documents until a
  merge removes them (as the Whoosh backend's do), average lengths are over live documents.
  ``Everything`` scores 0, filters add nothing to a score.
- **Order.** tantivy finds the best documents on one key (its score, or a sort column); the
  documents that tie with the last of the window are all fetched, then ordered in Python on
  the whole key: (BM25F) score, newer first, then a hash of the id (stable across commits and
  merges), so a page is always a window of one order.
- **Facets** are terms aggregations over fast fields (topic, provider, kind, and a ``day``
  column of ``YYYY-MM-DD`` UTC publication days); filters are term-set and range queries over
  the same fields, scoring nothing.
- **Term statistics** (``term_stats``). Live document frequencies come from counting
  queries (tantivy's own document frequencies still count deleted documents until a merge).
  tantivy keeps no total frequency of a term that Python can read, so each document also
  indexes, in the hidden ``tf`` field, one token ``field␁term␁count`` for every term it holds
  more than once: a term's total frequency is its document frequency plus what those tokens
  add (and BM25F reads a document's frequencies from the same tokens).
- **Writes** are one tantivy commit: atomic, since ``meta.json`` (which names the segments)
  is replaced by a rename once every segment file is written and ``fdatasync`` ed; tantivy does
  not sync the folder after that rename, so this backend does, before ``write`` returns. A
  second writer on the same folder, in this process or another, is refused with the Whoosh
  backend's message (``index is locked by another writer: FOLDER``) once ``lock_timeout`` has
  passed (tantivy's writer lock is an ``flock``: a killed writer never leaves it behind).

- **Records** are stored whole, compressed with a zstd dictionary trained on the index's
  first records (:mod:`.tantivy_records`).

The index lives in the folder's ``tantivy`` subfolder, so its files are told apart from the
folder's other files by place, not by name.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import tantivy

from .. import plan as p
from ..analysis import Analyzer, check_language
from ..durable import fsync_path
from ..errors import IndexCorruptError, IndexLockedError, UsageError
from ..records import (
    COMPLETION_FIELD,
    DISTINCT_FIELDS,
    PLAIN_FIELDS,
    Record,
    completion_terms,
    field_texts,
)
from ..schema import (
    BM25_B,
    BM25_K1,
    COUNTED_FACETS,
    DAY_FACET,
    FACETS,
    FIELD_WEIGHTS,
    POSITIONAL_FIELDS,
    SORTS,
)
from ..schema import Sort as SortName
from .base import Execution, IndexInfo, TermStats
from .memory import levenshtein
from .tantivy_records import RecordCodec

#: The subfolder of an index folder that holds tantivy's files.
SUBFOLDER = "tantivy"
#: The tokenizer of every searchable field: splits analysed terms on whitespace, nothing else.
TOKENIZER = "searchlib_terms"
#: The keyword field: one term, the record's kind (also its facet).
KEYWORD_FIELD = "kind"
#: Every field a plan may name.
FIELDS: tuple[str, ...] = (*FIELD_WEIGHTS, *PLAIN_FIELDS, KEYWORD_FIELD, COMPLETION_FIELD)
#: Fields whose terms occur once a document: a term's total frequency is its document count.
_ONCE_FIELDS = (*DISTINCT_FIELDS, KEYWORD_FIELD, COMPLETION_FIELD)
#: The hidden field of repeated terms' counts (see the module docstring).
TF_FIELD = "tf"
_TF_SEPARATOR = "\x01"
#: Fields whose length (terms a document holds there) BM25F needs, kept as fast fields;
#: ``kind`` holds one term in every document.
LENGTH_FIELDS: tuple[str, ...] = (*FIELD_WEIGHTS, *PLAIN_FIELDS, COMPLETION_FIELD)
#: How many of tantivy's best documents a relevance search re-scores with BM25F (at least the
#: requested window; every match when there are no more).
RESCORED = 50
#: Bits of a float32 score that hold an integer exactly: the term frequencies of the fields
#: one counting search decodes must fit in them together.
_SCORE_BITS = 24
#: Sort key of a document without a date (or a quality): below every real one.
_MISSING = -(2**63)
#: Buckets a facet aggregation may return: tantivy's own default limit.
_MAX_BUCKETS = 65_000
#: Words whose repeated counts a searcher keeps (see ``_Searcher.repeated``): a few hundred
#: bytes each.
_REPEATED_KEPT = 20_000
#: Type-ahead answers a searcher keeps.
_COMPLETIONS_KEPT = 4_096
#: Completions first asked of the dictionary (the best by their counts), at least.
_COMPLETIONS_ASKED = 256
#: Writer memory: tantivy flushes a segment when it is used up (at least 15 MB a thread).
_WRITER_HEAP = 96_000_000
_LOCK_POLL_SECONDS = 0.05
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
#: Whitespace inside a term (compatibility folding can make some) would split it in two:
#: such characters are kept as private-use characters instead, and turned back when read.
_SPACE = re.compile(r"\s")
_PRIVATE = 0xF0000


def _encode(term: str) -> str:
    """``term`` as one token of :data:`TOKENIZER`."""
    return _SPACE.sub(lambda m: chr(_PRIVATE + ord(m.group())), term) if _SPACE.search(term) \
        else term


def _joined(terms: list[str]) -> str:
    """``terms`` as the text of a :data:`TOKENIZER` field: one regular expression over all of
    them, not one a term (a third of the writer's Python time went to encoding terms one by
    one, and a term holding whitespace is rare)."""
    joined = "\x00".join(terms)
    if _SPACE.search(joined):
        return " ".join(_encode(term) for term in terms)
    return joined.replace("\x00", " ")


def _decode(token: str) -> str:
    """The term a token of :data:`TOKENIZER` stands for."""
    if not any(ord(c) >= _PRIVATE for c in token):
        return token
    return "".join(
        chr(ord(c) - _PRIVATE) if _PRIVATE <= ord(c) < _PRIVATE + 0x3000 else c for c in token
    )


def _utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime (a naive one is taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _micros(value: datetime) -> int:
    """Microseconds since the epoch, exactly (a float timestamp would round)."""
    moment = _utc(value)
    assert moment is not None
    return (moment - _EPOCH) // _MICROSECOND


def _length_column(field: str) -> str:
    """The fast field of ``field``'s lengths."""
    return f"length_{field}"


def _idf(df: int, documents: int) -> float:
    """Lucene's idf, as tantivy computes it (``documents`` counts deleted ones too)."""
    return math.log(1 + (documents - df + 0.5) / (df + 0.5))


def _tiebreak(doc_id: str) -> int:
    """The last key of every order: a hash of the id, the same in every segment and commit."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest(), "big")


def build_schema() -> tantivy.Schema:
    """The tantivy schema: analysed terms, keyword and fast fields, the stored record."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", tokenizer_name="raw", index_option="basic")
    for name in FIELD_WEIGHTS:
        option = "position" if name in POSITIONAL_FIELDS else "freq"
        builder.add_text_field(name, tokenizer_name=TOKENIZER, index_option=option)
    for name in PLAIN_FIELDS:
        builder.add_text_field(name, tokenizer_name=TOKENIZER, index_option="freq")
    # Type-ahead: each title's words and two-word phrases (a phrase's space kept, see
    # _encode), each once a document.
    builder.add_text_field(COMPLETION_FIELD, tokenizer_name=TOKENIZER, index_option="freq")
    builder.add_text_field(TF_FIELD, tokenizer_name=TOKENIZER, index_option="basic")
    builder.add_text_field(KEYWORD_FIELD, fast=True, tokenizer_name="raw", index_option="freq")
    builder.add_text_field("topic", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("provider", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field(DAY_FACET, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("published", indexed=True, fast=True)
    builder.add_integer_field("newest", fast=True)
    builder.add_integer_field("oldest", fast=True)
    builder.add_integer_field("quality_rank", fast=True)
    # Indexed too: a search restricted to the candidates it re-scores names them by this key.
    builder.add_unsigned_field("tiebreak", indexed=True, fast=True)
    for name in LENGTH_FIELDS:
        builder.add_unsigned_field(_length_column(name), fast=True)
    builder.add_bytes_field("record", stored=True)
    return builder.build()


class PlanError(ValueError):
    """A plan names a field no record has: a mistake of the caller, not damage."""


def _check_fields(fields: Iterable[str]) -> tuple[str, ...]:
    """``fields`` without repeats; a field no record has is a mistake in the plan."""
    unique = tuple(dict.fromkeys(fields))
    for name in unique:
        if name not in FIELDS:
            raise PlanError(f"unknown field {name!r}: choose one of {', '.join(FIELDS)}")
    return unique


def _record_json(record: Record) -> bytes:
    """The stored form of a record (every field but ``related_text`` and ``analysed``)."""
    published = _utc(record.published)
    return json.dumps({
        "id": record.id, "kind": record.kind, "title": record.title, "excerpt": record.excerpt,
        "url": record.url, "provider": record.provider,
        "published": None if published is None else published.isoformat(),
        "quality": record.quality, "topics": list(record.topics), "parents": list(record.parents),
        "body": record.body, "provider_domain": record.provider_domain, "path": record.path,
        "content_hash": record.content_hash, "related_ids": list(record.related_ids),
        "extra": dict(record.extra),
    }, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _record(data: bytes) -> Record:
    """The record of its stored JSON."""
    raw = json.loads(data)
    published = raw["published"]
    return Record(
        id=raw["id"], kind=raw["kind"], title=raw["title"], excerpt=raw["excerpt"],
        url=raw["url"], provider=raw["provider"],
        published=None if published is None else datetime.fromisoformat(published),
        quality=raw["quality"], topics=tuple(raw["topics"]), parents=tuple(raw["parents"]),
        body=raw["body"], provider_domain=raw["provider_domain"], path=raw["path"],
        content_hash=raw["content_hash"], related_ids=tuple(raw["related_ids"]),
        extra=raw["extra"],
    )


def damaged(path: Path | str, exc: BaseException) -> IndexCorruptError:
    """The error for an index whose files cannot be read."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return IndexCorruptError(f"the index in {path} is damaged ({reason})")


def _is_panic(exc: BaseException) -> bool:
    """Whether ``exc`` is a Rust panic surfacing in Python (``pyo3_runtime.PanicException``,
    a ``BaseException``), which a damaged file can cause."""
    return type(exc).__name__ == "PanicException"


@contextmanager
def _guard(location: str) -> Iterator[None]:
    """Turn what tantivy raises on damaged files into :class:`IndexCorruptError`.

    tantivy opens some files only when a search first needs them (a field's positions, for
    one), so any read can be the first to find a file truncated, deleted or overwritten.
    """
    try:
        yield
    except PlanError:
        raise
    except (ValueError, OSError) as exc:
        raise damaged(location, exc) from exc
    except BaseException as exc:
        if _is_panic(exc):
            raise damaged(location, exc) from exc
        raise


def _total(result: tantivy.SearchResult) -> int:
    """The number of matches a search counted (its stub does not declare ``count``)."""
    return int(getattr(result, "count", 0) or 0)


class _Searcher:
    """One tantivy searcher and what was computed from it (never changed once built)."""

    def __init__(self, searcher: tantivy.Searcher, generation: int) -> None:
        self.searcher = searcher
        self.generation = generation
        self.info: IndexInfo | None = None
        self._documents: int | None = None
        self._averages: dict[str, float] | None = None
        #: (field, token) -> its :data:`TF_FIELD` tokens' counts (see :meth:`repeated`).
        self._repeated: dict[tuple[str, str], tuple[tuple[int, int], ...]] = {}
        self._doc_freqs: dict[tuple[str, str], int] = {}
        #: (prefix, limit) -> completions, as ``TantivyBackend.complete`` answers them.
        self.completions: dict[tuple[str, int], tuple[tuple[str, int], ...]] = {}

    def doc_freq(self, field: str, token: str) -> int:
        """tantivy's document frequency of ``token`` in ``field`` (deleted documents count
        until merged away), kept: a long query asks for each of its words several times."""
        key = (field, token)
        found = self._doc_freqs.get(key)
        if found is None:
            found = int(self.searcher.doc_freq(field, token))
            if len(self._doc_freqs) >= _REPEATED_KEPT:
                self._doc_freqs.clear()
            self._doc_freqs[key] = found
        return found

    def has_deletions(self) -> bool:
        """Whether some documents are deleted but not merged away: then the dictionary's
        document frequencies count them too."""
        return self.documents() != self.searcher.num_docs

    def repeated(self, field: str, token: str) -> tuple[tuple[int, int], ...]:
        """``(count, documents)`` for each count above 1 that ``token`` reaches in ``field``
        (its ``field␁term␁count`` tokens, see the module docstring), with the dictionary's
        number of documents (deleted ones included until merged away).

        Kept per searcher: a search with feedback asks for the same words several times
        (term statistics, then each pass's scores), and each answer is a walk of the
        dictionary.
        """
        key = (field, token)
        found = self._repeated.get(key)
        if found is None:
            prefix = _TF_SEPARATOR.join((field, token, ""))
            found = tuple(
                (int(repeated[len(prefix):]), documents)
                for repeated, documents in self.searcher.terms_with_prefix(TF_FIELD, prefix)
            )
            if len(self._repeated) >= _REPEATED_KEPT:
                self._repeated.clear()
            self._repeated[key] = found
        return found

    def documents(self) -> int:
        """Documents in the index, deleted ones not yet merged away included: tantivy's own
        ``N`` (every document holds one ``kind`` term, and the dictionary's counts include
        deleted documents)."""
        if self._documents is None:
            self._documents = sum(
                count for _, count in self.searcher.terms_with_prefix(KEYWORD_FIELD, "")
            )
        return self._documents

    def average_length(self, field: str) -> float:
        """The field's average length over the live documents (1 when there is none)."""
        if self._averages is None:
            live = self.searcher.num_docs
            sums = self.searcher.aggregate(tantivy.Query.all_query(), {
                name: {"sum": {"field": _length_column(name)}} for name in LENGTH_FIELDS
            }) if live else {}
            self._averages = {
                name: (float(sums[name]["value"] or 0.0) / live if live else 0.0) or 1.0
                for name in LENGTH_FIELDS
            }
        return self._averages.get(field, 1.0)


#: The candidates a plan node matches (by index), each with its score. Plain dicts, not numpy
#: arrays: there are a few dozen candidates, and numpy would add 14 MB and 70 ms to a process
#: that searches a tantivy index.
_Evaluated = dict[int, float]


class _Candidates:
    """The documents one relevance search re-scores (see ``TantivyBackend._bm25f``)."""

    def __init__(
        self, current: _Searcher, addresses: list[Any], position: dict[tuple[int, int], int],
        restriction: tantivy.Query,
    ) -> None:
        self.current = current
        self.addresses = addresses
        #: (segment, document) -> index in ``addresses``.
        self.position = position
        #: Matches these documents (and, rarely, another with the same key), scoring 0.
        self.restriction = restriction
        self._lengths: dict[str, list[int]] = {}
        #: (field, token) -> {candidate: its frequency there}, for the candidates holding it.
        self.frequencies: dict[tuple[str, str], dict[int, int]] = {}

    def lengths(self, field: str) -> list[int]:
        """Each candidate's length of ``field``, read from its fast field once."""
        found = self._lengths.get(field)
        if found is None:
            values = self.current.searcher.fast_field_values(_length_column(field), self.addresses)
            found = self._lengths[field] = [int(value or 0) for value in values]
        return found


class TantivyBackend:
    """A searchlib index stored by tantivy, on disk (or in memory, for tests).

    Safe to share between threads: writes are serialised, and every read works on the
    searcher that was current when it started.
    """

    name: ClassVar[str] = "tantivy"
    #: Version 3: records compressed with the index's own dictionary (see
    #: :mod:`.tantivy_records`; version 2 stored them as JSON, version 1 kept no field lengths).
    format_version: ClassVar[int] = 3
    #: tantivy indexes in a thread of its own, outside the interpreter's lock: the writing
    #: process mostly waits for parsed documents (one parse worker on 2 cores kept it idle
    #: 60% of the time), so there is a parse worker a core.
    busy_writer: ClassVar[bool] = False

    def __init__(
        self, index: tantivy.Index, folder: Path | None, language: str, *,
        lock_timeout: float = 0.0,
    ) -> None:
        self.language = check_language(language)
        self._index = index
        self._index.register_tokenizer(
            TOKENIZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()
        )
        self._schema = build_schema()
        self._folder = folder
        #: Where the index lives, for error messages (the index folder, as users name it).
        self.location = "memory" if folder is None else str(folder.parent)
        self.lock_timeout = lock_timeout
        self._stemmed = Analyzer(self.language)
        self._plain = Analyzer(self.language, stem=False, remove_stopwords=False)
        self._records = RecordCodec(folder, self.location)
        #: Guards the current searcher (held briefly by every read).
        self._lock = threading.RLock()
        #: Serialises writes in this process; searches go on during a write.
        self._write_lock = threading.Lock()
        self._opstamp = 0  # the last commit's, for an index in memory
        #: ``meta.json``'s (inode, mtime, ctime, size) when last read, and its opstamp.
        self._meta_seen: tuple[tuple[int, int, int, int], int] | None = None
        self._current_searcher: _Searcher | None = None
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def exists(cls, path: Path) -> bool:
        """Whether ``path`` holds a tantivy index."""
        return (path / SUBFOLDER / "meta.json").is_file()

    @classmethod
    def create(
        cls, path: Path | None, language: str, *, lock_timeout: float = 0.0
    ) -> TantivyBackend:
        """Create an empty index in ``path`` (an existing one there is replaced), or in RAM."""
        check_language(language)
        if path is None:
            return cls(tantivy.Index(build_schema()), None, language)
        folder = path / SUBFOLDER
        folder.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(build_schema(), path=str(folder), reuse=False)
        return cls(index, folder, language, lock_timeout=lock_timeout)

    @classmethod
    def open(cls, path: Path, language: str, *, lock_timeout: float = 0.0) -> TantivyBackend:
        """Open the index in ``path``; a damaged one raises ``IndexCorruptError``."""
        folder = path / SUBFOLDER
        try:
            index = tantivy.Index.open(str(folder))
            backend = cls(index, folder, language, lock_timeout=lock_timeout)
            backend._current()  # opens every segment now: a broken index fails here
        except (ValueError, OSError) as exc:
            raise damaged(path, exc) from exc
        except BaseException as exc:
            if _is_panic(exc):
                raise damaged(path, exc) from exc
            raise
        return backend

    @classmethod
    def owned_files(cls, path: Path) -> list[Path]:
        """The ``tantivy`` subfolder of ``path``, where every file of the index lives."""
        folder = path / SUBFOLDER
        return [folder] if folder.is_dir() else []

    def close(self) -> None:
        """Drop the searcher; the backend cannot be used afterwards."""
        with self._lock:
            self._closed = True
            self._current_searcher = None

    # -- writing -----------------------------------------------------------------------------

    def write(self, records: Iterable[Record], delete_ids: Iterable[str]) -> None:
        """Add or replace ``records`` and delete ``delete_ids`` in one tantivy commit.

        Records are added as they come (``records`` may be a generator that parse workers
        feed), then ``delete_ids`` is read. tantivy applies a deletion to the documents added
        before it, so an id met again in the same write deletes its earlier version.
        """
        with self._write_lock:
            if self._closed:
                raise UsageError(f"the index in {self.location} is closed")
            writer: tantivy.IndexWriter | None = None
            added: set[str] = set()
            replace = True
            try:
                pairs = ((record, _record_json(record)) for record in records)
                for record, stored in self._records.encoded(pairs, self._stored_samples):
                    document = self._document(record, stored)
                    if writer is None:
                        writer = self._writer()
                        # Nothing to replace in an empty index (a bulk load): no deletions.
                        replace = self._current().searcher.num_docs > 0
                    if replace or record.id in added:
                        writer.delete_documents_by_term("id", record.id)
                    writer.add_document(document)
                    added.add(record.id)
                deletes = [doc_id for doc_id in dict.fromkeys(delete_ids) if doc_id not in added]
                if deletes and writer is None:
                    writer = self._writer()
                for doc_id in deletes:
                    assert writer is not None
                    writer.delete_documents_by_term("id", doc_id)
                if writer is None:
                    return  # nothing to write: no commit
                self._opstamp = writer.commit()
            except BaseException:
                if writer is not None:
                    writer.rollback()
                raise
            finally:
                if writer is not None:
                    # Waits for merges the commit started, and drops the writer (and its lock).
                    writer.wait_merging_threads()
            if self._folder is not None:
                # tantivy syncs each segment file and meta.json before renaming it into place,
                # but not the folder after the rename: without this, a power cut could undo
                # the commit after write() returned (and the manifest saved after it).
                fsync_path(self._folder)
            with self._lock:
                self._current_searcher = None

    def _writer(self) -> tantivy.IndexWriter:
        """tantivy's writer, waiting up to ``lock_timeout`` for another writer to finish.

        Once the lock is held, files that no commit names are removed: a writer killed during
        its commit can leave a deletion file (``SEGMENT.OPSTAMP.del``) written but never
        committed, and the next writer, counting operations from the same last commit, would
        fail to create a file of the same name (tantivy collects such files only after a
        commit). No reader uses them: searches only open the segments of a commit.
        """
        deadline = time.monotonic() + max(self.lock_timeout, 0.0)
        while True:
            try:
                writer = self._index.writer(_WRITER_HEAP, 1)
                if self._folder is not None:
                    writer.garbage_collect_files()
                return writer
            except ValueError as exc:
                if "LockBusy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    waited = f" (waited {self.lock_timeout:g} s)" if self.lock_timeout > 0 else ""
                    raise IndexLockedError(
                        f"index is locked by another writer: {self.location}{waited}"
                    ) from None
                time.sleep(_LOCK_POLL_SECONDS)

    def _terms(self, record: Record) -> dict[str, list[str]]:
        """The analysed terms of each searchable field (analysed ahead when it can be)."""
        texts = field_texts(record)
        ahead = record.analysed
        known = ahead.terms if ahead is not None and ahead.language == self.language else {}
        terms: dict[str, list[str]] = {}
        for name, text in texts.items():
            if name in known:
                terms[name] = known[name]
            else:
                analyzer = self._plain if name in PLAIN_FIELDS else self._stemmed
                terms[name] = analyzer.terms(text)
        return terms

    def _stored_samples(self, limit: int) -> list[bytes]:
        """The JSON of up to ``limit`` stored records (samples to train a dictionary on)."""
        searcher = self._current().searcher
        if limit <= 0 or searcher.num_docs == 0:
            return []
        hits = searcher.search(tantivy.Query.all_query(), limit=limit, count=False).hits
        return [self._records.decode(searcher.doc(address)["record"][0]) for _, address in hits]

    def _stored(self, searcher: tantivy.Searcher, address: tantivy.DocAddress) -> Record:
        """The record of the document at ``address``."""
        return _record(self._records.decode(searcher.doc(address)["record"][0]))

    def _document(self, record: Record, stored: bytes) -> tantivy.Document:
        """The tantivy document of ``record``, whose record is stored as ``stored``."""
        doc = tantivy.Document()
        doc.add_text("id", record.id)
        repeated: list[str] = []
        lengths = dict.fromkeys(LENGTH_FIELDS, 0)
        for name, terms in self._terms(record).items():
            if name in DISTINCT_FIELDS:
                terms = list(dict.fromkeys(terms))
            else:
                repeated += [
                    _TF_SEPARATOR.join((name, _encode(term), str(count)))
                    for term, count in Counter(terms).items() if count > 1
                ]
            lengths[name] = len(terms)
            if terms:
                doc.add_text(name, _joined(terms))
        if repeated:
            doc.add_text(TF_FIELD, " ".join(repeated))
        completions = completion_terms(record.title, self.language)
        lengths[COMPLETION_FIELD] = len(completions)
        if completions:
            doc.add_text(COMPLETION_FIELD, " ".join(_encode(term) for term in completions))
        for name, length in lengths.items():
            doc.add_unsigned(_length_column(name), length)
        doc.add_text(KEYWORD_FIELD, record.kind)
        for topic in dict.fromkeys(record.topics):
            if topic:
                doc.add_text("topic", topic)
        if record.provider:
            doc.add_text("provider", record.provider)
        published = _utc(record.published)
        if published is None:
            doc.add_integer("newest", _MISSING)
            doc.add_integer("oldest", _MISSING)
        else:
            micros = _micros(published)
            doc.add_integer("published", micros)
            doc.add_integer("newest", micros)
            doc.add_integer("oldest", -micros)
            doc.add_text(DAY_FACET, published.date().isoformat())
        quality = _MISSING if record.quality is None else max(
            _MISSING + 1, min(2**63 - 1, record.quality)
        )
        doc.add_integer("quality_rank", quality)
        doc.add_unsigned("tiebreak", _tiebreak(record.id))
        doc.add_bytes("record", stored)
        return doc

    def generation(self) -> int:
        """The opstamp of the latest commit (0 for a new index), read from ``meta.json`` so
        that commits of other processes count."""
        if self._folder is None:
            return self._opstamp
        path = self._folder / "meta.json"
        try:
            # Every search asks: the file is parsed again only when it was replaced (tantivy
            # renames a new one into place, so its inode and times change).
            status = path.stat()
            signature = (status.st_ino, status.st_mtime_ns, status.st_ctime_ns, status.st_size)
            known = self._meta_seen
            if known is not None and known[0] == signature:
                return known[1]
            opstamp = int(json.loads(path.read_text(encoding="utf-8"))["opstamp"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise damaged(self.location, exc) from exc
        self._meta_seen = (signature, opstamp)
        return opstamp

    # -- reading -----------------------------------------------------------------------------

    def _current(self) -> _Searcher:
        """The searcher of the latest commit (a new one when another process committed)."""
        with self._lock:
            if self._closed:
                raise UsageError(f"the index in {self.location} is closed")
            generation = self.generation()
            current = self._current_searcher
            if current is None or current.generation != generation:
                # The reader tantivy made with the index reloads on its own only after a
                # delay: reload it now, so that a search sees every commit made before it.
                self._index.reload()
                current = _Searcher(self._index.searcher(), generation)
                self._current_searcher = current
            return current

    def get(self, doc_id: str) -> Record | None:
        """The stored record with that id, or None."""
        with _guard(self.location):
            searcher = self._current().searcher
            query = tantivy.Query.term_query(self._schema, "id", doc_id, index_option="basic")
            hits = searcher.search(query, limit=1, count=False).hits
            return self._stored(searcher, hits[0][1]) if hits else None

    def records(self, *, kind: str | None = None) -> Iterator[Record]:
        """Every stored record (of one kind), a snapshot of the current commit."""
        with _guard(self.location):
            searcher = self._current().searcher
            if searcher.num_docs == 0:
                return
            query = tantivy.Query.all_query() if kind is None else tantivy.Query.term_query(
                self._schema, KEYWORD_FIELD, kind, index_option="basic"
            )
            addresses = [
                address for _, address
                in searcher.search(query, limit=searcher.num_docs, count=False).hits
            ]
        for address in addresses:
            with _guard(self.location):
                record = self._stored(searcher, address)
            yield record

    def info(self) -> IndexInfo:
        """Live documents, bytes on disk, and documents per facet value (cached per commit)."""
        with _guard(self.location):
            current = self._current()
            if current.info is None:
                counts = self._facet_counts(current.searcher, tantivy.Query.all_query(), FACETS)
                current.info = IndexInfo(current.searcher.num_docs, self._size_bytes(), counts)
            return current.info

    def _size_bytes(self) -> int:
        if self._folder is None:
            return 0
        total = 0
        for entry in self._folder.iterdir():
            try:
                total += entry.stat().st_size if entry.is_file() else 0
            except FileNotFoundError:
                continue  # removed meanwhile by a writer's clean-up (another process's)
        return total

    def term_stats(self, field: str, terms: Iterable[str]) -> Mapping[str, TermStats]:
        """Live documents holding each term in ``field``, and its occurrences there."""
        (name,) = _check_fields((field,))
        with _guard(self.location):
            return self._term_stats(self._current(), name, terms)

    def _term_stats(
        self, current: _Searcher, name: str, terms: Iterable[str]
    ) -> dict[str, TermStats]:
        searcher = current.searcher
        # Without deleted documents the dictionary's counts are the live ones; with some,
        # each count is a counting search over the term's postings (tantivy's filtered walk
        # of the dictionary would read every live document for each term instead: 0.5 ms a
        # term at 100,000 articles, half of a search with feedback).
        exact = not current.has_deletions()

        def live(field: str, token: str) -> int:
            if exact:
                return current.doc_freq(field, token)
            return self._count(searcher, self._term_query(field, token))

        out: dict[str, TermStats] = {}
        for term in terms:
            token = _encode(term)
            df = live(name, token)
            frequency = df
            if df and name not in _ONCE_FIELDS:
                prefix = _TF_SEPARATOR.join((name, token, ""))
                for count, documents in current.repeated(name, token):
                    holding = documents if exact else live(TF_FIELD, f"{prefix}{count}")
                    frequency += (count - 1) * holding
            out[term] = TermStats(df, frequency)
        return out

    def similar_words(self, word: str, max_distance: int, limit: int) -> list[str]:
        """Words of the ``spell`` field within ``max_distance`` edits of ``word`` that share
        its first letter, in the most live documents first, then alphabetically."""
        if not word or max_distance < 0 or limit <= 0:
            return []
        with _guard(self.location):
            current = self._current()
            # The dictionary's counts (deleted documents included) for every word with that
            # first letter; live counts only for the few within reach.
            candidates = current.searcher.terms_with_prefix("spell", _encode(word[:1]))
            close = [
                (self._live_count(current, "spell", token, count), _decode(token))
                for token, count in candidates
                if abs(len(_decode(token)) - len(word)) <= max_distance
                and levenshtein(_decode(token), word) <= max_distance
            ]
        close = [(count, term) for count, term in close if count > 0]
        close.sort(key=lambda ct: (-ct[0], ct[1]))
        return [term for _, term in close[:limit]]

    def complete(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """Completions of ``prefix`` from titles, in the most live documents first, then
        alphabetically.

        The dictionary gives completions with their count of documents, deleted ones
        included until merged away: an upper bound of the live count. tantivy picks the
        best few hundred by that bound (a short prefix has tens of thousands of completions
        at 100,000 articles: turning them all into Python objects took 70 ms); those are
        counted live, best bound first, until the ``limit``-th best live count is above the
        next bound; when the few hundred do not settle it, more are asked for. Answers are
        kept per commit: short prefixes, the costly ones, are the ones typed most.
        """
        if not prefix or limit <= 0:
            return []
        with _guard(self.location):
            current = self._current()
            key = (prefix, limit)
            kept = current.completions.get(key)
            if kept is not None:
                return list(kept)
            token = _encode(prefix)
            asked = max(limit + 1, _COMPLETIONS_ASKED)
            while True:
                found = current.searcher.terms_with_prefix(COMPLETION_FIELD, token, limit=asked)
                best = self._best_completions(current, found, limit)
                # Completions not returned have at most the last one's count.
                floor = found[-1][1] if found else 0
                if len(found) < asked or (len(best) >= limit and -best[-1][0] > floor):
                    break
                asked *= 8
        answer = [(term, -negative) for negative, term in best]
        if len(current.completions) >= _COMPLETIONS_KEPT:
            current.completions.clear()
        current.completions[key] = tuple(answer)
        return answer

    def _best_completions(
        self, current: _Searcher, found: list[tuple[str, int]], limit: int
    ) -> list[tuple[int, str]]:
        """The best ``limit`` of ``found`` (tokens with their dictionary counts) as
        ``(-live count, term)``, sorted."""
        bounds = sorted(
            ((count, _decode(token), token) for token, count in found if count > 0),
            key=lambda entry: (-entry[0], entry[1]),
        )
        best: list[tuple[int, str]] = []
        for bound, term, token in bounds:
            if len(best) >= limit and bound < -best[-1][0]:
                break  # no later completion can reach the ones kept
            live = self._live_count(current, COMPLETION_FIELD, token, bound)
            if live > 0:
                best.append((-live, term))
                best.sort()
                del best[limit:]
        return best

    # -- searching ---------------------------------------------------------------------------

    def execute(
        self,
        plan: p.Plan | None,
        filters: p.Filters,
        facets: Mapping[str, p.Filters],
        sort: SortName,
        offset: int,
        limit: int,
    ) -> Execution:
        """Evaluate ``plan`` under ``filters``: total, the window in ``sort`` order, facets."""
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
        if plan is None:
            return Execution(0, (), {facet: {} for facet in facets})
        with _guard(self.location):
            return self._execute(self._current(), plan, filters, facets, sort, offset, limit)

    def _execute(
        self, current: _Searcher, plan: p.Plan, filters: p.Filters,
        facets: Mapping[str, p.Filters], sort: SortName, offset: int, limit: int,
    ) -> Execution:
        searcher = current.searcher
        query = self._compile(current, plan)
        scored = sort == "relevance" and bool(p.positive_leaves(plan))
        filtered = self._filtered(query, filters)
        if scored and limit and any(
            isinstance(leaf, p.Words) and len(leaf.terms) == 1 for leaf in p.positive_leaves(plan)
        ):
            total, window = self._rescored_window(current, plan, filtered, offset, limit)
        else:
            total, window = self._window(searcher, filtered, sort, scored, offset, limit)
        page = tuple(
            (self._stored(searcher, address), score) for address, score in window
        )
        counts: dict[str, Mapping[str, int]] = {}
        by_filters: dict[p.Filters, list[str]] = {}
        for facet, facet_filters in facets.items():
            by_filters.setdefault(facet_filters, []).append(facet)
        for facet_filters, names in by_filters.items():
            counts.update(self._facet_counts(
                searcher, self._filtered(query, facet_filters), names
            ))
        return Execution(total, page, {facet: counts[facet] for facet in facets})

    def count(self, plan: p.Plan | None, filters: p.Filters) -> int:
        """How many documents match ``plan`` under ``filters``."""
        if plan is None:
            return 0
        with _guard(self.location):
            current = self._current()
            return self._count(
                current.searcher, self._filtered(self._compile(current, plan), filters)
            )

    def _live_count(
        self, current: _Searcher, field: str, token: str, dictionary_count: int
    ) -> int:
        """Live documents holding ``token`` in ``field``, given the dictionary's count (which
        includes deleted documents): that count itself when nothing is deleted, else a
        counting search over the term's postings."""
        if not dictionary_count or not current.has_deletions():
            return dictionary_count
        return self._count(current.searcher, self._term_query(field, token))

    @staticmethod
    def _count(searcher: tantivy.Searcher, query: tantivy.Query) -> int:
        # A window of one: tantivy refuses (panics on) a window of none.
        return _total(searcher.search(query, limit=1, count=True))

    def _window(
        self, searcher: tantivy.Searcher, query: tantivy.Query, sort: SortName, scored: bool,
        offset: int, limit: int,
    ) -> tuple[int, list[tuple[Any, float | None]]]:
        """The total and the documents ``[offset, offset + limit)`` of the whole order.

        tantivy orders on one key; every document tying with the window's last one is fetched
        too (a wider window until one falls below it), so the full key decides among them.
        """
        need = offset + limit
        if limit == 0:
            return self._count(searcher, query), []
        column = None if scored else {
            "relevance": "newest", "newest": "newest", "oldest": "oldest",
            "quality": "quality_rank",
        }[sort]
        size = need
        while True:
            result = searcher.search(query, limit=size, count=True, order_by_field=column)
            hits = result.hits
            if len(hits) < size or hits[-1][0] != hits[need - 1][0]:
                break
            size *= 4
        addresses = [address for _, address in hits]
        ties = searcher.fast_field_values("tiebreak", addresses) if addresses else []
        newest: list[Any] = (
            searcher.fast_field_values("newest", addresses)
            if addresses and (scored or sort == "quality") else [0] * len(addresses)
        )
        order = sorted(
            range(len(hits)), key=lambda i: (-hits[i][0], -(newest[i] or 0), ties[i] or 0)
        )
        window = [
            (hits[i][1], float(hits[i][0]) if scored else None) for i in order[offset:need]
        ]
        return _total(result), window

    def _rescored_window(
        self, current: _Searcher, plan: p.Plan, query: tantivy.Query, offset: int, limit: int,
    ) -> tuple[int, list[tuple[Any, float | None]]]:
        """The total and the window ``[offset, offset + limit)`` of a scored plan, in BM25F
        order.

        tantivy ranks on its own BM25 per field (weighted, with one idf a word, see
        :meth:`_term`); its best ``max(offset + limit, RESCORED)`` documents are scored again
        exactly with BM25F (:meth:`_bm25f`),
        then ordered on score, newer first, then the id's hash. When a query has no more
        matches than that, every match is re-scored and the order is exactly BM25F's; beyond,
        a document tantivy ranks outside the candidates stays below them.
        """
        searcher = current.searcher
        need = offset + limit
        # No wider window for documents tying with the last candidate (tantivy's scores tie
        # often: lengths are quantised to a byte): tantivy breaks such ties by address, the
        # same way for every page of one commit, so pages within the candidates are windows
        # of one order.
        result = searcher.search(query, limit=max(need, RESCORED), count=True)
        total = _total(result)
        addresses = [address for _, address in result.hits]
        if not addresses:
            return total, []
        ties = searcher.fast_field_values("tiebreak", addresses)
        newest = searcher.fast_field_values("newest", addresses)
        scores = self._bm25f(current, plan, addresses, [int(key or 0) for key in ties])
        order = sorted(
            range(len(addresses)),
            key=lambda i: (-scores[i], -(newest[i] or 0), ties[i] or 0),
        )
        return total, [(addresses[i], float(scores[i])) for i in order[offset:need]]

    def _bm25f(
        self, current: _Searcher, plan: p.Plan, addresses: list[Any], keys: list[int]
    ) -> list[float]:
        """The BM25F score of each document of ``addresses`` (all matching ``plan``), as the
        reference backend scores it.

        Each leaf is evaluated over these documents only, by a search restricted to them
        (their ``tiebreak`` keys; called only for plans with a one-word leaf, since the others
        score as tantivy does already): a one-word leaf reads each field's term frequency exactly
        (:meth:`_frequencies`), then weights, length-normalises (lengths are fast fields) and
        saturates them once; a phrase, prefix or fuzzy leaf keeps tantivy's score of its
        query. ``All``/``Any`` add their matching children's scores, ``Boost`` multiplies,
        ``Exclude`` scores as its positive part.
        """
        position = {(a.segment_ord, a.doc): i for i, a in enumerate(addresses)}
        # One term query a key, not a term-set query: tantivy's walks the whole dictionary
        # of the field (one term a document), ten times slower for a few hundred keys.
        restriction = tantivy.Query.const_score_query(tantivy.Query.boolean_query([
            (tantivy.Occur.Should,
             tantivy.Query.term_query(self._schema, "tiebreak", key, index_option="basic"))
            for key in dict.fromkeys(keys)
        ]), 0.0)
        scope = _Candidates(current, addresses, position, restriction)
        # Every one-word leaf's frequencies at once: as few restricted searches as the
        # score's bits allow, not one (or more) a word.
        pairs = [
            (name, token)
            for leaf in p.leaves(plan) if isinstance(leaf, p.Words) and len(leaf.terms) == 1
            for token in (_encode(leaf.terms[0]),)
            for name in _check_fields(leaf.fields) if current.doc_freq(name, token)
        ]
        scope.frequencies.update(self._frequencies(scope, pairs))
        scores = self._evaluate(scope, plan, {})
        return [scores.get(i, 0.0) for i in range(len(addresses))]

    def _evaluate(
        self, scope: _Candidates, plan: p.Plan, memo: dict[p.Plan, _Evaluated],
    ) -> _Evaluated:
        """The candidates ``plan`` matches, with their scores."""
        found = memo.get(plan)
        if found is not None:
            return found
        if isinstance(plan, p.Everything):
            found = dict.fromkeys(range(len(scope.addresses)), 0.0)
        elif isinstance(plan, p.Words) and len(plan.terms) == 1:
            found = self._word(scope, plan.terms[0], _check_fields(plan.fields))
        elif isinstance(plan, (p.Words, p.Prefix, p.Fuzzy)):
            found = self._leaf(scope, plan)
        elif isinstance(plan, (p.All, p.Any)):
            parts = [self._evaluate(scope, child, memo) for child in plan.children]
            found = {}
            if isinstance(plan, p.All) and parts:
                common = set(parts[0]).intersection(*parts[1:])
                found = {i: sum(part[i] for part in parts) for i in sorted(common)}
            elif isinstance(plan, p.Any):
                for part in parts:
                    for i, score in part.items():
                        found[i] = found.get(i, 0.0) + score
        elif isinstance(plan, p.Exclude):
            positive = self._evaluate(scope, plan.positive, memo)
            excluded = self._evaluate(scope, plan.excluded, memo)
            found = {i: score for i, score in positive.items() if i not in excluded}
        elif isinstance(plan, p.Boost):
            child = self._evaluate(scope, plan.child, memo)
            found = {i: score * plan.factor for i, score in child.items()}
        else:
            raise TypeError(f"not a plan node: {plan!r}")
        memo[plan] = found
        return found

    def _leaf(self, scope: _Candidates, plan: p.Words | p.Prefix | p.Fuzzy) -> _Evaluated:
        """A leaf scored by tantivy: its query's score in each candidate it matches."""
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Must, self._compile(scope.current, plan)),
            (tantivy.Occur.Must, scope.restriction),
        ])
        return {
            at: float(value) for at, value in self._restricted(scope, query) if at is not None
        }

    @staticmethod
    def _restricted(
        scope: _Candidates, query: tantivy.Query
    ) -> Iterator[tuple[int | None, float]]:
        """The candidates (their index; None for another document with the same key) a
        query restricted to them finds, with their scores."""
        hits = scope.current.searcher.search(query, limit=len(scope.addresses), count=False).hits
        for value, address in hits:
            yield scope.position.get((address.segment_ord, address.doc)), value

    def _word(self, scope: _Candidates, term: str, fields: tuple[str, ...]) -> _Evaluated:
        """One word in any of ``fields``: BM25F over the candidates.

        ``idf`` is Lucene's, with the largest document frequency among the fields (tantivy's
        statistics: deleted documents count until merged away); a field's frequency is
        divided by ``1 - b + b * length / average`` and weighted, the fields' sum saturated
        once: ``idf * tfn * (k1 + 1) / (tfn + k1)``.
        """
        current = scope.current
        token = _encode(term)
        dfs = {name: current.doc_freq(name, token) for name in fields}
        present = tuple(name for name in fields if dfs[name])
        if not present:
            return {}
        idf = _idf(max(dfs.values()), current.documents())
        missing = [(name, token) for name in present if (name, token) not in scope.frequencies]
        if missing:
            scope.frequencies.update(self._frequencies(scope, missing))
        tfn: dict[int, float] = {}
        for name in present:
            frequencies = scope.frequencies[name, token]
            weight = FIELD_WEIGHTS.get(name, 1.0)
            if name == KEYWORD_FIELD:  # one term a document: its length is 1, as the average
                for i, tf in frequencies.items():
                    tfn[i] = tfn.get(i, 0.0) + weight * tf
                continue
            average = current.average_length(name)
            lengths = scope.lengths(name)
            for i, tf in frequencies.items():
                norm = (1 - BM25_B) + BM25_B * lengths[i] / average
                tfn[i] = tfn.get(i, 0.0) + weight * tf / norm
        return {
            i: idf * value * (BM25_K1 + 1) / (value + BM25_K1)
            for i, value in tfn.items() if value > 0
        }

    def _frequencies(
        self, scope: _Candidates, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[int, int]]:
        """The frequency of each ``(field, token)`` of ``pairs`` for the candidates holding
        it.

        A counting search scores each document ``tf * 2**offset`` summed over the pairs it
        reads: ``1`` for holding the term, plus ``count - 1`` for its ``tf`` token
        (``field␁term␁count``, see the module docstring) when it holds it more than once; the
        largest count in the dictionary says how many bits a pair needs, and the pairs are
        packed (widest first, each into the first search with room) into as few searches as
        keep the sum an exact float32 integer: a long query's thirty words need about a
        third as many searches as words.
        """
        current = scope.current
        clauses: dict[tuple[str, str], list[tuple[tantivy.Query, int]]] = {}
        bits: dict[tuple[str, str], int] = {}
        for pair in dict.fromkeys(pairs):
            name, token = pair
            found = [(self._term_query(name, token), 1)]
            largest = 1
            if name not in _ONCE_FIELDS:
                prefix = _TF_SEPARATOR.join((name, token, ""))
                for count, _ in current.repeated(name, token):
                    largest = max(largest, count)
                    found.append((self._term_query(TF_FIELD, f"{prefix}{count}"), count - 1))
            clauses[pair] = found
            bits[pair] = largest.bit_length()
        groups: list[tuple[int, list[tuple[str, str]]]] = []  # (bits used, pairs)
        for pair in sorted(clauses, key=lambda pair: -bits[pair]):
            for at, (used, members) in enumerate(groups):
                if used + bits[pair] <= _SCORE_BITS:
                    groups[at] = (used + bits[pair], [*members, pair])
                    break
            else:
                groups.append((bits[pair], [pair]))
        out: dict[tuple[str, str], dict[int, int]] = {}
        for _, group in groups:
            offsets: dict[tuple[str, str], int] = {}
            should: list[tuple[tantivy.Occur, tantivy.Query]] = []
            shift = 0
            for pair in group:
                offsets[pair] = shift
                should += [
                    (tantivy.Occur.Should,
                     tantivy.Query.const_score_query(query, float(value << shift)))
                    for query, value in clauses[pair]
                ]
                shift += bits[pair]
            query = tantivy.Query.boolean_query([
                (tantivy.Occur.Must, tantivy.Query.boolean_query(should)),
                (tantivy.Occur.Must, scope.restriction),
            ])
            packed = {at: round(value) for at, value in self._restricted(scope, query)
                      if at is not None}
            for pair in group:
                mask, shift = (1 << bits[pair]) - 1, offsets[pair]
                read = ((at, (value >> shift) & mask) for at, value in packed.items())
                out[pair] = {at: tf for at, tf in read if tf}
        return out

    def _facet_counts(
        self, searcher: tantivy.Searcher, query: tantivy.Query, facets: Iterable[str]
    ) -> dict[str, Mapping[str, int]]:
        """Documents per value of each facet among the documents ``query`` matches."""
        names = list(facets)
        aggregation = {
            name: {"terms": {"field": name, "size": _MAX_BUCKETS, "segment_size": _MAX_BUCKETS}}
            for name in names
        }
        result = searcher.aggregate(query, aggregation) if names else {}
        out: dict[str, Mapping[str, int]] = {}
        for name in names:
            buckets = result.get(name, {}).get("buckets", [])
            # In no order: the pipeline picks the top values itself.
            out[name] = {str(b["key"]): int(b["doc_count"]) for b in buckets if b["doc_count"]}
        return out

    # -- compiling plans ---------------------------------------------------------------------

    def _filtered(self, query: tantivy.Query, filters: p.Filters) -> tantivy.Query:
        """``query`` under ``filters``; the filters add nothing to a score."""
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for facet, field in (("topic", "topic"), ("provider", "provider"),
                             ("kind", KEYWORD_FIELD)):
            values = filters.values(facet)
            if values:
                clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(
                    tantivy.Query.term_set_query(self._schema, field, list(values)), 0.0
                )))
        if filters.since is not None or filters.until is not None:
            since = None if filters.since is None else _micros(filters.since)
            until = None if filters.until is None else _micros(filters.until)
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(
                tantivy.Query.range_query(
                    self._schema, "published", tantivy.FieldType.Integer, since, until
                ), 0.0,
            )))
        if filters.exclude_ids:
            clauses.append((tantivy.Occur.MustNot, tantivy.Query.term_set_query(
                self._schema, "id", list(filters.exclude_ids)
            )))
        if not clauses:
            return query
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), *clauses])

    def _compile(self, current: _Searcher, plan: p.Plan) -> tantivy.Query:
        """The tantivy query of a plan node (see :mod:`searchlib.plan` for the semantics)."""
        query = tantivy.Query
        if isinstance(plan, p.Everything):
            return query.const_score_query(query.all_query(), 0.0)
        if isinstance(plan, p.Words):
            return self._words(current, plan)
        if isinstance(plan, p.Prefix):
            fields = _check_fields(plan.fields)
            prefixes = tuple(_encode(prefix) for prefix in plan.prefixes)
            return self._expanded(current, fields, prefixes, lambda term: True)
        if isinstance(plan, p.Fuzzy):
            fields = _check_fields(plan.fields)
            if plan.distance < 0:
                return query.empty_query()
            start = plan.term[: max(plan.prefix_length, 0)]
            distance, target = plan.distance, plan.term

            def close(term: str) -> bool:
                word = _decode(term)
                return abs(len(word) - len(target)) <= distance and (
                    levenshtein(word, target) <= distance
                )

            return self._expanded(current, fields, (_encode(start),), close)
        if isinstance(plan, (p.All, p.Any)):
            if not plan.children:
                return query.empty_query()
            occur = tantivy.Occur.Must if isinstance(plan, p.All) else tantivy.Occur.Should
            children = [self._compile(current, child) for child in plan.children]
            if len(children) == 1:
                return children[0]
            return query.boolean_query([(occur, child) for child in children])
        if isinstance(plan, p.Exclude):
            return query.boolean_query([
                (tantivy.Occur.Must, self._compile(current, plan.positive)),
                (tantivy.Occur.MustNot, self._compile(current, plan.excluded)),
            ])
        if isinstance(plan, p.Boost):
            return query.boost_query(self._compile(current, plan.child), plan.factor)
        raise TypeError(f"not a plan node: {plan!r}")

    def _term_query(self, field: str, token: str) -> tantivy.Query:
        return tantivy.Query.term_query(self._schema, field, token, index_option="freq")

    def _any(self, clauses: list[tantivy.Query]) -> tantivy.Query:
        """Documents matching any of ``clauses``, their scores added."""
        if not clauses:
            return tantivy.Query.empty_query()
        if len(clauses) == 1:
            return clauses[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, c) for c in clauses])

    @staticmethod
    def _weighted(query: tantivy.Query, field: str) -> tantivy.Query:
        weight = FIELD_WEIGHTS.get(field, 1.0)
        return query if weight == 1.0 else tantivy.Query.boost_query(query, weight)

    def _words(self, current: _Searcher, node: p.Words) -> tantivy.Query:
        """One term in any of the fields, or a phrase in one of the positional ones."""
        fields = _check_fields(node.fields)
        if not node.terms:
            return tantivy.Query.empty_query()
        tokens = [_encode(term) for term in node.terms]
        if len(tokens) == 1:
            return self._term(current, tokens[0], fields)
        words: list[str | tuple[int, str]] = list(tokens)
        return self._any([
            self._weighted(tantivy.Query.phrase_query(self._schema, name, words), name)
            for name in fields if name in POSITIONAL_FIELDS
        ])

    def _term(self, current: _Searcher, token: str, fields: tuple[str, ...]) -> tantivy.Query:
        """One term in any of ``fields``: each field's BM25, weighted, added up, with one idf
        for the word (the largest document frequency among the fields, as BM25F has it):
        tantivy computes each field's idf from that field's frequency, so each field's
        weight is scaled by the ratio of the two. This is what finds the candidates that
        :meth:`_bm25f` re-scores, so it should rank like BM25F already."""
        dfs = {name: current.doc_freq(name, token) for name in fields}
        present = [name for name in fields if dfs[name]]
        if not present:
            return tantivy.Query.empty_query()
        documents = current.documents()
        idf = _idf(max(dfs.values()), documents)
        return self._any([
            tantivy.Query.boost_query(
                self._term_query(name, token),
                FIELD_WEIGHTS.get(name, 1.0) * idf / _idf(dfs[name], documents),
            )
            for name in present
        ])

    def _expanded(
        self, current: _Searcher, fields: tuple[str, ...], prefixes: tuple[str, ...],
        accept: Callable[[str], bool],
    ) -> tantivy.Query:
        """Every dictionary term of ``fields`` starting with one of ``prefixes`` that
        ``accept`` s, each scored as a word over all of ``fields``, scores added."""
        searcher = current.searcher
        vocabulary: set[str] = set()
        for name in fields:
            for prefix in dict.fromkeys(prefixes):
                vocabulary.update(
                    term for term, _ in searcher.terms_with_prefix(name, prefix) if accept(term)
                )
        # Terms only deleted documents held are still in the dictionary: they match nothing.
        return self._any([self._term(current, term, fields) for term in sorted(vocabulary)])
