"""Vectorized plan execution over a Whoosh index: numpy arrays instead of Whoosh's matchers.

Whoosh's matchers run Python code once per matching document and term (~150 µs per document
for a word over four fields). Here each segment evaluates a plan with array operations over
its documents: a leaf decodes its terms' postings (cached, see :mod:`.whoosh_segments`) and
scores them in bulk; ``All``/``Any``/``Exclude`` are boolean operations on per-segment masks
with summed score arrays; filters and facets are masks and ``np.bincount`` over per-segment
integer codes; the page is a partial selection (``np.argpartition``) then an exact sort of
the few candidates, in the matcher path's order (score or the sort's keys, then newer first,
then index order). Phrases check positions only in documents that have every word.

What is kept: per segment, its columns (for as long as the segment exists) and decoded
postings and phrase matches (in a cache bounded by bytes, ``cache_mb``); per searcher, the
statistics and the results of the last few plans (a count and then the search of the same
plan, or a feedback query that contains its first pass, evaluate it once).

Scores are Whoosh's, exactly as :func:`~.whoosh_query.to_whoosh` makes its matchers compute
them (the tests compare both within 1e-6 relative):

- a word in one field: Whoosh's BM25 (``idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl /
  avgdl))``) times the field's weight; in several fields: :class:`~.whoosh_query.FieldsTerm`'s
  BM25F, one saturation over weighted, length-normalised field frequencies, with the largest
  per-field document frequency in the idf;
- idf is Lucene's ``log(1 + (N - df + 0.5) / (df + 0.5))`` with Whoosh's statistics: ``N``
  and ``df`` count deleted documents until their segment is merged away, ``avgdl`` is the
  field's total length over ``N``; field lengths are Whoosh's one-byte approximations;
- a phrase: in each positional field, the field weight times the sum of its words' BM25;
- a prefix or fuzzy term expands through each segment's term dictionary, then scores as
  Whoosh's ``MultiTerm`` does there: one expanded term scores its plain BM25 (no weight, no
  boost); several, the sum of their BM25 times the weight, except that in a segment of at most
  5,000 documents three or more terms (or 1,024 and more anywhere) score 1 per matching
  document, whatever the weight and boost (Whoosh's unscored ``ArrayUnionMatcher``);
- ``Everything`` inside a scored plan scores its boost; ``Boost`` multiplies its leaves'
  boosts, which is why the prefix rule above keeps a boost-free part apart.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from .. import plan as p
from ..schema import BM25_B, BM25_K1, DAY_FACET, FIELD_WEIGHTS, POSITIONAL_FIELDS, Sort
from .whoosh_postings import Word
from .whoosh_segments import (
    LENGTHS,
    BoolArray,
    FacetCodes,
    FloatArray,
    IntArray,
    Postings,
    PostingsCache,
    SegmentData,
    position_decoder,
    read_positions,
    read_postings,
)

#: Whoosh's ``Or`` preloads (and, unscored, counts) its terms in segments up to this size.
_SMALL_SEGMENT = 5000
#: ... and with this many terms in any segment.
_TOO_MANY_CLAUSES = 1024
#: Plans whose per-segment results are kept per searcher (a count and then the search of
#: the same plan, or a feedback query that contains its first pass, evaluate it once).
_PLAN_RESULTS = 4
#: What :meth:`Segments.record` builds.
_R = TypeVar("_R")
#: A page's best documents are first looked for among this many of the matches (``_smallest``).
_HEAD = 1024
#: Masks of filtered facet values kept per segment.
_VALUE_MASKS = 16
_NO_DOCS: IntArray = np.zeros(0, dtype=np.int32)
_NO_VALUES: FloatArray = np.zeros(0)
#: A word's ``(field, term as stored, field weight)`` in each field it is searched in.
Parts = tuple[tuple[str, bytes, float], ...]
#: A word's fields are merged by sorting their postings, unless the postings outnumber half
#: the segment's documents: then by adding them up in an array over the segment (measured:
#: sorting is as fast or faster below that, on 6,000 and on 300,000 documents).
_SPARSE = 2
#: An intersection of sparse results goes by their document numbers while all of them hold
#: fewer than a segment's documents over this; by masks over the segment beyond.
_SPARSE_AND = 4
#: Bytes (of stored fields) of the records of documents recently shown.
_STORED_BYTES = 4 * 2**20
#: A union of more sparse parts than this is added up in one pass (see ``_sparse_union``);
#: fewer are cheaper part by part.
_FEW = 4
#: Document frequencies kept per searcher.
_TERMS_KEPT = 100_000
#: New words of a plan computed together (``View.prefetch``) when they are at least this many.
_BATCH = 3
_UINT64_MAX = np.uint64(np.iinfo(np.uint64).max)


@dataclass(frozen=True, slots=True)
class Leaf:
    """One segment of the current searcher: its reader, first docnum, and cached arrays."""

    reader: Any
    offset: int
    data: SegmentData
    #: Deleted documents in the segment at this commit.
    deleted: int

    @property
    def size(self) -> int:
        """Documents in the segment, deleted ones included."""
        return self.data.doc_count

    @property
    def segid(self) -> str:
        """The segment's id."""
        return self.data.segid


class Result:
    """What a plan node gives in one segment: the matching live documents and their scores.

    The scores come dense (``score``: an array over the segment, 0 outside ``mask``) or
    sparse (``values`` of the matching documents ``docs``, ascending): a word that matches a
    few documents of a big segment costs no array over the whole segment. ``score`` and
    ``values`` carry the boosts above the node (and scale with them); ``fixed`` (dense) is the
    part no boost changes (some prefix and fuzzy expansions, see the module docstring). All
    are None when the node is evaluated unscored.
    """

    __slots__ = ("_mask", "_size", "docs", "fixed", "score", "values")

    def __init__(
        self,
        mask: BoolArray | None,
        score: FloatArray | None = None,
        fixed: FloatArray | None = None,
        *,
        docs: IntArray | None = None,
        values: FloatArray | None = None,
        size: int = 0,
    ) -> None:
        self._mask = mask
        self._size = size
        self.score = score
        self.fixed = fixed
        self.docs = docs
        self.values = values

    @classmethod
    def sparse(cls, size: int, docs: IntArray, values: FloatArray) -> Result:
        """The documents ``docs`` (ascending) of a segment of ``size``, scoring ``values``;
        the mask over the segment is built when first asked for (unions of words never ask:
        a long query with feedback has dozens)."""
        return cls(None, docs=docs, values=values, size=size)

    @property
    def mask(self) -> BoolArray:
        """Which documents of the segment match."""
        if self._mask is None:
            assert self.docs is not None
            mask = np.zeros(self._size, dtype=np.bool_)
            mask[_index(self.docs)] = True
            self._mask = mask
        return self._mask

    @property
    def size(self) -> int:
        """Documents in the segment."""
        return self._size if self._mask is None else self._mask.size

    @property
    def scored(self) -> bool:
        """Whether the node was evaluated with scores."""
        return self.score is not None or self.values is not None or self.fixed is not None

    @property
    def is_sparse(self) -> bool:
        """Whether the scores are the matching documents' only (and all boostable)."""
        return self.values is not None and self.fixed is None

    def dense(self) -> FloatArray | None:
        """The boostable scores as an array over the segment (built once from ``values``)."""
        if self.score is None and self.values is not None:
            assert self.docs is not None
            score = np.zeros(self.size)
            score[_index(self.docs)] = self.values
            self.score = score
        return self.score

    def at(self, docs: IntArray) -> FloatArray:
        """The whole score of ``docs``, matching documents in ascending order."""
        if self.is_sparse:
            assert self.docs is not None and self.values is not None
            if docs.size == self.docs.size:  # docs are matches: the same ones, then
                return self.values
            return self.values[np.searchsorted(self.docs, docs)]
        score, fixed = self.dense(), self.fixed
        out = score.take(docs) if score is not None else np.zeros(docs.size)
        return out + fixed.take(docs) if fixed is not None else out


class Segments:
    """The segments of every searcher the backend opens, with their arrays and caches."""

    def __init__(self, cache_bytes: int) -> None:
        self.data: dict[str, SegmentData] = {}
        self.postings = PostingsCache(cache_bytes)
        self.codes = FacetCodes()
        #: Records of recently shown documents: a feedback query's final page mostly repeats
        #: its first pass, and popular documents come back across searches.
        self.stored = PostingsCache(_STORED_BYTES)

    def close(self) -> None:
        """Forget every segment, closing the files read directly."""
        for data in self.data.values():
            data.close()
        self.data.clear()

    def record(self, leaf: Leaf, docnum: int, build: Callable[[Mapping[str, Any]], _R]) -> _R:
        """A document of ``leaf`` as ``build`` makes it from its stored fields, kept: callers
        must not change it (a record is immutable; the page's rows are built from it)."""
        key = (leaf.segid, docnum)
        found = self.stored.get(key)
        if found is None:
            fields = leaf.data.stored_fields(leaf.reader, docnum)
            found = build(fields)
            size = 300 + sum(len(v) for v in fields.values() if isinstance(v, str))
            self.stored.put(key, found, size)
        return found  # type: ignore[no-any-return]

    def leaves(self, searcher: Any) -> list[Leaf]:
        """The leaves of ``searcher``; segments that are gone are forgotten."""
        out = []
        for segreader, offset in searcher.reader().leaf_readers():
            segment = segreader.segment()
            if segment is None:  # an empty index's reader has no segment
                continue
            segid = segment.segid
            data = self.data.get(segid)
            if data is None:
                data = self.data[segid] = SegmentData(segid, segreader.doc_count_all())
            out.append(Leaf(segreader, offset, data, int(segment.deleted_count())))
        current = {leaf.segid for leaf in out}
        gone = [segid for segid in self.data if segid not in current]
        for segid in gone:
            self.data.pop(segid).close()
        self.postings.drop_segments(gone)
        self.stored.drop_segments(gone)
        return out


