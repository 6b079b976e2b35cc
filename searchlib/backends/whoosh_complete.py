"""Type-ahead completions over a Whoosh index, derived from stored titles: no index-time cost.

Indexing the completions (title words and two-word phrases) as a field made the real corpus's
index 20% larger and its indexing 12% slower; reading them back from the stored titles costs
about 25 µs a document, once per segment: a segment never changes after it is written, so
its table lives as long as it does, and a commit costs only its new segments. Each segment's
table holds its terms (:func:`~searchlib.records.completion_terms` of each title), sorted, and
the documents of each term, so that live counts (deleted documents left out) are one array
operation per commit; terms get ids shared by every segment, so that the counts of one prefix
over several segments add up with ``np.bincount``.

A prefix is then a bisection per segment, and its best completions one ``np.argpartition``
over the counts of its range: well under a millisecond on the real corpus.
"""

from __future__ import annotations

import bisect
import pickle
import threading
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.whoosh3 import STORED_COLUMN

from ..records import completion_terms

IntArray = npt.NDArray[np.int64]
#: Ids of forgotten terms are dropped once they outnumber the current terms and this.
COMPACT_SLACK = 10_000
#: After the last character of any term: ``prefix + _END`` bounds the terms with ``prefix``.
_END = "\U0010ffff"


@dataclass
class _Segment:
    """One segment's completions: sorted terms, their shared ids, each term's documents."""

    terms: list[str]
    ids: IntArray
    #: Documents of term ``i``: ``docs[starts[i]:starts[i + 1]]`` (deleted ones included).
    docs: npt.NDArray[np.int32]
    starts: IntArray
    #: Live documents per term, for the segment's number of deleted documents.
    live_key: int = -1
    live_counts: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def counts(self, leaf: Any) -> IntArray:
        """Live documents holding each term (cached while the deletions stay the same)."""
        if self.live_key != leaf.deleted:
            if not leaf.deleted or not self.terms:
                counts = np.diff(self.starts)
            else:
                live = leaf.data.live(leaf.reader)[self.docs].astype(np.int64)
                counts = np.add.reduceat(live, self.starts[:-1])
            self.live_counts, self.live_key = counts, leaf.deleted
        return self.live_counts


