"""The page of a long union of words without scoring every match (bounds, as MaxScore does).

A query with feedback runs as its typed query (already scored: feedback's first pass ranked
it) OR thirty feedback words, each in every text field. Every match counts for the total and
the facets, but only the page needs scores, and computing every feedback word's BM25F in
every matching document (a fifth of the documents each, at 100,000 articles) is what made a
query with feedback cost nearly three times the query without.

A word's BM25F score in a document is ``scale * saturated`` with ``saturated < k1 + 1``, so a
document's score lies between its *lower bound* (the scores of the parts already known: the
typed query) and its *upper bound* (that plus ``scale * (k1 + 1)`` for each feedback word it
holds: one ``bincount``, no length norms). The ``window``-th best lower bound among the
documents the filters allow, ``theta``, is reached by the window's documents, so a document
whose upper bound is below it cannot be on the page: only the others (a few dozen of 160,000
matches, measured) are scored exactly. Those exact scores are the numbers the full
evaluation computes, bit for bit: the same operations in the same order (fields in the
plan's order, then the union's parts in its order, each added to a sum that starts at 0).
Every other match keeps a score of 0, below every score on the page.

Only the top of :meth:`~.whoosh.WhooshBackend.execute` uses this, for a ranked page; a plan
of another shape, an index without word files, or a window the bounds cannot narrow is
evaluated in full (``None``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .. import plan as p
from ..schema import BM25_K1
from .whoosh_exec import _HEAD, Leaf, Norms, Parts, Result, View, _Evaluator, _saturate
from .whoosh_postings import Word
from .whoosh_segments import BoolArray, FloatArray, IntArray

#: Unions of fewer words are evaluated in full (their words cost little).
MIN_WORDS = 8
#: Pages deeper than this are evaluated in full (most matches would be candidates).
MAX_WINDOW = 1000
#: Relative slack on the bounds, far above the rounding of a sum of a few dozen doubles.
_MARGIN = 1e-9


@dataclass(frozen=True, slots=True)
class _Words:
    """The union's words scored only where they can matter: their positions among the
    union's parts, their ``boost * idf``, their terms as stored, and their fields (the same
    for all: their names and weights, in the plan's order)."""

    indexes: npt.NDArray[np.intp]
    scales: FloatArray
    #: ``scales * (k1 + 1)``: no word scores more in a document.
    bounds: FloatArray
    btexts: list[bytes]
    fields: tuple[str, ...]
    weights: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Best:
    """A union's results (exact matches; exact scores only where ``ranked``), its matches
    the filters allow (``hits``) and, per segment, the documents that can be among the best
    (the filters already applied), as a mask and as document numbers."""

    results: list[Result]
    hits: list[BoolArray]
    ranked: list[BoolArray]
    ranked_docs: list[IntArray]


def best_of_union(
    view: View, plan: p.Plan, allowed: list[BoolArray] | None, window: int
) -> Best | None:
    """``plan``'s results, with exact scores for every document that can be among the best
    ``window`` the filters allow (``allowed``, per segment; None: all) and 0 for the others;
    None when ``plan`` is not a scored part followed by many words, or nothing is narrowed."""
    if not 0 < window <= MAX_WINDOW:
        return None
    positive, excluded = (plan.positive, plan.excluded) if isinstance(plan, p.Exclude) else (
        plan, None
    )
    if not isinstance(positive, p.Any) or len(positive.children) <= MIN_WORDS:
        return None
    children = positive.children
    if _word(children[0]) is not None:
        return None  # no part known first: every lower bound would be 0
    words = [_word(child) for child in children[1:]]
    if any(word is None for word in words) or len(set(words)) < len(words):
        return None
    view.prefetch(children[0])
    evaluator = _Evaluator(view, True)
    # The parts evaluated in full, as the full evaluation does (its cache of the first part
    # included): the first, and words its leaves already hold (scored by rescaling there).
    known: dict[int, list[Result]] = {0: evaluator.node(children[0])}
    indexes: list[int] = []
    scales: list[float] = []
    btexts: list[bytes] = []
    layout: Parts | None = None
    for index, child in enumerate(children[1:], start=1):
        word = words[index - 1]
        assert word is not None
        factor = child.factor if isinstance(child, p.Boost) else 1.0
        if word in evaluator._seen:
            known[index] = evaluator.node(child)
            continue
        parts, idf = view.word_parts(word.terms[0], word.fields)
        shape = tuple((fieldname, b"", weight) for fieldname, _, weight in parts)
        if not parts or len({btext for _, btext, _ in parts}) != 1 or factor <= 0 or (
            layout is not None and shape != layout
        ):
            return None
        layout = shape
        indexes.append(index)
        scales.append(factor * idf)
        btexts.append(parts[0][1])
    if layout is None:
        return None
    if any(r.fixed is not None for results in known.values() for r in results):
        return None  # a part added after the others in full evaluation: not the same sums
    bounded = _Words(
        np.array(indexes), np.array(scales), np.array(scales) * (BM25_K1 + 1), btexts,
        tuple(fieldname for fieldname, _, _ in layout), tuple(w for _, _, w in layout),
    )
    out_of = None if excluded is None else _Evaluator(view, False).node(excluded)
    segments: list[_Segment] = []
    for position, leaf in enumerate(view.leaves):
        segment = _Segment.of(view, leaf, bounded, [r[position] for r in known.values()])
        if segment is None:
            return None
        if out_of is not None:
            segment.mask &= ~out_of[position].mask
        segment.eligible = (
            segment.mask if allowed is None else segment.mask & allowed[position]
        )
        segments.append(segment)
    # Lower bounds are positive only where the first part matches (live documents): every
    # such document is eligible unless filters or an exclusion narrow the union.
    theta = _theta(segments, window, allowed is not None or out_of is not None)
    if theta is None:
        return None
    best = Best([], [], [], [])
    for position, segment in enumerate(segments):
        result, ranked, candidates = segment.result(
            bounded, known, position, len(children), theta
        )
        best.results.append(result)
        best.hits.append(segment.eligible)
        best.ranked.append(ranked)
        best.ranked_docs.append(candidates)
    return best