class Norms:
    """BM25's length norms of a segment's documents in some fields, a row per field: rows of
    the segment's one matrix of every scored text field (kept once per segment: a matrix per
    set of fields held the same numbers several times, ~30 MB at 100,000 articles)."""

    __slots__ = ("matrix", "rows")

    def __init__(self, matrix: FloatArray, rows: list[int] | None) -> None:
        self.matrix = matrix
        #: The fields' rows of ``matrix``, in their order (None: all of them, in order).
        self.rows = rows

    def at(self, docs: npt.NDArray[np.integer[Any]]) -> FloatArray:
        """The fields' norms of ``docs``: one row per field, one column per document."""
        found: FloatArray = self.matrix.take(docs, axis=1)
        return found if self.rows is None else found[self.rows]


@dataclass(frozen=True)
class _Layout:
    """How a word's rows in a segment's word file add up to its BM25F frequencies over some
    fields: which rows, in the fields' order (None: all, in order), the fields' length norms
    (a row each), the fields' weights as a column (None: all 1), and whether the word is in
    fields left out (then documents with it only there are dropped)."""

    rows: list[int] | None
    norms: Norms
    weights: FloatArray | None
    partial: bool


_UNSET = object()
_NO_NORMS = Norms(np.zeros((0, 0)), None)
#: The fields whose norms each segment keeps in one matrix (every scored text field).
_NORMED_FIELDS = tuple(FIELD_WEIGHTS)


