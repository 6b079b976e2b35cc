"""The memory backend: every record in a dict, every search by brute force, in plain Python.

It is the reference implementation of :class:`~searchlib.backends.base.Backend`: the
conformance suite checks every other engine against it, so it favours being obviously correct
over being fast (each search walks every document). It is also what ``Engine.in_memory()``
uses, so tests of code built on searchlib need no index folder.

How it reads the parts of the protocol that leave room (every engine must agree):

- **Terms.** Each record's :func:`~searchlib.records.field_texts` are analysed at write time:
  the text fields (title, excerpt, body, related) with the stemming analyzer, the plain fields
  (provider_text, topic_text, spell) unstemmed with stopwords kept, and ``kind`` as one keyword
  term, its value as stored. A term's position is its index in the field's term list
  (analysis numbers only the tokens it keeps).
- **Phrases** (``Words`` with several terms) match only in the positional text fields
  (:data:`~searchlib.schema.POSITIONAL_FIELDS`) among the node's fields; overlapping
  occurrences count ("a a" occurs twice in "a a a").
- **Empty nodes.** ``Words`` without terms or fields, ``Prefix`` without prefixes, and an
  ``All`` or ``Any`` without children match nothing; so does a negative ``Fuzzy`` distance.
- **Scores.** BM25F with Lucene's idf, ``log(1 + (N - df + 0.5) / (df + 0.5))``, where ``N``
  counts live documents and ``df`` is the largest per-field document frequency of the term (of
  the phrase, for a phrase) among the node's fields. A term's field frequencies (phrase
  occurrences for a phrase) are weighted (:data:`~searchlib.schema.FIELD_WEIGHTS`, 1 for the
  plain fields and ``kind``) and length-normalised, ``tf / (1 - b + b * length / average)``
  with the average over live documents, then summed and saturated once,
  ``idf * tfn * (k1 + 1) / (tfn + k1)``. ``Prefix`` and ``Fuzzy`` add up this score over the
  terms they expand to (the terms of the live documents' vocabulary of their fields).
  ``Everything`` scores 0; ``All``, ``Any`` add their matching children's scores, ``Exclude``
  scores as its positive part, ``Boost`` multiplies.
- **Scored plans.** A plan is ranked by score when it has a leaf outside every exclusion
  (:func:`~searchlib.plan.positive_leaves`); otherwise (``Everything``, or ``Everything``
  minus some words) ``relevance`` orders it newest first and the page carries no scores.
- **Order.** Every sort ends on the document id, so equal keys always come out the same way.
- **Facet values.** A document counts once per distinct topic; an empty provider is no
  provider (it neither counts nor matches a provider filter).
- **Dates.** A naive datetime, in a record or a filter, is taken as UTC.
- **Writes.** Deletions apply before the records of the same write, so an id both deleted and
  written is kept, as written. An empty write (no records, no ids) is not a commit; any
  other write is, and adds one to :meth:`MemoryBackend.generation` (0 for a new index), even
  when it only deletes unknown ids.
- **Distinct fields** (:data:`~searchlib.records.DISTINCT_FIELDS`, the ``spell`` field) hold
  each term of a document once: its frequency there is 1, the field's length is the number of
  distinct terms, and a term's total frequency is its document frequency.
- **Completions** (``complete``) are the terms of the ``complete`` field
  (:func:`~searchlib.records.completion_terms` of the title), weighted by the live documents
  holding them.
- **Similar words** include ``word`` itself when the vocabulary has it; "most frequent" is the
  number of live documents whose ``spell`` field holds the word.
"""

from __future__ import annotations

import copy
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from ..analysis import Analyzer, check_language
from ..errors import UsageError
from ..plan import (
    All,
    Any,
    Boost,
    Everything,
    Exclude,
    Filters,
    Fuzzy,
    Plan,
    Prefix,
    Words,
    positive_leaves,
)
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
    Sort,
)
from .base import Execution, IndexInfo, TermStats

#: The keyword field: one term, the record's kind.
KEYWORD_FIELD = "kind"
#: Every field a plan may name.
FIELDS: tuple[str, ...] = (*FIELD_WEIGHTS, *PLAIN_FIELDS, KEYWORD_FIELD, COMPLETION_FIELD)


