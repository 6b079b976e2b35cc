"""Translate searchlib's query plans (:mod:`searchlib.plan`) into Whoosh queries.

A word over several text fields becomes one :class:`FieldsTerm`, scored as one BM25F term
(field weights from :mod:`searchlib.schema`); a phrase becomes Whoosh phrases in the
positional fields; prefixes and fuzzy terms become Whoosh's own, which expand through the term
dictionary. Boosts are pushed down to the leaves, since Whoosh ignores boosts on compounds.
"""

from __future__ import annotations

import math
from typing import Any

from whoosh import matching
from whoosh import query as wq
from whoosh.searching import Searcher

from .. import plan as p
from ..schema import FIELD_WEIGHTS, POSITIONAL_FIELDS


def to_whoosh(plan: p.Plan) -> wq.Query:
    """The Whoosh query that evaluates ``plan`` with searchlib's scoring."""
    if isinstance(plan, p.Everything):
        return wq.Every()
    if isinstance(plan, p.Words):
        return _words(plan)
    if isinstance(plan, p.Prefix):
        clauses = [
            wq.Prefix(f, prefix, boost=FIELD_WEIGHTS.get(f, 1.0))
            for f in plan.fields for prefix in plan.prefixes
        ]
        return clauses[0] if len(clauses) == 1 else wq.Or(clauses)
    if isinstance(plan, p.Fuzzy):
        fuzzy = [
            wq.FuzzyTerm(f, plan.term, boost=FIELD_WEIGHTS.get(f, 1.0), maxdist=plan.distance,
                         prefixlength=plan.prefix_length)
            for f in plan.fields
        ]
        return fuzzy[0] if len(fuzzy) == 1 else wq.Or(fuzzy)
    if isinstance(plan, p.All):
        return wq.And([to_whoosh(child) for child in plan.children])
    if isinstance(plan, p.Any):
        return wq.Or([to_whoosh(child) for child in plan.children])
    if isinstance(plan, p.Exclude):
        return AndNot(to_whoosh(plan.positive), to_whoosh(plan.excluded))
    if isinstance(plan, p.Boost):
        return _scaled(to_whoosh(plan.child), plan.factor)
    raise TypeError(f"unknown plan node {plan!r}")


def _words(plan: p.Words) -> wq.Query:
    if len(plan.terms) == 1:
        term = plan.terms[0]
        if len(plan.fields) == 1:
            field = plan.fields[0]
            if field in FIELD_WEIGHTS:
                return wq.Term(field, term, boost=FIELD_WEIGHTS[field])
            return wq.Term(field, term)
        return FieldsTerm(
            [wq.Term(f, term, boost=FIELD_WEIGHTS.get(f, 1.0)) for f in plan.fields]
        )
    # Several tokens from one word ("covid-19", CJK bigrams) or a quoted phrase: in order,
    # in the fields that keep positions (a phrase never matches elsewhere).
    phrases = [
        wq.Phrase(f, list(plan.terms), boost=FIELD_WEIGHTS[f])
        for f in plan.fields if f in POSITIONAL_FIELDS
    ]
    return wq.Or(phrases) if phrases else wq.NullQuery


class _AndNotMatcher(matching.AndNotMatcher):  # type: ignore[misc]
    """Whoosh's ``AndNotMatcher`` with its first document checked too.

    Whoosh 2.7.5 skips excluded documents only when both sides start on the same document:
    when the excluded side starts earlier, the first positive document is never checked and
    leaks through (``kind:related -topic:ai`` kept a document of topic AI).
    """

    def _find_first(self) -> None:
        if self.a.is_active() and self.b.is_active():
            self._find_next()


class AndNot(wq.AndNot):  # type: ignore[misc]
    """``a`` without the documents of ``b``, with :class:`_AndNotMatcher`."""

    def matcher(self, searcher: Searcher, context: Any = None) -> Any:
        scored = self.a.matcher(searcher, context)
        excluded = self.b.matcher(searcher, searcher.boolean_context())
        return _AndNotMatcher(scored, excluded)