class View:
    """One searcher's segments with their statistics: everything a plan evaluates against.

    Built when the backend opens a searcher (after every commit); its caches (statistics,
    the results of the last plans) die with it.
    """

    def __init__(self, searcher: Any, segments: Segments) -> None:
        self.searcher = searcher
        self.segments = segments
        self.schema = searcher.schema
        self.leaves = segments.leaves(searcher)
        self.doc_count_all = int(searcher.doc_count_all())
        self._reader = searcher.reader()
        self._df: dict[tuple[str, bytes], int] = {}
        self._bytes: dict[tuple[str, str], bytes | None] = {}
        self._avg: dict[str, float] = {}
        self._norms: dict[str, FloatArray] = {}
        #: Live documents and occurrences of terms, by field and term (see ``term_stats``):
        #: feedback asks for the words of top documents, which recur.
        self.stats: dict[tuple[str, str], tuple[int, int]] = {}
        self._leaf_norms: dict[tuple[str, tuple[str, ...]], FloatArray] = {}
        self._averages: dict[Parts, tuple[float, ...]] = {}
        self._word_parts: dict[tuple[str, tuple[str, ...]], tuple[Parts, float]] = {}
        #: How words of each set of fields add up per segment (see ``word_layout``).
        self._layouts: dict[tuple[Any, ...], _Layout | None] = {}
        self._plans: OrderedDict[p.Plan, list[Result]] = OrderedDict()

    # -- statistics (Whoosh's: deleted documents count until merged away) ---------------------

    def doc_frequency(self, fieldname: str, btext: bytes) -> int:
        """Documents holding the term, over every segment."""
        key = (fieldname, btext)
        found = self._df.get(key)
        if found is None:
            if len(self._df) >= _TERMS_KEPT:  # a long-lived searcher meets many words
                self._df.clear()
            found = self._df[key] = sum(
                self._documents(leaf, fieldname, btext) for leaf in self.leaves
            )
        return found

    def know_frequency(self, fieldname: str, btext: bytes, documents: int) -> None:
        """Keep a term's :meth:`doc_frequency`, counted elsewhere (``term_stats`` reads it
        with every field's statistics of a word)."""
        if len(self._df) >= _TERMS_KEPT:
            self._df.clear()
        self._df[fieldname, btext] = documents

    def doc_frequencies(self, parts: Sequence[tuple[str, bytes, float]]) -> list[int]:
        """:meth:`doc_frequency` of each ``(field, term, _)`` of ``parts``; a word in several
        fields of a segment's word file is read once for all of them."""
        if len(parts) < 2 or len({btext for _, btext, _ in parts}) != 1:
            return [self.doc_frequency(fieldname, btext) for fieldname, btext, _ in parts]
        found = [self._df.get((fieldname, btext)) for fieldname, btext, _ in parts]
        if None not in found:
            return found  # type: ignore[return-value]
        btext = parts[0][1]
        sums = [0] * len(parts)
        for leaf in self.leaves:
            words = leaf.data.postings_file(leaf.reader)
            indexes = [None if words is None else words.index.get(f) for f, _, _ in parts]
            word = self.word(leaf, btext) if None not in indexes else None
            for i, (fieldname, _, _) in enumerate(parts):
                index = indexes[i]
                if word is not None and index is not None:
                    sums[i] += word.documents(index)
                else:
                    sums[i] += self._documents(leaf, fieldname, btext)
        if len(self._df) >= _TERMS_KEPT:
            self._df.clear()
        for (fieldname, _, _), total in zip(parts, sums, strict=True):
            self._df[fieldname, btext] = total
        return sums

    def _documents(self, leaf: Leaf, fieldname: str, btext: bytes) -> int:
        words = leaf.data.postings_file(leaf.reader)
        index = None if words is None else words.index.get(fieldname)
        if index is None:
            return leaf.data.term_info(leaf.reader, fieldname, btext)[0]
        word = self.word(leaf, btext)
        assert word is not None
        return word.documents(index)

    def term_info(self, leaf: Leaf, fieldname: str, btext: bytes) -> tuple[int, float]:
        """Documents of ``leaf`` holding the term and the sum of its weights there (Whoosh's
        statistics: deleted documents count), from the segment's words if it has them."""
        words = leaf.data.postings_file(leaf.reader)
        index = None if words is None else words.index.get(fieldname)
        if index is None:
            return leaf.data.term_info(leaf.reader, fieldname, btext)
        word = self.word(leaf, btext)
        assert word is not None
        return word.stats(index)

    def idf(self, df: int) -> float:
        """Lucene's idf with Whoosh's document count."""
        total = self.doc_count_all
        return math.log(1 + (total - df + 0.5) / (df + 0.5))

    def avg_length(self, fieldname: str) -> float:
        """The field's average length (Whoosh's ``avg_field_length(...) or 1``)."""
        found = self._avg.get(fieldname)
        if found is None:
            if not self.schema[fieldname].scorable:
                found = 1.0
            else:
                total = self._reader.field_length(fieldname)
                found = total / (self.doc_count_all or 1) or 1.0
            self._avg[fieldname] = found
        return found

    def to_bytes(self, fieldname: str, text: str) -> bytes | None:
        """The term as the index stores it (None: the field is not in the schema)."""
        key = (fieldname, text)
        if key in self._bytes:
            return self._bytes[key]
        found: bytes | None = None
        if fieldname in self.schema:
            try:
                found = bytes(self.schema[fieldname].to_bytes(text))
            except ValueError:
                found = None
        if len(self._bytes) >= _TERMS_KEPT:
            self._bytes.clear()
        self._bytes[key] = found
        return found

    # -- postings ------------------------------------------------------------------------------

    def postings(self, leaf: Leaf, fieldname: str, btext: bytes) -> Postings:
        """The term's postings in ``leaf`` (deleted documents included), cached."""
        cache = self.segments.postings
        key = (leaf.segid, "p", fieldname, btext)
        found = cache.get(key)
        if found is None:
            words = leaf.data.postings_file(leaf.reader)
            index = None if words is None else words.index.get(fieldname)
            if index is not None:
                word = self.word(leaf, btext)
                assert word is not None
                found = Postings(*word.field(index))
            else:
                entry = leaf.data.entries.pop((fieldname, btext), None)
                found = read_postings(
                    leaf.reader, fieldname, btext, info=entry,
                    dictionary=leaf.data.dictionary(leaf.reader),
                )
            cache.put(key, found, found.nbytes)
        assert isinstance(found, Postings)
        return found

    def positions(
        self, leaf: Leaf, fieldname: str, btext: bytes, docs: IntArray
    ) -> list[bytes]:
        """The term's encoded positions in each of ``docs`` (ascending, each holding it).

        Not kept: only phrases need them, and phrases keep their own results instead.
        """
        entry = leaf.data.entries.pop((fieldname, btext), None)
        return read_positions(
            leaf.reader, fieldname, btext, docs, info=entry,
            dictionary=leaf.data.dictionary(leaf.reader),
        )

    def word(self, leaf: Leaf, btext: bytes) -> Word | None:
        """A word's postings in every text field of ``leaf``, cached (None: the segment has
        no postings file; see :mod:`.whoosh_postings`)."""
        words = leaf.data.postings_file(leaf.reader)
        if words is None:
            return None
        cache = self.segments.postings
        key = (leaf.segid, "w", btext)
        found = cache.get(key)
        if found is None:
            found = words.word(btext)
            cache.put(key, found, found.nbytes + 300)
        assert isinstance(found, Word)
        return found

    def words(self, leaf: Leaf, btexts: Sequence[bytes]) -> list[Word] | None:
        """:meth:`word` of each of ``btexts`` (None: the segment has no postings file), the
        cache asked once for all and the words it lacks read together."""
        file = leaf.data.postings_file(leaf.reader)
        if file is None:
            return None
        cache = self.segments.postings
        keys = [(leaf.segid, "w", btext) for btext in btexts]
        found: list[Word | None] = cache.get_many(keys)
        missing = [at for at, word in enumerate(found) if word is None]
        if missing:
            read = file.words([btexts[at] for at in missing])
            for at, word in zip(missing, read, strict=True):
                found[at] = word
            cache.put_many(
                (keys[at], word, word.nbytes + 300) for at, word in zip(missing, read, strict=True)
            )
        return found  # type: ignore[return-value]

    def word_layout(
        self, leaf: Leaf, parts: Sequence[tuple[str, bytes, float]], fields: tuple[int, ...]
    ) -> _Layout | None:
        """How to add up the rows of a word with ``fields`` (the word file's field indexes)
        over ``parts`` in ``leaf`` (see :class:`_Layout`), kept per segment and field set;
        None where the segment's word file lacks a part's field."""
        key = (leaf.segid, tuple((f, w) for f, _, w in parts), fields)
        found = self._layouts.get(key, _UNSET)
        if found is not _UNSET:
            return found  # type: ignore[return-value]
        layout: _Layout | None = None
        words = leaf.data.postings_file(leaf.reader)
        indexes = [None if words is None else words.index.get(f) for f, _, _ in parts]
        if words is not None and None not in indexes:
            rows, weights, names = [], [], []
            for (fieldname, _, weight), index in zip(parts, indexes, strict=True):
                if index in fields:
                    rows.append(fields.index(index))
                    weights.append(weight)
                    names.append(fieldname)
            layout = _Layout(
                rows=None if rows == list(range(len(fields))) else rows,
                norms=self.leaf_norms(leaf, tuple(names)) if names else _NO_NORMS,
                weights=(
                    np.array(weights)[:, None] if any(w != 1.0 for w in weights) else None
                ),
                partial=len(rows) < len(fields),
            )
        if len(self._layouts) >= _TERMS_KEPT:
            self._layouts.clear()
        self._layouts[key] = layout
        return layout

    def leaf_norms(self, leaf: Leaf, fieldnames: tuple[str, ...]) -> Norms:
        """:meth:`doc_norms` of several fields, one row each."""
        if set(fieldnames) <= set(_NORMED_FIELDS):
            key: tuple[str, tuple[str, ...]] = (leaf.segid, _NORMED_FIELDS)
            rows = [_NORMED_FIELDS.index(name) for name in fieldnames]
            whole = rows == list(range(len(_NORMED_FIELDS)))
        else:  # fields no query of searchlib's scores together: a matrix of their own
            key, rows, whole = (leaf.segid, fieldnames), [], True
        matrix = self._leaf_norms.get(key)
        if matrix is None:
            matrix = self._leaf_norms[key] = np.stack(
                [self.doc_norms(leaf, fieldname) for fieldname in key[1]]
            )
        return Norms(matrix, None if whole else rows)

    def doc_norms(self, leaf: Leaf, fieldname: str) -> FloatArray:
        """BM25's length norm of every document of ``leaf`` in ``fieldname`` (the numbers
        :meth:`normalized` divides by)."""
        lengths = leaf.data.field_lengths(leaf.reader, fieldname)
        if lengths is None:
            avg = self.avg_length(fieldname)
            return np.full(leaf.size, 1 - BM25_B + BM25_B * 1.0 / avg)
        return self.norms(fieldname)[lengths]

    def normalized(self, leaf: Leaf, fieldname: str, btext: bytes) -> tuple[IntArray, FloatArray]:
        """Live documents of the term in ``leaf`` and their length-normalised frequencies,
        ``tf / (1 - b + b * length / average)``, cached (keyed by what they depend on)."""
        avg = self.avg_length(fieldname)
        key = (leaf.segid, "n", fieldname, btext, leaf.deleted, avg)
        cache = self.segments.postings
        found = cache.get(key)
        if found is None:
            docs, weights = self.live_postings(leaf, fieldname, btext)
            lengths = leaf.data.field_lengths(leaf.reader, fieldname)
            if lengths is None:
                found = (docs, weights / (1 - BM25_B + BM25_B * 1.0 / avg))
            else:
                found = (docs, weights / self.norms(fieldname).take(lengths.take(docs)))
            cache.put(key, found, int(docs.nbytes + found[1].nbytes) + 400)
        return found  # type: ignore[no-any-return]

    def norms(self, fieldname: str) -> FloatArray:
        """BM25's length norm ``1 - b + b * length / average`` of each of the 256 length
        bytes of ``fieldname``: a term's frequencies are divided by ``norms[length byte]``,
        the same numbers as computing it per posting."""
        found = self._norms.get(fieldname)
        if found is None:
            found = self._norms[fieldname] = (
                1 - BM25_B + BM25_B * LENGTHS / self.avg_length(fieldname)
            )
        return found

    def live_postings(
        self, leaf: Leaf, fieldname: str, btext: bytes
    ) -> tuple[IntArray, FloatArray]:
        """Documents and weights of the term's postings in ``leaf``, deleted ones left out."""
        postings = self.postings(leaf, fieldname, btext)
        docs, weights = postings.docs, postings.weights
        if leaf.deleted and docs.size:
            keep = leaf.data.live(leaf.reader).take(docs)
            docs, weights = docs[keep], weights[keep]
        # Weights are stored as float32 (as Whoosh writes them); scores are float64.
        return docs, weights.astype(np.float64)

    # -- plans ---------------------------------------------------------------------------------

    def evaluate(self, plan: p.Plan, scored: bool = True) -> list[Result]:
        """``plan`` in every segment; results of the last few plans are kept."""
        cached = self.cached_plan(plan, scored)
        if cached is not None:
            self._plans.move_to_end(plan)
            return cached
        if scored:
            self.prefetch(plan)
        results = _Evaluator(self, scored).node(plan, top=True)
        self._plans[plan] = results
        self._plans.move_to_end(plan)
        while len(self._plans) > _PLAN_RESULTS:
            self._plans.popitem(last=False)
        return results

    def saturated_key(self, leaf: Leaf, parts: Parts) -> tuple[Any, ...]:
        """What a word's BM25F frequencies in ``leaf`` depend on (see ``_saturated``)."""
        return (leaf.segid, "f", parts, leaf.deleted, self.averages(parts))

    def averages(self, parts: Parts) -> tuple[float, ...]:
        """The average lengths of the fields of ``parts``, kept per word and field set (a
        long query's words are looked up a few times each in every segment)."""
        found = self._averages.get(parts)
        if found is None:
            if len(self._averages) >= _TERMS_KEPT:
                self._averages.clear()
            found = self._averages[parts] = tuple(self.avg_length(f) for f, _, _ in parts)
        return found

    def word_parts(self, text: str, fields: tuple[str, ...]) -> tuple[Parts, float]:
        """A word's ``(field, term as stored, weight)`` in each of ``fields`` in the schema,
        and its idf (from its largest document frequency among them), kept per searcher:
        a long query with feedback has dozens of words, each searched twice or more."""
        key = (text, fields)
        found = self._word_parts.get(key)
        if found is None:
            parts: list[tuple[str, bytes, float]] = []
            for fieldname in fields:
                btext = self.to_bytes(fieldname, text)
                if btext is not None:
                    parts.append((fieldname, btext, FIELD_WEIGHTS.get(fieldname, 1.0)))
            idf = self.idf(max(self.doc_frequencies(parts), default=0))
            if len(self._word_parts) >= _TERMS_KEPT:
                self._word_parts.clear()
            found = self._word_parts[key] = (tuple(parts), idf)
        return found

    def prefetch(self, plan: p.Plan) -> None:
        """Compute together, segment by segment, the BM25F frequencies of ``plan``'s words
        that are not cached yet, where a segment's word file has their fields in their order.

        One array operation each for all of them (documents, length norms, division, sum)
        rather than one each per word: a long query with feedback has dozens of words, most
        new to the process. The numbers are :meth:`_Evaluator._word_sums`', added in the same
        order (fields a word lacks add zeros); ``_saturated`` then finds them cached.
        """
        groups: dict[tuple[str, ...], dict[str, None]] = {}
        for leaf_plan in self._leaves_to_score(plan):
            if not isinstance(leaf_plan, p.Words):
                continue
            if len(leaf_plan.terms) == 1 and len(leaf_plan.fields) > 1:
                groups.setdefault(leaf_plan.fields, {})[leaf_plan.terms[0]] = None
        for fields, terms in groups.items():
            if len(terms) < _BATCH:
                continue
            weights = [FIELD_WEIGHTS.get(fieldname, 1.0) for fieldname in fields]
            words: list[tuple[bytes, tuple[tuple[str, bytes, float], ...]]] = []
            for term in terms:
                btexts = {self.to_bytes(fieldname, term) for fieldname in fields}
                btext = btexts.pop() if len(btexts) == 1 else None
                if btext is not None:
                    parts = tuple((f, btext, w) for f, w in zip(fields, weights, strict=True))
                    words.append((btext, parts))
            averages = tuple(self.avg_length(fieldname) for fieldname in fields)
            for leaf in self.leaves:
                self._prefetch_leaf(leaf, fields, weights, words, averages)

    def _leaves_to_score(self, plan: p.Plan) -> list[p.Plan]:
        """The positive leaves of ``plan`` outside its parts whose results are kept (a
        query with feedback holds its first pass, whose words' numbers may since have left
        the cache: computing them again was a third of such a query at 100,000 articles)."""
        found: list[p.Plan] = []
        stack = [plan]
        while stack:
            node = stack.pop()
            if isinstance(node, p.Boost):
                stack.append(node.child)
            elif isinstance(node, p.Exclude):
                if self.cached_plan(node, True) is None:
                    stack.append(node.positive)
            elif isinstance(node, (p.All, p.Any)):
                if node is plan or self.cached_plan(node, True) is None:
                    stack.extend(reversed(node.children))
            else:
                found.append(node)
        return found

    def _prefetch_leaf(
        self, leaf: Leaf, fields: tuple[str, ...], weights: list[float],
        words: list[tuple[bytes, tuple[tuple[str, bytes, float], ...]]],
        averages: tuple[float, ...],
    ) -> None:
        file = leaf.data.postings_file(leaf.reader)
        if file is None or file.fields != fields:
            return
        cache = self.segments.postings
        # saturated_key's, with the averages read once.
        keys = [(leaf.segid, "f", parts, leaf.deleted, averages) for _, parts in words]
        wanted = [at for at, known in enumerate(cache.get_many(keys)) if known is None]
        if len(wanted) < _BATCH:
            return
        read = self.words(leaf, [words[at][0] for at in wanted])
        assert read is not None
        todo: list[tuple[Any, Word]] = [
            (keys[at], word) for at, word in zip(wanted, read, strict=True)
        ]
        sizes = [word.docs.size for _, word in todo]
        docs = np.concatenate([word.docs for _, word in todo])
        matrix = np.zeros((len(fields), docs.size), dtype=np.float32)
        start = 0
        for (_, word), size in zip(todo, sizes, strict=True):
            if size:
                matrix[list(word.fields), start : start + size] = word.matrix
            start += size
        ends = np.cumsum(sizes)
        tfn = matrix / self.leaf_norms(leaf, fields).at(docs)
        if any(weight != 1.0 for weight in weights):
            tfn *= np.array(weights)[:, None]
        saturated = _saturate(tfn.sum(axis=0) if len(fields) > 1 else tfn[0])
        if leaf.deleted:
            # Deleted documents are dropped from the sums (each document's own numbers), not
            # from the rows: one pass over a row, not over every field's.
            keep = leaf.data.live(leaf.reader).take(docs)
            docs, saturated = docs[keep], saturated[keep]
            ends = np.concatenate(([0], np.cumsum(keep)))[ends]
        start = 0
        for (key, _), end in zip(todo, ends.tolist(), strict=True):
            result = (docs[start:end].copy(), saturated[start:end].copy())
            cache.put(key, result, int(result[0].nbytes + result[1].nbytes) + 400)
            start = end

    def cached_plan(self, plan: p.Plan, scored: bool) -> list[Result] | None:
        """The kept results of ``plan``, if any fit the need."""
        if not self._plans:
            return None
        cached = self._plans.get(plan)
        if cached is not None and (not scored or all(r.scored for r in cached)):
            return cached
        return None