class Completions:
    """The completion tables of a backend's segments, built on first use, kept per segment."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._segments: dict[str, _Segment] = {}
        #: Term -> id, shared by every segment. Terms of merged-away segments stay until
        #: they outnumber the current ones (see ``_compact``).
        self._ids: dict[str, int] = {}
        self._terms: list[str] = []
        self._lock = threading.Lock()

    def top(self, leaves: Sequence[Any], prefix: str, limit: int) -> list[tuple[str, int]]:
        """The ``limit`` terms starting with ``prefix`` in the most live documents of
        ``leaves`` (the current searcher's segments), then alphabetically."""
        ids: list[IntArray] = []
        counts: list[IntArray] = []
        with self._lock:
            tables = [(self._segment(leaf), leaf) for leaf in leaves]
            current = {leaf.segid for leaf in leaves}
            gone = set(self._segments) - current
            for segid in gone:
                del self._segments[segid]
            if gone:
                self._compact()
        for table, leaf in tables:
            low = bisect.bisect_left(table.terms, prefix)
            high = bisect.bisect_left(table.terms, prefix + _END, low)
            if high > low:
                ids.append(table.ids[low:high])
                counts.append(table.counts(leaf)[low:high])
        if not ids:
            return []
        if len(ids) == 1:
            found_ids, found_counts = ids[0], counts[0]
        else:
            found_ids, inverse = np.unique(np.concatenate(ids), return_inverse=True)
            found_counts = np.bincount(inverse, weights=np.concatenate(counts)).astype(np.int64)
        keep = found_counts > 0
        found_ids, found_counts = found_ids[keep], found_counts[keep]
        if found_counts.size > limit:
            # Every term reaching the limit-th count: ties are then ordered by text.
            threshold = np.partition(found_counts, found_counts.size - limit)[
                found_counts.size - limit
            ]
            chosen = found_counts >= threshold
            found_ids, found_counts = found_ids[chosen], found_counts[chosen]
        terms = self._terms
        ranked = sorted(
            ((terms[i], int(n)) for i, n in zip(found_ids.tolist(), found_counts, strict=True)),
            key=lambda term_count: (-term_count[1], term_count[0]),
        )
        return ranked[:limit]

    def _compact(self) -> None:
        """Forget the ids of terms no current segment has, once they are most of them: a
        long-lived service whose segments are merged again and again keeps ids of the
        current vocabulary only (renumbering is one pass over the current terms)."""
        live = {term for table in self._segments.values() for term in table.terms}
        if len(self._terms) - len(live) <= max(len(live), COMPACT_SLACK):
            return
        self._terms = sorted(live)
        self._ids = {term: i for i, term in enumerate(self._terms)}
        for table in self._segments.values():
            table.ids = np.fromiter(
                (self._ids[t] for t in table.terms), dtype=np.int64, count=len(table.terms)
            )

    def _segment(self, leaf: Any) -> _Segment:
        """The table of one segment, read from its stored titles the first time."""
        table = self._segments.get(leaf.segid)
        if table is None:
            table = self._segments[leaf.segid] = self._read(leaf.reader)
        return table

    def _read(self, segreader: Any) -> _Segment:
        # One dictionary look-up a (document, term) pair, the rest in numpy: each pair is
        # kept as the term's number in this segment and the document, then sorted by term.
        numbers: dict[str, int] = {}
        term_of, doc_of = array("q"), array("i")
        for docnum, title in enumerate(_titles(segreader)):
            for term in completion_terms(title, self.language):
                number = numbers.get(term)
                if number is None:
                    number = numbers[term] = len(numbers)
                term_of.append(number)
                doc_of.append(docnum)
        terms = sorted(numbers)
        rank = np.empty(len(terms), dtype=np.int64)
        rank[np.fromiter((numbers[t] for t in terms), dtype=np.int64, count=len(terms))] = (
            np.arange(len(terms), dtype=np.int64)
        )
        keys = rank[np.frombuffer(term_of, dtype=np.int64)]
        # Stable: a term's documents stay in ascending order.
        order = np.argsort(keys, kind="stable")
        docs = np.frombuffer(doc_of, dtype=np.int32)[order]
        starts = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys, minlength=len(terms)), out=starts[1:])
        for term in terms:
            if term not in self._ids:
                self._ids[term] = len(self._terms)
                self._terms.append(term)
        ids = np.fromiter((self._ids[t] for t in terms), dtype=np.int64, count=len(terms))
        return _Segment(terms, ids, docs, starts)


def _titles(segreader: Any) -> list[str]:
    """The stored title of every document of a segment (deleted ones included), in order.

    The stored-fields column is read in one piece and each cell unpacked as Whoosh's own
    reader does (zlib, then pickle), without its file read per document: half the time.
    """
    count = segreader.doc_count_all()
    column = segreader._perdoc._cached_reader("_stored", STORED_COLUMN)
    cells = getattr(column, "_child", None)
    offsets, lengths = getattr(cells, "_offsets", None), getattr(cells, "_lengths", None)
    if cells is None or offsets is None or lengths is None or len(offsets) < count:
        return [segreader.stored_fields(d).get("title") or "" for d in range(count)]
    starts = np.asarray(offsets, dtype=np.int64)[:count]
    ends = starts + np.asarray(lengths, dtype=np.int64)[:count]
    data = cells._dbfile.get(cells._basepos, int(ends.max()) if count else 0)
    titles = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        stored = pickle.loads(zlib.decompress(data[start:end])) if end > start else None
        titles.append((stored or {}).get("title") or "")
    return titles