def levenshtein(a: str, b: str) -> int:
    """The Levenshtein distance: inserted, deleted or replaced characters (no transpositions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(
                previous[j] + 1,  # delete ca
                current[j - 1] + 1,  # insert cb
                previous[j - 1] + (ca != cb),  # replace (or keep)
            ))
        previous = current
    return previous[-1]


def _utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime (a naive one is taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _phrase_count(terms: tuple[str, ...], phrase: tuple[str, ...]) -> int:
    """How many times ``phrase`` occurs in ``terms``, adjacent and in order."""
    n = len(phrase)
    return sum(1 for i in range(len(terms) - n + 1) if terms[i : i + n] == phrase)


def _facet_values(record: Record, facet: str) -> set[str]:
    """The values a record has for one facet."""
    if facet == "topic":
        return {topic for topic in record.topics if topic}
    if facet == "provider":
        return {record.provider} if record.provider else set()
    if facet == "kind":
        return {record.kind}
    if facet == DAY_FACET:
        published = _utc(record.published)
        return set() if published is None else {published.date().isoformat()}
    raise ValueError(f"unknown facet {facet!r}: choose one of {', '.join(FACETS)}")


def _check_fields(fields: Iterable[str]) -> tuple[str, ...]:
    """``fields`` without repeats; a field no record has is a mistake in the plan."""
    unique = tuple(dict.fromkeys(fields))
    for name in unique:
        if name not in FIELDS:
            raise ValueError(f"unknown field {name!r}: choose one of {', '.join(FIELDS)}")
    return unique


@dataclass(frozen=True)
class _Doc:
    """A stored record and the terms of each of its fields, in position order."""

    record: Record
    terms: Mapping[str, tuple[str, ...]]
    counts: Mapping[str, Counter[str]]


class _Snapshot:
    """The documents of one commit and the statistics BM25F needs. Never changed once built."""

    def __init__(self, docs: Mapping[str, _Doc]) -> None:
        self.docs = docs
        self.doc_freq: dict[str, Counter[str]] = {name: Counter() for name in FIELDS}
        self.frequency: dict[str, Counter[str]] = {name: Counter() for name in FIELDS}
        lengths: Counter[str] = Counter()
        for doc in docs.values():
            for name in FIELDS:
                self.doc_freq[name].update(doc.counts[name].keys())
                self.frequency[name].update(doc.counts[name])
                lengths[name] += len(doc.terms[name])
        count = len(docs)
        self.average_length = {
            name: (lengths[name] / count if count else 0.0) for name in FIELDS
        }

    def idf(self, df: int) -> float:
        """Lucene's idf of a term (or phrase) that ``df`` of the live documents hold."""
        n = len(self.docs)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def bm25f(self, doc: _Doc, idf: float, frequencies: Mapping[str, int]) -> float:
        """One BM25F term: weighted, length-normalised field frequencies, saturated once."""
        tfn = 0.0
        for name, tf in frequencies.items():
            if tf <= 0:
                continue
            average = self.average_length[name] or 1.0
            norm = 1 - BM25_B + BM25_B * len(doc.terms[name]) / average
            tfn += FIELD_WEIGHTS.get(name, 1.0) * tf / norm
        if tfn == 0.0:
            return 0.0
        return idf * tfn * (BM25_K1 + 1) / (tfn + BM25_K1)