class _Evaluator:
    """Evaluates one plan, node by node, in every segment at once."""

    def __init__(self, view: View, scored: bool) -> None:
        self.view = view
        self.scored = scored
        self.leaves = view.leaves
        #: Leaves met before in this plan, with the boost they were scored at: a tiered
        #: query holds each word twice (in "every word" and in "any word").
        self._seen: dict[p.Plan, tuple[list[Result], float]] = {}

    def empty(self) -> list[Result]:
        return [
            Result(
                np.zeros(leaf.size, dtype=np.bool_),
                np.zeros(leaf.size) if self.scored else None,
            )
            for leaf in self.leaves
        ]

    def node(self, plan: p.Plan, boost: float = 1.0, top: bool = False) -> list[Result]:
        """``plan`` in every segment, its boostable scores multiplied by ``boost`` (the boosts
        above it: like Whoosh, they are pushed down to the leaves)."""
        if not top and isinstance(plan, (p.All, p.Any, p.Exclude)):
            kept = self.view.cached_plan(plan, self.scored)
            if kept is not None:
                return kept if boost == 1.0 else [_boosted(r, boost) for r in kept]
        if isinstance(plan, p.Everything):
            return [
                Result(
                    leaf.data.live(leaf.reader).copy(),
                    np.where(leaf.data.live(leaf.reader), boost, 0.0) if self.scored else None,
                )
                for leaf in self.leaves
            ]
        if isinstance(plan, (p.Words, p.Prefix, p.Fuzzy)):
            seen = self._seen.get(plan)
            if seen is not None:
                results, at = seen
                if at == boost or not self.scored:
                    return results
                if at:
                    return [_boosted(r, boost / at) for r in results]
            results = self.leaf(plan, boost)
            self._seen[plan] = (results, boost)
            return results
        if isinstance(plan, p.All):
            return self.all([self.node(child, boost) for child in plan.children])
        if isinstance(plan, p.Any):
            return self.any([self.node(child, boost) for child in plan.children])
        if isinstance(plan, p.Exclude):
            positive = self.node(plan.positive, boost)
            excluded = _Evaluator(self.view, False).node(plan.excluded)
            out = []
            for pos, neg in zip(positive, excluded, strict=True):
                mask = pos.mask & ~neg.mask
                if pos.is_sparse:
                    assert pos.docs is not None and pos.values is not None
                    keep = mask[pos.docs]
                    out.append(Result(mask, docs=pos.docs[keep], values=pos.values[keep]))
                else:
                    out.append(Result(mask, _masked(pos.dense(), mask), _masked(pos.fixed, mask)))
            return out
        if isinstance(plan, p.Boost):
            return self.node(plan.child, boost * plan.factor if self.scored else boost)
        raise TypeError(f"unknown plan node {plan!r}")

    def leaf(self, plan: p.Words | p.Prefix | p.Fuzzy, boost: float) -> list[Result]:
        if isinstance(plan, p.Words):
            return self.words(plan, boost)
        if isinstance(plan, p.Prefix):
            return self.expanding(
                plan.fields, [("prefix", prefix) for prefix in plan.prefixes], boost
            )
        if plan.distance < 0:
            return self.empty()
        return self.expanding(
            plan.fields, [("fuzzy", plan.term, plan.distance, plan.prefix_length)], boost
        )

    # -- compounds -----------------------------------------------------------------------------

    def all(self, children: list[list[Result]]) -> list[Result]:
        if not children:
            return self.empty()
        out = []
        for parts in zip(*children, strict=True):
            if self.scored and all(r.is_sparse for r in parts):
                size = parts[0].size
                if sum(r.docs.size for r in parts) * _SPARSE_AND < size:
                    # Few documents: intersect their numbers, no mask over the segment.
                    docs, values = parts[0].docs, parts[0].values.copy()
                    for part in parts[1:]:
                        docs, values = _intersect(docs, values, part.docs, part.values)
                    out.append(Result.sparse(size, docs, values))
                    continue
            mask = parts[0].mask.copy()
            for part in parts[1:]:
                mask &= part.mask
            if self.scored and all(r.is_sparse for r in parts):
                docs = np.flatnonzero(mask).astype(np.int32)
                values = parts[0].at(docs).copy()
                for part in parts[1:]:
                    values += part.at(docs)
                out.append(Result(mask, docs=docs, values=values))
                continue
            out.append(Result(mask, _summed([r.dense() for r in parts], mask),
                              _summed([r.fixed for r in parts], mask)))
        return out

    def any(self, children: list[list[Result]]) -> list[Result]:
        if not children:
            return self.empty()
        out = []
        for parts in zip(*children, strict=True):
            if self.scored and len(parts) > _FEW and all(r.is_sparse for r in parts):
                out.append(_sparse_union(parts))
                continue
            mask = parts[0].mask.copy()
            for part in parts[1:]:
                mask |= part.mask
            if self.scored and all(r.is_sparse for r in parts):
                docs = np.flatnonzero(mask).astype(np.int32)
                values = np.zeros(docs.size)
                for part in parts:  # added up in the children's order, as dense arrays are
                    assert part.docs is not None and part.values is not None
                    values[np.searchsorted(docs, part.docs)] += part.values
                out.append(Result(mask, docs=docs, values=values))
                continue
            out.append(Result(mask, _summed([r.dense() for r in parts], None),
                              _summed([r.fixed for r in parts], None)))
        return out

    # -- leaves --------------------------------------------------------------------------------

    def words(self, plan: p.Words, boost: float) -> list[Result]:
        if not plan.terms or not plan.fields:
            return self.empty()
        if len(plan.terms) == 1:
            if len(plan.fields) == 1:
                fieldname = plan.fields[0]
                weight = FIELD_WEIGHTS.get(fieldname, 1.0) * boost
                return self.term(fieldname, plan.terms[0], weight)
            return self.fields_term(plan.terms[0], plan.fields, boost)
        fields = [f for f in plan.fields if f in POSITIONAL_FIELDS]
        if not fields:
            return self.empty()
        return self.any([self.phrase(f, plan.terms, boost) for f in fields])

    def term(self, fieldname: str, text: str, weight: float) -> list[Result]:
        """One term in one field: Whoosh's ``Term`` with boost ``weight``."""
        btext = self.view.to_bytes(fieldname, text)
        if btext is None:
            return self.empty()
        return [self._term(leaf, fieldname, btext, weight) for leaf in self.leaves]

    def _term(self, leaf: Leaf, fieldname: str, btext: bytes, weight: float) -> Result:
        view = self.view
        if not self.scored:
            mask = np.zeros(leaf.size, dtype=np.bool_)
            mask[_index(view.live_postings(leaf, fieldname, btext)[0])] = True
            return Result(mask)
        if not view.schema[fieldname].scorable:
            docs, weights = view.live_postings(leaf, fieldname, btext)
            return Result.sparse(leaf.size, docs, weights * weight)
        docs, tfn = view.normalized(leaf, fieldname, btext)
        # Whoosh's bm25(): idf * tf * (k1 + 1) / (tf + k1 * norm), with tfn = tf / norm.
        idf = view.idf(view.doc_frequency(fieldname, btext)) if docs.size else 0.0
        return Result.sparse(
            leaf.size, docs, idf * (tfn * (BM25_K1 + 1)) / (tfn + BM25_K1) * weight
        )

    def bm25(
        self, leaf: Leaf, fieldname: str, btext: bytes, docs: IntArray, weights: Any
    ) -> FloatArray:
        """Whoosh's BM25 of one term in one field for ``docs`` (boost 1); the plain weight
        in a field without lengths (Whoosh's ``WeightScorer``)."""
        view = self.view
        if not view.schema[fieldname].scorable:
            return np.asarray(weights, dtype=np.float64)
        idf = view.idf(view.doc_frequency(fieldname, btext))
        lengths = leaf.data.field_lengths(leaf.reader, fieldname)
        length = LENGTHS[lengths[docs]] if lengths is not None else 1.0
        avg = view.avg_length(fieldname)
        tf = np.asarray(weights, dtype=np.float64)
        result: FloatArray = idf * (
            (tf * (BM25_K1 + 1)) / (tf + BM25_K1 * ((1 - BM25_B) + BM25_B * length / avg))
        )
        return result

    def fields_term(self, text: str, fields: tuple[str, ...], boost: float) -> list[Result]:
        """One word in several fields: :class:`~.whoosh_query.FieldsTerm`'s BM25F."""
        view = self.view
        parts, idf = view.word_parts(text, fields)
        scale = boost * idf
        out = []
        for leaf in self.leaves:
            n = leaf.size
            if not self.scored:
                mask = np.zeros(n, dtype=np.bool_)
                for fieldname, btext, _ in parts:
                    mask[_index(view.live_postings(leaf, fieldname, btext)[0])] = True
                out.append(Result(mask))
                continue
            docs, saturated = self._saturated(leaf, parts)
            out.append(Result.sparse(n, docs, saturated * scale))
        return out

    def _saturated(self, leaf: Leaf, parts: Parts) -> tuple[IntArray, FloatArray]:
        """A word's documents in ``leaf`` and their BM25F saturated frequencies (before idf
        and boost: the length-normalised frequencies summed over its fields by weight, then
        saturated), cached: they depend only on the segment, its deletions and the fields'
        average lengths, and the same words come back (the feedback words of long queries
        most of all; :meth:`View.prefetch` computes a plan's new words together)."""
        view = self.view
        key = view.saturated_key(leaf, parts)
        cache = view.segments.postings
        cached = cache.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        from_word = self._word_sums(leaf, parts)
        if from_word is not None:
            docs, total = from_word
        else:
            docs, total = self._field_by_field(leaf, parts)
        result = (docs, _saturate(total))
        cache.put(key, result, int(docs.nbytes + result[1].nbytes) + 400)
        return result

    def _field_by_field(self, leaf: Leaf, parts: Parts) -> tuple[IntArray, FloatArray]:
        """:meth:`_word_sums` from each field's postings (a segment without a word file)."""
        view = self.view
        found = []
        for fieldname, btext, weight in parts:
            docs, tfn = view.normalized(leaf, fieldname, btext)
            if docs.size:
                found.append((docs, tfn * weight if weight != 1.0 else tfn))
        if not found:
            return _NO_DOCS, _NO_VALUES
        if len(found) == 1 or sum(d.size for d, _ in found) * _SPARSE < leaf.size:
            return _field_sums(found)
        # Adds up each document's fields in field order, as FieldsTerm does.
        dense = np.bincount(
            np.concatenate([d for d, _ in found], dtype=np.intp),
            weights=np.concatenate([v for _, v in found]),
            minlength=leaf.size,
        )
        present = np.flatnonzero(dense)
        return present.astype(np.int32), np.asarray(dense[present], dtype=np.float64)

    def _word_sums(self, leaf: Leaf, parts: Parts) -> tuple[IntArray, FloatArray] | None:
        """The live documents of a word in ``leaf`` and its weighted sums of length-normalised
        frequencies over ``parts``, from the segment's words: the numbers :meth:`_saturated`
        adds up field by field, added in the same order (a field that lacks a document adds
        0.0 to it, which changes no sum). None where the segment has no word file for every
        part, or the parts are not one word."""
        view = self.view
        btext = parts[0][1]
        if any(part[1] != btext for part in parts):
            return None
        word = view.word(leaf, btext)
        if word is None:
            return None
        layout = view.word_layout(leaf, parts, word.fields)
        if layout is None:
            return None
        docs = word.docs
        if layout.rows is not None and not layout.rows:
            return _NO_DOCS, _NO_VALUES
        if not docs.size:
            return _NO_DOCS, _NO_VALUES
        frequencies = word.matrix if layout.rows is None else word.matrix[layout.rows]
        # Row by row, in the parts' order: sum(axis=0) adds rows in turn.
        tfn = frequencies / layout.norms.at(docs)
        if layout.weights is not None:
            tfn *= layout.weights
        total: FloatArray = tfn[0] if len(tfn) == 1 else tfn.sum(axis=0)
        keep = leaf.data.live(leaf.reader).take(docs) if leaf.deleted else None
        if layout.partial:
            # Documents with the word only in fields the parts leave out.
            keep = total > 0 if keep is None else keep & (total > 0)
        if keep is not None:
            docs, total = docs[keep], total[keep]
        return docs, total

    def phrase(self, fieldname: str, terms: tuple[str, ...], boost: float) -> list[Result]:
        """Whoosh's ``Phrase`` in one positional field: the words in order, adjacent."""
        view = self.view
        btexts = [view.to_bytes(fieldname, t) for t in terms]
        if any(b is None for b in btexts):
            return self.empty()
        words = tuple(b for b in btexts if b is not None)
        weight = FIELD_WEIGHTS.get(fieldname, 1.0) * boost
        out = []
        for leaf in self.leaves:
            docs = self._phrase_docs(leaf, fieldname, words)
            if not self.scored:
                mask = np.zeros(leaf.size, dtype=np.bool_)
                mask[_index(docs)] = True
                out.append(Result(mask))
                continue
            total = np.zeros(docs.size)
            if docs.size:
                for btext in words:
                    term_docs, weights = view.live_postings(leaf, fieldname, btext)
                    at = np.searchsorted(term_docs, docs)
                    total += self.bm25(leaf, fieldname, btext, docs, weights[at])
            out.append(Result.sparse(leaf.size, docs, total * weight))
        return out

    def _phrase_docs(self, leaf: Leaf, fieldname: str, words: tuple[bytes, ...]) -> IntArray:
        """Live documents of ``leaf`` with ``words`` at consecutive positions in the field;
        positions are decoded only for documents that have every word."""
        view = self.view
        cache = view.segments.postings
        key = (leaf.segid, "phrase", fieldname, words)
        found = cache.get(key)
        if found is None:
            found = _phrase_in_segment(view, leaf, fieldname, words)
            cache.put(key, found, int(found.nbytes) + 200)
        docs: IntArray = found
        if leaf.deleted and docs.size:
            docs = docs[leaf.data.live(leaf.reader).take(docs)]
        return docs

    def expanding(
        self, fields: tuple[str, ...], patterns: list[tuple[Any, ...]], boost: float
    ) -> list[Result]:
        """Prefixes or a fuzzy term, per field and pattern, as Whoosh's ``MultiTerm`` scores
        them (see the module docstring)."""
        clauses = [(f, pattern) for f in fields for pattern in patterns]
        if not clauses:
            return self.empty()
        return self.any([self._expansion(f, pattern, boost) for f, pattern in clauses])

    def _expansion(self, fieldname: str, pattern: tuple[Any, ...], boost: float) -> list[Result]:
        view = self.view
        if fieldname not in view.schema:
            return self.empty()
        weight = FIELD_WEIGHTS.get(fieldname, 1.0) * boost
        out = []
        for leaf in self.leaves:
            words = _expand(leaf, fieldname, pattern)
            mask = np.zeros(leaf.size, dtype=np.bool_)
            if pattern[0] == "prefix" and pattern[1] == "":
                # Whoosh's Every(field): documents with any term in the field, scoring the boost.
                for btext in words:
                    docs, _ = view.live_postings(leaf, fieldname, btext)
                    mask[_index(docs)] = True
                constant = np.where(mask, weight, 0.0) if self.scored else None
                out.append(Result(mask, constant))
                continue
            if not words:
                out.append(Result(mask, np.zeros(leaf.size) if self.scored else None))
                continue
            # Whoosh's unscored ArrayUnionMatcher: every match scores 1, whatever the boost.
            unscored = len(words) >= _TOO_MANY_CLAUSES or (
                len(words) > 2 and leaf.size <= _SMALL_SEGMENT
            )
            total = np.zeros(leaf.size) if self.scored and not unscored else None
            for btext in words:
                docs, weights = view.live_postings(leaf, fieldname, btext)
                at = _index(docs)
                mask[at] = True
                if total is not None and docs.size:
                    total[at] += self.bm25(leaf, fieldname, btext, docs, weights)
            if not self.scored:
                out.append(Result(mask))
            elif unscored:
                out.append(Result(mask, np.zeros(leaf.size), mask.astype(np.float64)))
            elif len(words) == 1:
                assert total is not None
                out.append(Result(mask, np.zeros(leaf.size), total))  # no weight, no boost
            else:
                assert total is not None
                out.append(Result(mask, total * weight))
        return out


