"""Compile searchlib's engine-neutral query tree into Whoosh queries, and highlight matches.

Each clause searches title, excerpt, body and related titles with BM25F field weights
(:data:`FIELD_BOOSTS`). A word that analysis splits into several tokens ("covid-19", CJK
bigrams) and a quoted phrase must match in order. ``Seq`` (words side by side) is AND-ed or
OR-ed by the match mode; explicit ``AND``/``OR``/``NOT`` mean what they say.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from whoosh import matching
from whoosh import query as wq
from whoosh.searching import Searcher

from .. import query as q
from ..analysis import Analyzer, fold_accents

#: Field weights for BM25F: a title match counts most, a related item's title least.
FIELD_BOOSTS: Mapping[str, float] = {"title": 1.5, "excerpt": 1.0, "body": 1.0, "related": 0.3}
#: How far documents with every word of a tiered query rank above those with only some.
TIER_BOOST = 1000.0
_POSITIONAL_FIELDS = ("title", "excerpt", "body")


@dataclass
class Compiled:
    """A query compiled for Whoosh: what to match, and what to highlight."""

    match: wq.Query | None
    highlight: wq.Query | None
    positive_clauses: int


class QueryCompiler:
    """Turns query trees into Whoosh queries with the index's analyzers."""

    def __init__(self, analyzer: Analyzer, plain: Analyzer) -> None:
        self.analyzer = analyzer
        self.plain = plain

    def compile(self, node: q.Node, mode: str) -> Compiled:
        """Compile ``node``; ``mode`` is ``all`` or ``any`` for words side by side."""
        match = self._node(node, mode, positive_only=False)
        highlight = self._node(node, mode, positive_only=True)
        positives = node.children if isinstance(node, q.Seq) else (node,)
        count = sum(1 for child in positives if not isinstance(child, q.Not))
        return Compiled(match, highlight, count)

    def _node(self, node: q.Node, mode: str, *, positive_only: bool) -> wq.Query | None:
        if isinstance(node, q.MatchAll):
            return wq.Every()
        if isinstance(node, q.Term):
            return self._words(node.text, node.field, phrase=False)
        if isinstance(node, q.Phrase):
            return self._words(" ".join(node.words), node.field, phrase=True)
        if isinstance(node, q.Prefix):
            return self._prefix(node.text, node.field)
        if isinstance(node, q.Fuzzy):
            return self._fuzzy(node.text, node.distance, node.field)
        if isinstance(node, q.Not):
            if positive_only:
                return None
            inner = self._node(node.child, mode, positive_only=False)
            return None if inner is None else wq.AndNot(wq.Every(), inner)
        if isinstance(node, q.Or):
            parts = [self._node(c, mode, positive_only=positive_only) for c in node.children]
            kept = [p for p in parts if p is not None]
            return wq.Or(kept) if kept else None
        if isinstance(node, (q.And, q.Seq)):
            combine_all = isinstance(node, q.And) or mode == "all"
            positives = [c for c in node.children if not isinstance(c, q.Not)]
            negatives = [c.child for c in node.children if isinstance(c, q.Not)]
            kept = [
                p for p in (self._node(c, mode, positive_only=positive_only) for c in positives)
                if p is not None
            ]
            if positives and not kept:
                return None  # only stopwords: nothing can match
            base: wq.Query = (
                (wq.And(kept) if combine_all else wq.Or(kept)) if kept else wq.Every()
            )
            if positive_only:
                return base if kept else None
            excluded = [
                p for p in (self._node(c, mode, positive_only=False) for c in negatives)
                if p is not None
            ]
            return wq.AndNot(base, wq.Or(excluded)) if excluded else base
        raise TypeError(f"unknown query node {node!r}")

    def tiered(self, node: q.Node) -> Compiled:
        """Any word matches, and documents with every word rank first."""
        some = self.compile(node, "any")
        every = self._node(node, "all", positive_only=False)
        if every is None or some.match is None or some.positive_clauses < 2:
            return some
        return Compiled(
            wq.Or([_scaled(every, TIER_BOOST), some.match]), some.highlight,
            some.positive_clauses,
        )

    def excluded(self, node: q.Node) -> wq.Query | None:
        """What the query's top-level ``-words`` exclude, or None when it excludes nothing."""
        children = node.children if isinstance(node, q.Seq) else (node,)
        parts = [
            self._node(child.child, "any", positive_only=False)
            for child in children
            if isinstance(child, q.Not)
        ]
        kept = [part for part in parts if part is not None]
        return wq.Or(kept) if kept else None

    def any_field(self, term: str, *, boost: float = 1.0) -> wq.Query:
        """An analysed ``term`` in any text field, with field weights."""
        return FieldsTerm(
            [wq.Term(f, term, boost=w) for f, w in FIELD_BOOSTS.items()], boost=boost
        )

    def _words(self, text: str, field: str | None, *, phrase: bool) -> wq.Query | None:
        if field == "kind":
            return wq.Term("kind", text.strip().lower())
        if field in ("provider", "topic"):
            tokens = self.plain.terms(text)
            target = f"{field}_text"
            if not tokens:
                return None
            if len(tokens) == 1:
                return wq.Term(target, tokens[0])
            # Provider and topic names are short: all their words, in any order, is precise enough.
            return wq.And([wq.Term(target, t) for t in tokens])
        tokens = self.analyzer.terms(text)
        if not tokens:
            return None
        fields = (field,) if field else tuple(FIELD_BOOSTS)
        if len(tokens) == 1:
            if len(fields) == 1:
                return wq.Term(fields[0], tokens[0], boost=FIELD_BOOSTS[fields[0]])
            return FieldsTerm([wq.Term(f, tokens[0], boost=FIELD_BOOSTS[f]) for f in fields])
        # Several tokens from one word ("covid-19", CJK bigrams) or a quoted phrase: in order.
        return wq.Or(
            [
                wq.Phrase(f, tokens, boost=FIELD_BOOSTS[f])
                for f in fields
                if f in _POSITIONAL_FIELDS
            ]
        )

    def _prefix(self, text: str, field: str | None) -> wq.Query | None:
        # "covid-1*" is the word "covid" followed by a word starting with "1".
        words = [t.term for t in self.plain.tokens(text)]
        if not words:
            return None
        *before, last = words
        prefix = self._prefix_word(last, field)
        if not before:
            return prefix
        leading = self._words(" ".join(before), field, phrase=False)
        return prefix if leading is None else wq.And([leading, prefix])

    def _prefix_word(self, word: str, field: str | None) -> wq.Query:
        if field in ("provider", "topic"):
            return wq.Prefix(f"{field}_text", word)
        # Indexed terms are stems: "running*" must also reach "run", the stem of "running".
        stem = self.analyzer.normalize(word)
        fields = (field,) if field is not None and field in FIELD_BOOSTS else tuple(FIELD_BOOSTS)
        clauses: list[wq.Query] = []
        for f in fields:
            clauses.append(wq.Prefix(f, word, boost=FIELD_BOOSTS[f]))
            if stem != word and word.startswith(stem):
                clauses.append(wq.Prefix(f, stem, boost=FIELD_BOOSTS[f]))
        return wq.Or(clauses)

    def _fuzzy(self, text: str, distance: int, field: str | None) -> wq.Query | None:
        tokens = self.analyzer.terms(text)
        if not tokens:
            return None
        fields = (field,) if field is not None and field in FIELD_BOOSTS else tuple(FIELD_BOOSTS)
        if field in ("provider", "topic"):
            return wq.FuzzyTerm(f"{field}_text", fold_accents(text.casefold()), maxdist=distance)
        return wq.Or(
            [
                wq.FuzzyTerm(f, tokens[0], boost=FIELD_BOOSTS[f], maxdist=distance, prefixlength=1)
                for f in fields
            ]
        )

    def highlighter(self, searcher: Searcher, query: wq.Query | None) -> Callable[[str], str]:
        """A function marking matched words of a text in ``<mark>``, escaping all the rest."""
        terms: set[str] = set()
        if query is not None and not isinstance(query, wq.Every):
            for field, text in query.existing_terms(searcher.reader(), phrases=True, expand=True):
                if field in FIELD_BOOSTS:
                    terms.add(text.decode("utf-8") if isinstance(text, bytes) else text)

        def mark(text: str) -> str:
            if not terms:
                return html.escape(text)
            # Merge overlapping spans: CJK bigrams overlap by one character.
            spans: list[list[int]] = []
            for token in self.analyzer.tokens(text):
                if token.term in terms:
                    if spans and token.start <= spans[-1][1]:
                        spans[-1][1] = max(spans[-1][1], token.end)
                    else:
                        spans.append([token.start, token.end])
            out: list[str] = []
            last = 0
            for start, end in spans:
                out.append(html.escape(text[last:start]))
                out.append(f"<mark>{html.escape(text[start:end])}</mark>")
                last = end
            out.append(html.escape(text[last:]))
            return "".join(out)

        return mark


def _scaled(query: wq.Query, factor: float) -> wq.Query:
    """``query`` with every leaf's boost multiplied (Whoosh ignores boosts on compounds)."""
    if isinstance(query, wq.AndNot):
        return wq.AndNot(_scaled(query.a, factor), query.b)
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

    def copy(self) -> _FieldsMatcher:
        parts = [[p[0], p[0](), *p[2:]] for p in self.parts]
        return _FieldsMatcher(self.child.copy(), parts, self.idf, self.k1, self.boost)

    def _replacement(self, newchild: Any) -> _FieldsMatcher:
        return _FieldsMatcher(newchild, self.parts, self.idf, self.k1, self.boost)

    def supports_block_quality(self) -> bool:
        return False

    def score(self) -> float:
        doc = self.child.id()
        tfn = 0.0
        for part in self.parts:
            postings = part[1]
            if postings.is_active() and postings.id() > doc:
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