def _word(child: p.Plan) -> p.Words | None:
    """The one-word, several-field ``Words`` of a union's part (boosted or not), or None."""
    node = child.child if isinstance(child, p.Boost) else child
    if isinstance(node, p.Words) and len(node.terms) == 1 and len(node.fields) > 1:
        return node
    return None


def _theta(segments: list[_Segment], window: int, masked: bool) -> float | None:
    """The ``window``-th largest of the segments' positive lower bounds among the documents
    they allow (``masked``: some lower bounds are of documents not allowed), or None when
    there are not that many (then nothing can be left unscored).

    A running floor: the ``window``-th largest of the values seen so far is at most the
    answer, so each segment gives only its values at or above it (one comparison over the
    segment; selecting over every value was ~0.1 ms a segment of 32,000). The first floor
    comes from the first segment's first values (any subset's ``window``-th largest is at
    most the whole one's).
    """
    floor = 0.0
    kept: list[FloatArray] = []
    held = 0
    for segment in segments:
        values = segment.lower * segment.eligible if masked else segment.lower
        if not floor and values.size > 2 * _HEAD:
            head = values[:_HEAD]
            positive = head[head > 0]
            if positive.size >= window:
                floor = _largest(positive, window)
        picked = values[values >= floor] if floor else values[values > 0]
        if not picked.size:
            continue
        kept.append(picked)
        held += picked.size
        if held >= window:
            merged = np.concatenate(kept) if len(kept) > 1 else picked
            floor = _largest(merged, window)
            merged = merged[merged >= floor]
            kept, held = [merged], merged.size
    return floor if held >= window else None


def _largest(values: FloatArray, rank: int) -> float:
    """The ``rank``-th largest of ``values`` (which has at least that many)."""
    return float(np.partition(values, values.size - rank)[values.size - rank])