def _index(docs: IntArray) -> npt.NDArray[np.intp]:
    """Document numbers as numpy's index type: scattering into an array (and ``bincount``
    with weights) with ``int32`` numbers converts them on the way, several times slower
    than converting them first (numpy 2; ``take`` has no such cost)."""
    return docs.astype(np.intp, copy=False)


def _saturate(total: FloatArray) -> FloatArray:
    """BM25's saturation of weighted, length-normalised frequencies."""
    return total * (BM25_K1 + 1) / (total + BM25_K1)


def _intersect(
    docs: IntArray, values: FloatArray, other: IntArray, other_values: FloatArray
) -> tuple[IntArray, FloatArray]:
    """The documents of two ascending arrays that hold them both, each with ``values +
    other_values`` (in that order, as adding part after part does): the shorter array's
    documents are looked up in the longer one (``searchsorted``: no sort, no mask)."""
    if not docs.size or not other.size:
        return _NO_DOCS, _NO_VALUES
    if docs.size <= other.size:
        at = np.minimum(np.searchsorted(other, docs), other.size - 1)
        hit = other[at] == docs
        return docs[hit], values[hit] + other_values[at[hit]]
    at = np.minimum(np.searchsorted(docs, other), docs.size - 1)
    hit = docs[at] == other
    return other[hit], values[at[hit]] + other_values[hit]