class MemoryBackend:
    """An index held in memory, searched by brute force: the reference engine.

    Safe to share between threads: a write builds a new snapshot of the documents and swaps it
    in, and every read works on the snapshot that was current when it started.
    """

    name: ClassVar[str] = "memory"
    format_version: ClassVar[int] = 1
    busy_writer: ClassVar[bool] = True

    def __init__(self, language: str) -> None:
        self.language = check_language(language)
        self._stemmed = Analyzer(self.language)
        self._plain = Analyzer(self.language, stem=False, remove_stopwords=False)
        self._lock = threading.Lock()
        self._snapshot = _Snapshot({})
        self._generation = 0
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def exists(cls, path: Path) -> bool:
        """Always False: a memory index has no files."""
        return False

    @classmethod
    def create(
        cls, path: Path | None, language: str, *, lock_timeout: float = 0.0
    ) -> MemoryBackend:
        """A new, empty index in memory. ``path`` must be None: nothing is ever written."""
        if path is not None:
            raise UsageError(
                f"the memory backend keeps its index in memory only and cannot create one in "
                f"{path}: create it without a path"
            )
        return cls(language)

    @classmethod
    def open(cls, path: Path, language: str, *, lock_timeout: float = 0.0) -> MemoryBackend:
        """Always raises :class:`UsageError`: a memory index cannot be opened from disk."""
        raise UsageError(
            f"the memory backend has no index on disk to open in {path}: "
            "create a new one without a path, or use an on-disk backend"
        )

    @classmethod
    def owned_files(cls, path: Path) -> list[Path]:
        """Always empty: a memory index has no files."""
        return []

    def close(self) -> None:
        """Drop the documents; the backend cannot be used afterwards."""
        with self._lock:
            self._closed = True
            self._snapshot = _Snapshot({})

    def _current(self) -> _Snapshot:
        if self._closed:
            raise UsageError("the memory index is closed")
        return self._snapshot

    # -- writing -----------------------------------------------------------------------------

    def write(self, records: Iterable[Record], delete_ids: Iterable[str]) -> None:
        """Add or replace ``records`` and delete ``delete_ids`` at once.

        The last record of an id wins; deleting an unknown id is not an error. Everything is
        analysed before the index changes, so a failing record leaves it as it was.
        """
        batch: dict[str, _Doc] = {}
        for record in records:
            batch[record.id] = self._document(record)
        deletes = list(dict.fromkeys(delete_ids))
        if not batch and not deletes:
            return
        with self._lock:
            if self._closed:
                raise UsageError("the memory index is closed")
            docs = dict(self._snapshot.docs)
            for doc_id in deletes:
                docs.pop(doc_id, None)
            docs.update(batch)
            self._snapshot = _Snapshot(docs)
            self._generation += 1

    def _document(self, record: Record) -> _Doc:
        """A private copy of ``record`` (dates in UTC) and the terms of each of its fields."""
        record = replace(
            copy.deepcopy(replace(record, analysed=None)), published=_utc(record.published)
        )
        terms: dict[str, tuple[str, ...]] = {}
        for name, text in field_texts(record).items():
            analyzer = self._plain if name in PLAIN_FIELDS else self._stemmed
            found = analyzer.terms(text)
            terms[name] = tuple(dict.fromkeys(found) if name in DISTINCT_FIELDS else found)
        terms[KEYWORD_FIELD] = (record.kind,)
        terms[COMPLETION_FIELD] = tuple(completion_terms(record.title, self.language))
        counts = {name: Counter(field_terms) for name, field_terms in terms.items()}
        # Related titles are indexed, not stored (see Record.related_text).
        return _Doc(replace(record, related_text=""), terms, counts)

    def generation(self) -> int:
        """0 for a new index, one more after each write that adds, replaces or deletes."""
        self._current()
        return self._generation

    # -- reading -----------------------------------------------------------------------------

    def get(self, doc_id: str) -> Record | None:
        """A copy of the stored record with that id, or None."""
        doc = self._current().docs.get(doc_id)
        return None if doc is None else copy.deepcopy(doc.record)

    def records(self, *, kind: str | None = None) -> Iterator[Record]:
        """Copies of every stored record (of one kind), by id."""
        snapshot = self._current()
        for doc_id in sorted(snapshot.docs):
            record = snapshot.docs[doc_id].record
            if kind is None or record.kind == kind:
                yield copy.deepcopy(record)

    def info(self) -> IndexInfo:
        """Live documents, 0 bytes on disk, and documents per value of each facet."""
        snapshot = self._current()
        return IndexInfo(
            count=len(snapshot.docs),
            size_bytes=0,
            facets={facet: self._facet_counts(snapshot, snapshot.docs, facet) for facet in FACETS},
        )

    def execute(
        self,
        plan: Plan | None,
        filters: Filters,
        facets: Mapping[str, Filters],
        sort: Sort,
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
        snapshot = self._current()
        scores = self._matches(snapshot, plan)
        hits = {doc_id: score for doc_id, score in scores.items()
                if self._passes(snapshot.docs[doc_id].record, filters)}
        scored = sort == "relevance" and bool(positive_leaves(plan))
        order = sorted(hits, key=self._sort_key(snapshot, hits, sort, scored))
        page = tuple(
            (copy.deepcopy(snapshot.docs[doc_id].record), hits[doc_id] if scored else None)
            for doc_id in order[offset : offset + limit]
        )
        counts = {}
        for facet, facet_filters in facets.items():
            matching = {doc_id: snapshot.docs[doc_id] for doc_id in scores
                        if self._passes(snapshot.docs[doc_id].record, facet_filters)}
            counts[facet] = self._facet_counts(snapshot, matching, facet)
        return Execution(total=len(hits), page=page, facets=counts)

    def count(self, plan: Plan | None, filters: Filters) -> int:
        """How many documents match ``plan`` under ``filters``."""
        snapshot = self._current()
        return sum(
            1 for doc_id in self._matches(snapshot, plan)
            if self._passes(snapshot.docs[doc_id].record, filters)
        )

    def term_stats(self, field: str, terms: Iterable[str]) -> Mapping[str, TermStats]:
        """Live documents holding each term in ``field``, and its occurrences there."""
        (name,) = _check_fields((field,))
        snapshot = self._current()
        return {
            term: TermStats(snapshot.doc_freq[name][term], snapshot.frequency[name][term])
            for term in terms
        }

    def similar_words(self, word: str, max_distance: int, limit: int) -> list[str]:
        """Up to ``limit`` words of the ``spell`` field within ``max_distance`` edits of
        ``word`` that share its first letter, in the most documents first, then
        alphabetically."""
        if not word or max_distance < 0 or limit <= 0:
            return []
        frequency = self._current().doc_freq["spell"]
        close = [
            candidate for candidate in frequency
            if candidate[:1] == word[:1] and levenshtein(candidate, word) <= max_distance
        ]
        close.sort(key=lambda candidate: (-frequency[candidate], candidate))
        return close[:limit]

    def complete(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """Completions of ``prefix`` from titles, in the most live documents first, then
        alphabetically (every term of the ``complete`` field is looked at)."""
        if not prefix or limit <= 0:
            return []
        frequency = self._current().doc_freq[COMPLETION_FIELD]
        found = [(term, df) for term, df in frequency.items() if df and term.startswith(prefix)]
        found.sort(key=lambda term_df: (-term_df[1], term_df[0]))
        return found[:limit]

    # -- evaluation --------------------------------------------------------------------------

    def _matches(self, snapshot: _Snapshot, plan: Plan | None) -> dict[str, float]:
        """Every live document ``plan`` matches, with its score."""
        if plan is None:
            return {}
        if isinstance(plan, Everything):
            return dict.fromkeys(snapshot.docs, 0.0)
        if isinstance(plan, Words):
            return self._words(snapshot, plan)
        if isinstance(plan, Prefix):
            prefixes = tuple(plan.prefixes)
            return self._expanded(
                snapshot, plan.fields, lambda term: term.startswith(prefixes)
            ) if prefixes else {}
        if isinstance(plan, Fuzzy):
            if plan.distance < 0:
                return {}
            start = plan.term[: max(plan.prefix_length, 0)]
            return self._expanded(
                snapshot,
                plan.fields,
                lambda term: term.startswith(start)
                and levenshtein(term, plan.term) <= plan.distance,
            )
        if isinstance(plan, All):
            if not plan.children:
                return {}
            parts = [self._matches(snapshot, child) for child in plan.children]
            common = set(parts[0]).intersection(*parts[1:])
            return {doc_id: sum(part[doc_id] for part in parts) for doc_id in common}
        if isinstance(plan, Any):
            out: dict[str, float] = {}
            for child in plan.children:
                for doc_id, score in self._matches(snapshot, child).items():
                    out[doc_id] = out.get(doc_id, 0.0) + score
            return out
        if isinstance(plan, Exclude):
            excluded = self._matches(snapshot, plan.excluded)
            return {
                doc_id: score for doc_id, score in self._matches(snapshot, plan.positive).items()
                if doc_id not in excluded
            }
        if isinstance(plan, Boost):
            return {
                doc_id: score * plan.factor
                for doc_id, score in self._matches(snapshot, plan.child).items()
            }
        raise TypeError(f"not a plan node: {plan!r}")

    def _words(self, snapshot: _Snapshot, node: Words) -> dict[str, float]:
        """One term in any of the fields, or a phrase in one of the positional ones."""
        fields = _check_fields(node.fields)
        if not node.terms:
            return {}
        if len(node.terms) == 1:
            return self._term(snapshot, node.terms[0], fields)
        positional = [name for name in fields if name in POSITIONAL_FIELDS]
        occurrences: dict[str, dict[str, int]] = {}
        for doc_id, doc in snapshot.docs.items():
            found = {name: _phrase_count(doc.terms[name], node.terms) for name in positional}
            if any(found.values()):
                occurrences[doc_id] = found
        df = max(
            (sum(1 for found in occurrences.values() if found[name]) for name in positional),
            default=0,
        )
        idf = snapshot.idf(df)
        return {
            doc_id: snapshot.bm25f(snapshot.docs[doc_id], idf, found)
            for doc_id, found in occurrences.items()
        }

    def _term(self, snapshot: _Snapshot, term: str, fields: tuple[str, ...]) -> dict[str, float]:
        """One term in any of ``fields``, scored as one BM25F term."""
        df = max((snapshot.doc_freq[name][term] for name in fields), default=0)
        if df == 0:
            return {}
        idf = snapshot.idf(df)
        out: dict[str, float] = {}
        for doc_id, doc in snapshot.docs.items():
            frequencies = {name: doc.counts[name][term] for name in fields}
            if any(frequencies.values()):
                out[doc_id] = snapshot.bm25f(doc, idf, frequencies)
        return out

    def _expanded(
        self, snapshot: _Snapshot, fields: tuple[str, ...], accept: Callable[[str], bool]
    ) -> dict[str, float]:
        """Documents with any vocabulary term of ``fields`` that ``accept`` s, scores summed."""
        fields = _check_fields(fields)
        vocabulary = sorted({term for name in fields for term in snapshot.doc_freq[name]})
        out: dict[str, float] = {}
        for term in vocabulary:
            if accept(term):
                for doc_id, score in self._term(snapshot, term, fields).items():
                    out[doc_id] = out.get(doc_id, 0.0) + score
        return out

    # -- filters, facets, order --------------------------------------------------------------

    @staticmethod
    def _passes(record: Record, filters: Filters) -> bool:
        """Whether ``record`` passes every active filter."""
        for facet in FACETS:
            selected = filters.values(facet)
            if selected and not _facet_values(record, facet) & set(selected):
                return False
        if filters.since is not None or filters.until is not None:
            published = record.published  # stored in UTC
            since, until = _utc(filters.since), _utc(filters.until)
            if published is None:
                return False
            if since is not None and published < since:
                return False
            if until is not None and published > until:
                return False
        return record.id not in filters.exclude_ids

    @staticmethod
    def _facet_counts(
        snapshot: _Snapshot, docs: Iterable[str], facet: str
    ) -> dict[str, int]:
        """Documents per value of ``facet`` among ``docs`` (values without any left out)."""
        counts: Counter[str] = Counter()
        for doc_id in docs:
            counts.update(_facet_values(snapshot.docs[doc_id].record, facet))
        return dict(sorted(counts.items(), key=lambda vc: (-vc[1], vc[0])))

    @staticmethod
    def _sort_key(
        snapshot: _Snapshot, scores: Mapping[str, float], sort: Sort, scored: bool
    ) -> Callable[[str], tuple[float | bool | str, ...]]:
        """The key ordering document ids for ``sort``: undated (unrated) last, then by id."""

        def date_key(doc_id: str, newest: bool) -> tuple[bool, float]:
            published = snapshot.docs[doc_id].record.published
            if published is None:
                return (True, 0.0)
            stamp = published.timestamp()
            return (False, -stamp if newest else stamp)

        def key(doc_id: str) -> tuple[float | bool | str, ...]:
            if sort == "oldest":
                return (*date_key(doc_id, newest=False), doc_id)
            if sort == "quality":
                quality = snapshot.docs[doc_id].record.quality
                rating = (True, 0) if quality is None else (False, -quality)
                return (*rating, *date_key(doc_id, newest=True), doc_id)
            if sort == "relevance" and scored:
                return (-scores[doc_id], *date_key(doc_id, newest=True), doc_id)
            return (*date_key(doc_id, newest=True), doc_id)  # newest; unscored relevance

        return key
