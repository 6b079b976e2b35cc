"""Compile the user's query tree (:mod:`searchlib.query`) into a plan (:mod:`searchlib.plan`).

Each word searches every text field (title, excerpt, body, related titles) as one BM25F term.
A word that analysis splits into several tokens ("covid-19", CJK bigrams) and a quoted phrase
must match in order. ``Seq`` (words side by side) is AND-ed or OR-ed by the match mode;
explicit ``AND``/``OR``/``NOT`` mean what they say. ``provider:``, ``topic:`` and ``kind:``
search the facet values as plain words.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import plan as p
from .. import query as q
from ..analysis import Analyzer, fold_accents
from ..schema import FACET_WORD_FIELDS, FIELD_WEIGHTS, POSITIONAL_FIELDS

#: How far documents with every word of a tiered query rank above those with only some.
TIER_BOOST = 1000.0
_TEXT_FIELDS = tuple(FIELD_WEIGHTS)


@dataclass(frozen=True)
class Compiled:
    """A compiled query: what to match, what to highlight, and how many positive clauses."""

    match: p.Plan | None
    highlight: p.Plan | None
    positive_clauses: int


class Compiler:
    """Turns query trees into plans with the index's analyzers."""

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

    def tiered(self, node: q.Node) -> Compiled:
        """Any word matches, and documents with every word rank first."""
        some = self.compile(node, "any")
        every = self._node(node, "all", positive_only=False)
        if every is None or some.match is None or some.positive_clauses < 2:
            return some
        return Compiled(
            p.Any((p.Boost(every, TIER_BOOST), some.match)), some.highlight,
            some.positive_clauses,
        )

    def excluded(self, node: q.Node) -> p.Plan | None:
        """What the query's top-level ``-words`` exclude, or None when it excludes nothing."""
        children = node.children if isinstance(node, q.Seq) else (node,)
        parts = [
            self._node(child.child, "any", positive_only=False)
            for child in children
            if isinstance(child, q.Not)
        ]
        kept = tuple(part for part in parts if part is not None)
        return p.Any(kept) if kept else None

    @staticmethod
    def any_field(term: str, *, boost: float = 1.0) -> p.Plan:
        """An analysed ``term`` in every text field (one BM25F term), its score scaled."""
        words = p.Words((term,), _TEXT_FIELDS)
        return words if boost == 1.0 else p.Boost(words, boost)

    def _node(self, node: q.Node, mode: str, *, positive_only: bool) -> p.Plan | None:
        if isinstance(node, q.MatchAll):
            return p.Everything()
        if isinstance(node, q.Term):
            return self._words(node.text, node.field)
        if isinstance(node, q.Phrase):
            return self._words(" ".join(node.words), node.field)
        if isinstance(node, q.Prefix):
            return self._prefix(node.text, node.field)
        if isinstance(node, q.Fuzzy):
            return self._fuzzy(node.text, node.distance, node.field)
        if isinstance(node, q.Not):
            if positive_only:
                return None
            inner = self._node(node.child, mode, positive_only=False)
            return None if inner is None else p.Exclude(p.Everything(), inner)
        if isinstance(node, q.Or):
            parts = [self._node(c, mode, positive_only=positive_only) for c in node.children]
            kept = tuple(part for part in parts if part is not None)
            return p.Any(kept) if kept else None
        if isinstance(node, (q.And, q.Seq)):
            combine_all = isinstance(node, q.And) or mode == "all"
            positives = [c for c in node.children if not isinstance(c, q.Not)]
            negatives = [c.child for c in node.children if isinstance(c, q.Not)]
            kept = tuple(
                part for part in (
                    self._node(c, mode, positive_only=positive_only) for c in positives
                )
                if part is not None
            )
            if positives and not kept:
                return None  # only stopwords: nothing can match
            base: p.Plan = (p.All(kept) if combine_all else p.Any(kept)) if kept else p.Everything()
            if positive_only:
                return base if kept else None
            excluded = tuple(
                part for part in (self._node(c, mode, positive_only=False) for c in negatives)
                if part is not None
            )
            return p.Exclude(base, p.Any(excluded)) if excluded else base
        raise TypeError(f"unknown query node {node!r}")

    def _words(self, text: str, field: str | None) -> p.Plan | None:
        if field == "kind":
            return p.Words((text.strip().lower(),), ("kind",))
        if field in ("provider", "topic"):
            tokens = self.plain.terms(text)
            target = FACET_WORD_FIELDS[field]
            if not tokens:
                return None
            if len(tokens) == 1:
                return p.Words((tokens[0],), (target,))
            # Provider and topic names are short: all their words, in any order, is precise enough.
            return p.All(tuple(p.Words((t,), (target,)) for t in tokens))
        tokens = self.analyzer.terms(text)
        if not tokens:
            return None
        fields = (field,) if field else _TEXT_FIELDS
        if len(tokens) == 1:
            return p.Words((tokens[0],), fields)
        # Several tokens from one word ("covid-19", CJK bigrams) or a quoted phrase: in order.
        positional = tuple(f for f in fields if f in POSITIONAL_FIELDS)
        return p.Words(tuple(tokens), positional)

    def _prefix(self, text: str, field: str | None) -> p.Plan | None:
        # "covid-1*" is the word "covid" followed by a word starting with "1".
        words = [t.term for t in self.plain.tokens(text)]
        if not words:
            return None
        *before, last = words
        prefix = self._prefix_word(last, field)
        if not before:
            return prefix
        leading = self._words(" ".join(before), field)
        return prefix if leading is None else p.All((leading, prefix))

    def _prefix_word(self, word: str, field: str | None) -> p.Plan:
        if field in ("provider", "topic"):
            return p.Prefix((word,), (FACET_WORD_FIELDS[field],))
        # Indexed terms are stems: "running*" must also reach "run", the stem of "running".
        stem = self.analyzer.normalize(word)
        fields = (field,) if field is not None and field in FIELD_WEIGHTS else _TEXT_FIELDS
        prefixes = (word, stem) if stem != word and word.startswith(stem) else (word,)
        return p.Prefix(prefixes, fields)

    def _fuzzy(self, text: str, distance: int, field: str | None) -> p.Plan | None:
        tokens = self.analyzer.terms(text)
        if not tokens:
            return None
        if field in ("provider", "topic"):
            folded = fold_accents(text.casefold())
            return p.Fuzzy(folded, distance, (FACET_WORD_FIELDS[field],))
        fields = (field,) if field is not None and field in FIELD_WEIGHTS else _TEXT_FIELDS
        return p.Fuzzy(tokens[0], distance, fields)