def _sparse_union(parts: Sequence[Result]) -> Result:
    """The union of many sparse results in one pass: ``bincount`` adds each document's
    values in the parts' order, as adding them part by part does (the same sums, bit for
    bit), without an array operation per part (a long query with feedback has 40)."""
    size = parts[0].size
    all_docs = np.concatenate([r.docs for r in parts if r.docs is not None], dtype=np.intp)
    all_values = np.concatenate([r.values for r in parts if r.values is not None])
    mask = np.bincount(all_docs, minlength=size).astype(np.bool_)
    present = np.flatnonzero(mask)
    sums = np.bincount(all_docs, weights=all_values, minlength=size)
    return Result(
        mask, docs=present.astype(np.int32), values=np.asarray(sums[present], dtype=np.float64)
    )


def _field_sums(found: list[tuple[IntArray, FloatArray]]) -> tuple[IntArray, FloatArray]:
    """The documents of several fields' postings (each sorted) and, per document, its
    fields' values added up in field order."""
    if len(found) == 1:
        return found[0]
    docs = np.concatenate([d for d, _ in found])
    values = np.concatenate([v for _, v in found])
    order = np.argsort(docs, kind="stable")  # equal documents stay in field order
    docs, values = docs[order], values[order]
    starts = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
    return docs[starts], np.add.reduceat(values, starts)


def _expand(leaf: Leaf, fieldname: str, pattern: tuple[Any, ...]) -> tuple[bytes, ...]:
    """The terms of ``leaf``'s dictionary a prefix or fuzzy pattern expands to (cached)."""
    key = (fieldname, *pattern)
    found = leaf.data.expansions.get(key)
    if found is None:
        reader = leaf.reader
        try:
            if pattern[0] == "prefix":
                if pattern[1] == "":
                    words = list(reader.lexicon(fieldname))
                else:
                    words = list(reader.expand_prefix(fieldname, pattern[1]))
            else:
                _, text, distance, prefix_length = pattern
                words = list(reader.terms_within(fieldname, text, distance, prefix=prefix_length))
        except Exception as exc:  # a field this segment does not index
            if type(exc).__name__ != "TermNotFound":
                raise
            words = []
        field = reader.schema[fieldname]
        found = tuple(
            sorted({w if isinstance(w, bytes) else bytes(field.to_bytes(w)) for w in words if w})
        )
        if len(leaf.data.expansions) > 4096:
            leaf.data.expansions.clear()
        leaf.data.expansions[key] = found
    return found


def _phrase_in_segment(view: View, leaf: Leaf, fieldname: str, words: tuple[bytes, ...]) -> Any:
    """Documents of ``leaf`` (deleted ones included) holding the phrase ``words``."""
    postings = [view.postings(leaf, fieldname, w) for w in words]
    candidates = postings[0].docs
    for other in postings[1:]:
        if not candidates.size:
            break
        candidates = np.intersect1d(candidates, other.docs, assume_unique=True)
    if not candidates.size:
        return candidates.astype(np.int32)
    # Positions are read only from the blocks that hold a candidate.
    values = [view.positions(leaf, fieldname, w, candidates) for w in words]
    decode = position_decoder(leaf.reader.schema[fieldname].format)
    found = []
    for j, doc in enumerate(candidates.tolist()):
        # Where the phrase can start: word i's positions, less i, in every word's.
        starts = set(decode(values[0][j]))
        for i in range(1, len(words)):
            starts.intersection_update([position - i for position in decode(values[i][j])])
            if not starts:
                break
        if starts:
            found.append(doc)
    return np.asarray(found, dtype=np.int32)


def _boosted(result: Result, boost: float) -> Result:
    """``result`` with its boostable scores multiplied by ``boost``."""
    if result.values is not None:
        return Result(
            result._mask, None if result.score is None else result.score * boost, result.fixed,
            docs=result.docs, values=result.values * boost, size=result.size,
        )
    if result.score is None:
        return result
    return Result(result.mask, result.score * boost, result.fixed)


def _masked(values: FloatArray | None, mask: BoolArray) -> FloatArray | None:
    if values is None:
        return None
    return values * mask


def _summed(parts: Sequence[FloatArray | None], mask: BoolArray | None) -> FloatArray | None:
    present = [part for part in parts if part is not None]
    if not present:
        return None
    total = present[0].copy()
    for part in present[1:]:
        total += part
    if mask is not None:
        total *= mask
    return total


# -- filters, facets, order ----------------------------------------------------------------------