class _Segment:
    """One segment's matches and bounds, and its postings of the union's words."""

    def __init__(
        self, leaf: Leaf, mask: BoolArray, lower: FloatArray, upper_words: FloatArray,
        words: list[Word], docs: npt.NDArray[np.intp], sizes: IntArray, norms: Norms,
        rows: npt.NDArray[np.int64],
    ) -> None:
        self.leaf = leaf
        self.mask = mask
        #: The matches the filters allow.
        self.eligible = mask
        self.lower = lower
        self.upper_words = upper_words
        self.words = words
        #: The words' documents one after the other, and how many each word has.
        self.docs = docs
        self.sizes = sizes
        self.norms = norms
        self.rows = rows

    @classmethod
    def of(
        cls, view: View, leaf: Leaf, bounded: _Words, known: list[Result]
    ) -> _Segment | None:
        """The segment's matches and bounds; None without a word file of the words'
        fields."""
        file = leaf.data.postings_file(leaf.reader)
        if file is None or set(file.fields) != set(bounded.fields):
            return None  # a word only in a field left out would not match
        words = view.words(leaf, bounded.btexts)
        if words is None:
            return None
        sizes = np.array([word.docs.size for word in words])
        # As indexes (numpy's intp): bincount with weights and gathers convert int32 first,
        # several times slower than the work itself.
        docs = np.concatenate([word.docs for word in words], dtype=np.intp)
        bounds = np.repeat(bounded.bounds, sizes)
        upper_words = np.asarray(
            np.bincount(docs, weights=bounds, minlength=leaf.size), dtype=np.float64
        )
        mask = upper_words > 0
        if leaf.deleted:
            mask &= leaf.data.live(leaf.reader)
        lower: FloatArray | None = None
        for result in known:
            mask |= result.mask
            scores = result.dense()
            if scores is not None:
                # Never written to: the first part's own array serves as it is.
                lower = scores if lower is None else lower + scores
        if lower is None:
            lower = np.zeros(leaf.size)
        # Each word's row of each field, in the plan's order (-1: the word is not there).
        columns = [file.index[fieldname] for fieldname in bounded.fields]
        rows = np.array([_rows(word.fields, tuple(columns)) for word in words])
        norms = view.leaf_norms(leaf, bounded.fields)
        return cls(leaf, mask, lower, upper_words, words, docs, sizes, norms, rows)

    def result(
        self, bounded: _Words, known: dict[int, list[Result]], position: int, parts: int,
        theta: float,
    ) -> tuple[Result, BoolArray, IntArray]:
        """The segment's result, exact scores where the upper bound reaches ``theta``, and
        those documents, as a mask and as numbers (the only ones the page is chosen from:
        the others, at 0, would all tie)."""
        upper = np.add(self.lower, self.upper_words, out=self.upper_words)
        reaching = np.flatnonzero(upper >= theta * ((1 - _MARGIN) / (1 + _MARGIN)))
        candidates = reaching[self.eligible[reaching]].astype(np.int32)
        ranked = np.zeros(self.leaf.size, dtype=np.bool_)
        ranked[candidates] = True
        score = np.zeros(self.leaf.size)
        if candidates.size:
            score[candidates] = self._exact(bounded, known, position, parts, candidates)
        return Result(self.mask, score), ranked, candidates

    def _exact(
        self, bounded: _Words, known: dict[int, list[Result]], position: int, parts: int,
        candidates: IntArray,
    ) -> FloatArray:
        """The union's scores of ``candidates``: each part's value, then the parts added in
        order from 0, as ``bincount`` adds them in the full evaluation."""
        values = np.zeros((parts, candidates.size))
        for index, results in known.items():
            scores = results[position].dense()
            if scores is not None:
                values[index] = scores[candidates]
        rows, columns, value = self._word_values(bounded, candidates)
        values[rows, columns] = value
        # Column after column of the parts' values, in the parts' order: bincount adds in
        # input order, so each candidate's sum is built as the full union builds it.
        owners = np.tile(np.arange(candidates.size), parts)
        sums = np.bincount(owners, weights=values.ravel(), minlength=candidates.size)
        return np.asarray(sums, dtype=np.float64)

    def _word_values(
        self, bounded: _Words, candidates: IntArray
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], FloatArray]:
        """The words' scores in the candidates that hold them: (part index, candidate
        index, score) for each such pair, computed as ``_Evaluator._word_sums`` and
        ``fields_term`` do (fields in the plan's order, from 0: absent ones add 0)."""
        words, docs = self.words, self.docs
        wanted = np.zeros(self.leaf.size, dtype=np.bool_)
        wanted[candidates] = True
        entries = np.flatnonzero(wanted[docs])
        sizes = self.sizes
        starts = np.cumsum(sizes) - sizes
        owner = np.searchsorted(starts, entries, side="right") - 1
        doc = docs[entries]
        # Every word's frequency rows, one after the other: an entry's frequency in field j
        # is at its word's start + its row of j * its documents + its column (row -1: 0).
        flat = np.concatenate([word.matrix.ravel() for word in words])
        rows = self.rows[owner]
        at = ((self.matrix_starts(words)[owner] + entries - starts[owner])[:, None]
              + rows * sizes[owner][:, None])
        present = rows >= 0
        frequencies = np.where(present, flat[np.where(present, at, 0)], np.float32(0)).T
        tfn = frequencies / self.norms.at(doc)
        # Fields in the plan's order, each added to the sum in turn (as sum(axis=0) does).
        total = tfn[0] * bounded.weights[0] if bounded.weights[0] != 1.0 else tfn[0]
        for j in range(1, len(bounded.weights)):
            weight = bounded.weights[j]
            total = total + (tfn[j] * weight if weight != 1.0 else tfn[j])
        value = _saturate(total) * bounded.scales[owner]
        return bounded.indexes[owner], np.searchsorted(candidates, doc), value

    @staticmethod
    def matrix_starts(words: list[Word]) -> IntArray:
        """Where each word's rows start in its segment's words' rows put end to end."""
        sizes = np.array([word.matrix.size for word in words])
        return np.asarray(np.cumsum(sizes) - sizes, dtype=np.int64)


@functools.lru_cache(maxsize=256)
def _rows(fields: tuple[int, ...], columns: tuple[int, ...]) -> tuple[int, ...]:
    """For a word with rows for the word file's ``fields``, its row of each of ``columns``
    (-1: it has none there)."""
    return tuple(fields.index(c) if c in fields else -1 for c in columns)