def _scaled(query: wq.Query, factor: float) -> wq.Query:
    """``query`` with every leaf's boost multiplied (Whoosh ignores boosts on compounds)."""
    if isinstance(query, wq.AndNot):
        return type(query)(_scaled(query.a, factor), query.b)
    if isinstance(query, FieldsTerm):  # its children's boosts are field weights, not scores
        return query.with_boost(query.boost * factor)
    if isinstance(query, wq.compound.CompoundQuery):
        return query.apply(lambda child: _scaled(child, factor))
    return query.with_boost(query.boost * factor)


class _FieldsMatcher(matching.WrappingMatcher):  # type: ignore[misc]
    """Scores one word over several fields as one BM25F term; ``child`` walks the doc ids.

    Whoosh scores each field's term separately and adds the scores up, so a word that is in
    both title and excerpt counts twice, saturating twice. BM25F (Robertson & Zaragoza) adds the
    field-weighted, length-normalised frequencies first and saturates once.
    """

    def __init__(self, child: Any, parts: list[list[Any]], idf: float, k1: float,
                 boost: float = 1.0) -> None:
        super().__init__(child, boost)
        # Each part: [postings factory, postings, field weight, B, average length, field, reader]
        self.parts = parts
        self.idf = idf
        self.k1 = k1
        self._last = -1

    def copy(self) -> _FieldsMatcher:
        parts = [[p[0], p[0](), *p[2:]] for p in self.parts]
        return _FieldsMatcher(self.child.copy(), parts, self.idf, self.k1, self.boost)

    def _replacement(self, newchild: Any) -> _FieldsMatcher:
        # The same pass goes on with the same postings: keep where it is.
        matcher = _FieldsMatcher(newchild, self.parts, self.idf, self.k1, self.boost)
        matcher._last = self._last
        return matcher

    def supports_block_quality(self) -> bool:
        return False

    def max_quality(self) -> float:
        # An upper bound of score(): tfn / (tfn + k1) < 1. The wrapped union's own bound is
        # of per-field BM25, which can be lower: Whoosh's top-k collection, trusting it,
        # pruned documents that belonged on the page (ArrayUnion/Union ``replace``).
        return float(self.boost * self.idf * (self.k1 + 1))

    def score(self) -> float:
        doc = self.child.id()
        # Documents are scored in order, so each field's postings only move forward; they
        # restart only when the scorer goes back (a copy, or a new pass). Restarting whenever
        # a field's list was ahead of the document made a common word quadratic.
        restart = doc < self._last
        self._last = doc
        tfn = 0.0
        for part in self.parts:
            postings = part[1]
            if restart:
                postings = part[1] = part[0]()
            if postings.is_active() and postings.id() < doc:
                postings.skip_to(doc)
            if postings.is_active() and postings.id() == doc:
                length = part[6].doc_field_length(doc, part[5], 1)
                tfn += part[2] * postings.weight() / (1 - part[3] + part[3] * length / part[4])
        return float(self.boost * self.idf * tfn * (self.k1 + 1) / (tfn + self.k1))


class FieldsTerm(wq.compound.CompoundQuery):  # type: ignore[misc]
    """One word in several fields (``Term`` children whose boosts are field weights), BM25F."""

    JOINT = " | "
    intersect_merge = False

    def matcher(self, searcher: Searcher, context: Any = None) -> Any:
        parent = searcher.get_parent()
        reader = searcher.reader()
        weighting = searcher.weighting
        k1 = float(getattr(weighting, "K1", 1.2))
        default_b = float(getattr(weighting, "B", 0.75))
        parts: list[list[Any]] = []
        present: list[wq.Query] = []
        largest_df = 0
        for term in self.subqueries:
            text = searcher.schema[term.fieldname].to_bytes(term.text)
            largest_df = max(largest_df, parent.doc_frequency(term.fieldname, text))
            if (term.fieldname, text) not in reader:
                continue

            def postings(field: str = term.fieldname, raw: bytes = text) -> Any:
                return searcher.postings(field, raw)

            average = parent.avg_field_length(term.fieldname) or 1
            parts.append(
                [postings, postings(), term.boost, default_b, average, term.fieldname, reader]
            )
            present.append(wq.Term(term.fieldname, term.text))
        if not parts:
            return matching.NullMatcher()
        union = wq.Or(present).matcher(searcher, context)
        total = parent.doc_count_all()
        idf = math.log(1 + (total - largest_df + 0.5) / (largest_df + 0.5))
        return _FieldsMatcher(union, parts, idf, k1, self.boost)