class Filtering:
    """Per-segment masks of the documents that filters allow, each computed once per call."""

    def __init__(self, view: View) -> None:
        self.view = view
        self._memo: dict[tuple[Any, ...], list[BoolArray]] = {}

    def mask(self, filters: p.Filters) -> list[BoolArray] | None:
        """Which documents pass every active filter (None: no filter is active)."""
        combined: list[BoolArray] | None = None
        for key in filters.parts():
            part = self._part(key)
            combined = [m.copy() for m in part] if combined is None else [
                c & m for c, m in zip(combined, part, strict=True)
            ]
        return combined

    def _part(self, key: tuple[Any, ...]) -> list[BoolArray]:
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = [self._leaf_part(leaf, key) for leaf in self.view.leaves]
        return found

    def _leaf_part(self, leaf: Leaf, key: tuple[Any, ...]) -> BoolArray:
        view, data = self.view, leaf.data
        name = key[0]
        if name in ("topic", "provider", "kind"):
            # Kept per segment: the documents of facet values never change in a segment.
            kept = data.value_masks.get(key)
            if kept is not None:
                return kept
            codes = view.segments.codes
            data.facet_columns(leaf.reader, codes)
            # A table of the codes wanted, one past the last for "no value" (-1).
            table = np.zeros(len(codes.values[name]) + 1, dtype=np.bool_)
            table[codes.lookup(name, key[1])] = True
            if name == "topic":
                assert data.topic_codes is not None and data.topic_docs is not None
                mask = np.zeros(leaf.size, dtype=np.bool_)
                mask[data.topic_docs[table[data.topic_codes]]] = True
            else:
                column = data.kind if name == "kind" else data.provider
                assert column is not None
                mask = table[column]
            if len(data.value_masks) >= _VALUE_MASKS:
                data.value_masks.clear()
            data.value_masks[key] = mask
            return mask
        if name == "date":
            data.sort_columns(leaf.reader)
            assert data.dated is not None and data.published is not None
            dates: BoolArray = data.dated != 0
            field = view.schema["published"]
            if key[1] is not None:
                dates &= data.published >= np.uint64(field.to_column_value(_naive_utc(key[1])))
            if key[2] is not None:
                dates &= data.published <= np.uint64(field.to_column_value(_naive_utc(key[2])))
            return dates
        mask = np.ones(leaf.size, dtype=np.bool_)  # exclude ids
        for doc_id in key[1]:
            btext = view.to_bytes("id", doc_id)
            if btext is not None:
                mask[view.postings(leaf, "id", btext).docs] = False
        return mask


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def narrowed(results: list[Result], allowed: list[BoolArray] | None) -> list[BoolArray]:
    """The matching documents that the filters allow, per segment."""
    if allowed is None:
        return [r.mask for r in results]
    return [r.mask & a for r, a in zip(results, allowed, strict=True)]


class Positions:
    """``np.flatnonzero`` of masks, computed once per mask during one call (the facets and
    the page often look at the same matches)."""

    def __init__(self) -> None:
        self._memo: dict[int, tuple[BoolArray, IntArray]] = {}

    def __call__(self, mask: BoolArray) -> IntArray:
        found = self._memo.get(id(mask))
        if found is None or found[0] is not mask:
            found = self._memo[id(mask)] = (mask, np.flatnonzero(mask).astype(np.int32))
        return found[1]

    def know(self, mask: BoolArray, docs: IntArray) -> None:
        """Remember ``docs`` (ascending) as the positions of ``mask``."""
        self._memo[id(mask)] = (mask, docs)

    def seed(self, hits: list[BoolArray], results: list[Result]) -> None:
        """Remember the documents of sparse results as the positions of their masks (where
        ``hits`` are those masks, unfiltered): no pass over the segment to find them."""
        for hit, result in zip(hits, results, strict=True):
            if result.docs is not None and result._mask is hit:
                self._memo[id(hit)] = (hit, result.docs)


#: Whoosh's ``DATETIME`` column holds microseconds since ``datetime.min`` (0001-01-01).
USECS_PER_DAY = 86_400_000_000


def day_counts(
    view: View, hits: list[BoolArray], positions: Positions | None = None
) -> dict[str, int]:
    """Documents per UTC publication day (``YYYY-MM-DD``) among ``hits``, undated left out:
    one ``bincount`` of day numbers (days since 0001-01-01) over all segments."""
    positions = positions or Positions()
    found: list[IntArray] = []
    for leaf, hit in zip(view.leaves, hits, strict=True):
        docs = positions(hit)
        if not docs.size:
            continue
        data = leaf.data
        data.sort_columns(leaf.reader)
        assert data.dated is not None and data.published is not None
        docs = docs[data.dated[docs] != 0]
        found.append((data.published[docs] // np.uint64(USECS_PER_DAY)).astype(np.int64))
    if not found:
        return {}
    days = np.concatenate(found)
    first = int(days.min())
    counted = np.bincount(days - first)
    present = np.flatnonzero(counted)
    return {
        date.fromordinal(first + int(day) + 1).isoformat(): int(counted[day])
        for day in present.tolist()
    }


def facet_counts(
    view: View, facet: str, hits: list[BoolArray], positions: Positions | None = None
) -> dict[str, int]:
    """Documents per value of ``facet`` among ``hits`` (values without any left out), in no
    particular order."""
    if facet == DAY_FACET:
        return day_counts(view, hits, positions)
    codes = view.segments.codes
    totals = np.zeros(0, dtype=np.int64)
    positions = positions or Positions()
    for leaf, hit in zip(view.leaves, hits, strict=True):
        data = leaf.data
        data.facet_columns(leaf.reader, codes)
        counted = _segment_counts(data, facet, hit, positions(hit))
        if counted.size > totals.size:
            counted[: totals.size] += totals
            totals = counted
        else:
            totals[: counted.size] += counted
    names = codes.values[facet]
    present = np.flatnonzero(totals)
    return dict(zip([names[c] for c in present.tolist()], totals[present].tolist(), strict=True))


def _segment_counts(
    data: SegmentData, facet: str, hit: BoolArray, docs: IntArray
) -> npt.NDArray[np.int64]:
    """Matches per code of ``facet`` in one segment (``hit``: the matches' mask, ``docs``:
    their numbers)."""
    # Few matches: gather their values; many: count over the whole segment.
    if facet == "topic":
        assert data.topic_codes is not None and data.topic_start is not None
        if docs.size * 4 < data.doc_count:
            starts = data.topic_start[docs]
            lengths = data.topic_start[docs + 1] - starts
            # Positions of the matches' topics: each run starts where its document's do.
            runs = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
            return np.bincount(data.topic_codes[runs + np.arange(runs.size)]).astype(np.int64)
        # The segment's topic postings grouped by topic: each topic's matches are a sum over
        # its run of the matches mask.
        present, run_starts, docs_by_code = data.topics_by_code()
        counted = np.zeros(int(present[-1]) + 1 if present.size else 0, dtype=np.int64)
        if present.size:
            counted[present] = np.add.reduceat(
                hit.view(np.uint8).take(docs_by_code), run_starts, dtype=np.int64
            )
        return counted
    column = data.kind if facet == "kind" else data.provider
    assert column is not None
    if docs.size * 4 < data.doc_count:
        values = column[docs]
        return np.bincount(values[values >= 0]).astype(np.int64)
    if facet == "kind":
        # A handful of values: each one's documents among the matches.
        return np.array(
            [np.count_nonzero(hit & mask) for mask in data.value_masks_of("kind")],
            dtype=np.int64,
        )
    # Weights of 0 and 1 into the codes plus one (bin 0: documents without a value).
    return np.bincount(data.shifted(facet), weights=hit.view(np.uint8))[1:].astype(np.int64)


def top(
    view: View,
    hits: list[BoolArray],
    scores: list[Result] | None,
    sort: Sort,
    offset: int,
    limit: int,
    positions: Positions | None = None,
) -> list[tuple[Leaf, int, float | None]]:
    """The window ``[offset, offset + limit)`` of ``hits`` in ``sort`` order (ties: newer
    first, then index order), with scores when ranked by score.

    Each segment keeps only its best ``offset + limit`` documents, found by partial selection
    on one numeric key (every document tied with the last one included), sorted exactly; the
    segments' candidates are then merged.
    """
    window = offset + limit
    if limit <= 0 or window <= 0:
        return []
    ranked = sort == "relevance" and scores is not None
    columns: list[list[Any]] = []  # per segment: keys..., leaf index, docnums, scores
    positions = positions or Positions()
    for index, (leaf, hit) in enumerate(zip(view.leaves, hits, strict=True)):
        docs = positions(hit)
        if not docs.size:
            continue
        data = leaf.data
        data.sort_columns(leaf.reader)
        assert data.dated is not None and data.published is not None
        assert data.quality is not None
        score = None
        if ranked:
            assert scores is not None
            score = scores[index].at(docs)
            if docs.size > window:
                # The dates that break ties are read for the best documents only.
                keep = _smallest(-score, window)
                docs, score = docs[keep], score[keep]
            dated = data.dated[docs].astype(np.int64)
            published = data.published[docs]
        else:
            dated = data.dated[docs].astype(np.int64)
            published = data.published[docs]
            undated_last = np.where(dated != 0, 0.0, np.inf)
            if sort == "oldest":
                primary = undated_last + published.astype(np.float64)
            elif sort == "quality":
                primary = -data.quality[docs].astype(np.float64)
            else:  # newest; relevance of an unscored plan
                primary = undated_last - published.astype(np.float64)
            if docs.size > window:
                keep = _smallest(primary, window)
                docs, dated, published = docs[keep], dated[keep], published[keep]
        keys = _sort_keys(sort, ranked, leaf.offset + docs, dated, published,
                          data.quality[docs], score)
        columns.append([*keys, np.full(docs.size, index), docs,
                        score if score is not None else np.zeros(docs.size)])
    if not columns:
        return []
    merged = [np.concatenate(parts) for parts in zip(*columns, strict=True)]
    *keys, leaf_index, local, score_column = merged
    order = np.lexsort(tuple(reversed(keys)))[offset:window]
    return [
        (view.leaves[int(leaf_index[i])], int(local[i]),
         float(score_column[i]) if ranked else None)
        for i in order
    ]


def _smallest(primary: FloatArray, window: int) -> npt.NDArray[np.intp]:
    """Positions (ascending) of the ``window`` smallest values of ``primary`` and of every
    value tied with the largest of them.

    Partial selection over every match costs ~100 µs at 16,000 (a long query with feedback
    matches that many a segment). The ``window``-th smallest of the first :data:`_HEAD`
    values is at least the whole array's, so the values up to it hold every one wanted: only
    those (a few hundred) are selected from.
    """
    candidates = None
    if primary.size > 2 * _HEAD and window <= _HEAD:
        ceiling = np.partition(primary[:_HEAD], window - 1)[window - 1]
        candidates = np.flatnonzero(primary <= ceiling)
        primary = primary[candidates]
    limit = np.partition(primary, window - 1)[window - 1]
    keep = np.flatnonzero(primary <= limit)
    return keep if candidates is None else candidates[keep]


def _sort_keys(
    sort: Sort,
    ranked: bool,
    docnums: Any,
    dated: Any,
    published: Any,
    quality: Any,
    score: Any,
) -> list[Any]:
    """Exact sort keys, most significant first, all ascending."""
    newest = [-dated, _UINT64_MAX - published]
    if ranked:
        return [-score, *newest, docnums]
    if sort == "oldest":
        return [-dated, published, docnums]
    if sort == "quality":
        return [-quality, *newest, docnums]
    return [*newest, docnums]


def execution_facets(
    view: View,
    results: list[Result],
    facets: Mapping[str, p.Filters],
    filtering: Filtering,
    positions: Positions | None = None,
) -> dict[str, dict[str, int]]:
    """Each requested facet counted over the matches under that facet's filters."""
    return {
        name: facet_counts(
            view, name, narrowed(results, filtering.mask(facet_filters)), positions
        )
        for name, facet_filters in facets.items()
    }


def live_counts(view: View) -> dict[str, dict[str, int]]:
    """Documents per facet value over every live document."""
    live = [leaf.data.live(leaf.reader) for leaf in view.leaves]
    return {name: facet_counts(view, name, live) for name in ("topic", "provider", "kind")}


def term_stats(view: View, fieldname: str, texts: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Live documents holding each term in ``fieldname``, and its occurrences there (kept
    per searcher: feedback asks for the words of its top documents, which recur)."""
    kept = view.stats
    out: dict[str, tuple[int, int]] = {}
    pending: dict[str, bytes] = {}
    for text in texts:
        known = kept.get((fieldname, text))
        if known is not None:
            out[text] = known
            continue
        btext = view.to_bytes(fieldname, text)
        if btext is None:
            out[text] = (0, 0)
        else:
            pending[text] = btext
    if not pending:
        return out
    files = [leaf.data.postings_file(leaf.reader) for leaf in view.leaves]
    names = files[0].fields if files and files[0] is not None else ()
    if fieldname in names and all(f is not None and f.fields == names for f in files):
        # Every field's statistics come from the same reads of the words: all are kept, for
        # the field asked next (feedback asks for the title, then for the excerpt).
        live, stored = _all_fields_stats(view, names, pending)
        for text, stats in live.items():
            btext = pending[text]
            for name, found, counted in zip(names, stats, stored[text], strict=True):
                if name == fieldname or view.to_bytes(name, text) == btext:
                    if len(kept) >= _TERMS_KEPT:
                        kept.clear()
                    kept[name, text] = found
                    view.know_frequency(name, btext, counted)
            out[text] = stats[names.index(fieldname)]
        return out
    documents = dict.fromkeys(pending, 0)
    frequency = dict.fromkeys(pending, 0.0)
    for leaf in view.leaves:
        words = leaf.data.postings_file(leaf.reader)
        index = None if words is None else words.index.get(fieldname)
        if index is not None:
            _word_stats(view, leaf, index, pending, documents, frequency)
            continue
        for text, btext in pending.items():
            df, weight = view.term_info(leaf, fieldname, btext)
            if not df:
                continue
            if not leaf.deleted:
                documents[text] += df
                frequency[text] += weight
                continue
            # Whoosh's statistics count deleted documents: count the live postings instead.
            docs, weights = view.live_postings(leaf, fieldname, btext)
            documents[text] += docs.size
            frequency[text] += float(weights.sum())
    for text in pending:
        out[text] = found = (documents[text], int(frequency[text]))
        if len(kept) >= _TERMS_KEPT:
            kept.clear()
        kept[fieldname, text] = found
    return out


def _all_fields_stats(
    view: View, names: tuple[str, ...], pending: Mapping[str, bytes]
) -> tuple[dict[str, list[tuple[int, int]]], dict[str, list[int]]]:
    """:func:`term_stats` of each word in every field of the word files (``names``, the
    same in every segment), added up as :func:`_word_stats` adds them for one field; and
    its documents per field as Whoosh counts them (deleted ones included: the idf's)."""
    stored = {text: [0] * len(names) for text in pending}
    documents = {text: [0] * len(names) for text in pending}
    frequency = {text: [0.0] * len(names) for text in pending}
    texts = list(pending)
    for leaf in view.leaves:
        found = view.words(leaf, list(pending.values()))
        assert found is not None
        for text, word in zip(texts, found, strict=True):
            whoosh, counts, sums = stored[text], documents[text], frequency[text]
            for row, index in enumerate(word.fields):
                whoosh[index] += word.counts[row]
                counts[index] += word.counts[row]
                sums[index] += word.totals[row]
        if not leaf.deleted or not found:
            continue
        # As in _word_stats: the deleted documents among the words' documents are taken away.
        sizes = np.array([word.docs.size for word in found])
        starts = np.cumsum(sizes) - sizes
        docs = np.concatenate([word.docs for word in found])
        gone = np.flatnonzero(~leaf.data.live(leaf.reader)[docs])
        owners = np.searchsorted(starts, gone, side="right") - 1
        for owner, column in zip(owners.tolist(), (gone - starts[owners]).tolist(), strict=True):
            word = found[owner]
            text = texts[owner]
            counts, sums = documents[text], frequency[text]
            for row, index in enumerate(word.fields):
                weight = float(word.matrix[row, column])
                if weight > 0:
                    counts[index] -= 1
                    sums[index] -= weight
    live = {
        text: [(count, int(total)) for count, total in zip(documents[text], frequency[text],
                                                          strict=True)]
        for text in pending
    }
    return live, stored


def _word_stats(
    view: View, leaf: Leaf, index: int, pending: Mapping[str, bytes],
    documents: dict[str, int], frequency: dict[str, float],
) -> None:
    """:func:`term_stats` of the words of one segment's word file, field ``index``; with
    deletions, all words' live documents in one pass."""
    words = view.words(leaf, list(pending.values()))
    assert words is not None
    found = []
    for text, word in zip(pending, words, strict=True):
        row = word.row(index)
        if row is not None:
            found.append((text, word, row))
    if not found:
        return
    for text, word, row in found:
        documents[text] += word.counts[row]
        frequency[text] += word.totals[row]
    if not leaf.deleted:
        return
    # The word file's counts hold deleted documents: take away those that have the word in
    # the field. A segment's deletions are few, so they are found with one look at each
    # document of the words, not by counting every live one.
    sizes = np.array([word.docs.size for _, word, _ in found])
    starts = np.cumsum(sizes) - sizes
    docs = np.concatenate([word.docs for _, word, _ in found])
    gone = np.flatnonzero(~leaf.data.live(leaf.reader)[docs])
    if not gone.size:
        return
    owners = np.searchsorted(starts, gone, side="right") - 1
    for owner, column in zip(owners.tolist(), (gone - starts[owners]).tolist(), strict=True):
        text, word, row = found[owner]
        weight = float(word.matrix[row, column])
        if weight > 0:
            documents[text] -= 1
            frequency[text] -= weight
