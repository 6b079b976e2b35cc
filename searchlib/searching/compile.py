"""Compile the user's query tree (:mod:`searchlib.query`) into a plan (:mod:`searchlib.plan`).

Each word searches every text field (title, excerpt, body, related titles) as one BM25F term.
A word that analysis splits into several tokens ("covid-19", CJK bigrams) and a quoted phrase
must match in order. ``Seq`` (words side by side) is AND-ed or OR-ed by the match mode;
explicit ``AND``/``OR``/``NOT`` mean what they say. ``provider:``, ``topic:`` and ``kind:``
search the facet values as plain words.

Synonyms (:mod:`searchlib.synonyms`) apply here: a word or quoted phrase of the text fields
whose analysed terms are those of a synonym becomes an ``Any`` of every synonym it stands for
(a synonym of several words is a phrase), so every engine gets them without re-indexing; the
highlights then mark whichever synonym a hit holds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from .. import plan as p
from .. import query as q
from ..analysis import Analyzer, fold_accents
from ..schema import FACET_WORD_FIELDS, FIELD_WEIGHTS, POSITIONAL_FIELDS
from ..synonyms import Synonyms, SynonymSource

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

    def __init__(
        self, analyzer: Analyzer, plain: Analyzer, synonyms: SynonymSource | None = None
    ) -> None:
        self.analyzer = analyzer
        self.plain = plain
        self.synonyms = synonyms if synonyms is not None else SynonymSource()
        self._expansions: tuple[Synonyms, Mapping[tuple[str, ...], tuple[str, ...]]] = (
            Synonyms(), {}
        )
        #: Per thread: the table of the search being compiled (see ``pinned``).
        self._pinned = threading.local()

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """One version of the synonym list for everything compiled inside (a search and its
        feedback, fallback and suggestion): read once, not once per word (a file's ``stat``
        each), and never two versions in one search."""
        if getattr(self._pinned, "table", None) is not None:
            yield  # already pinned by an outer call
            return
        self._pinned.table = self._current_table()
        try:
            yield
        finally:
            self._pinned.table = None

    def expansions(self) -> Mapping[tuple[str, ...], tuple[str, ...]]:
        """Analysed terms of a word or phrase -> the synonyms searched for it, as written
        (built once per version of the list; the pinned one inside :meth:`pinned`)."""
        pinned: Mapping[tuple[str, ...], tuple[str, ...]] | None = getattr(
            self._pinned, "table", None
        )
        return pinned if pinned is not None else self._current_table()

    def _current_table(self) -> Mapping[tuple[str, ...], tuple[str, ...]]:
        current = self.synonyms.current()
        cached = self._expansions
        if cached[0] is current:
            return cached[1]
        table = synonym_table(current, self.analyzer)
        self._expansions = (current, table)
        return table

    def applied(self, node: q.Node) -> dict[str, tuple[str, ...]]:
        """The words and quoted phrases of ``node`` (as typed) that synonyms expanded, each
        with what it was searched as, in query order."""
        table = self.expansions()
        if not table:
            return {}
        out: dict[str, tuple[str, ...]] = {}
        stack: list[q.Node] = [node]  # no recursion: NOT chains can be deep
        while stack:
            current = stack.pop()
            if isinstance(current, (q.Term, q.Phrase)):
                if current.field is not None and current.field not in FIELD_WEIGHTS:
                    continue
                text = current.text if isinstance(current, q.Term) else " ".join(current.words)
                found = table.get(tuple(self.analyzer.terms(text)))
                if found is not None:
                    out.setdefault(text, found)
            elif isinstance(current, q.Seq):
                stack.extend(reversed(self.grouped(current.children)))
            elif isinstance(current, (q.And, q.Or)):
                stack.extend(reversed(current.children))
            elif isinstance(current, q.Not):
                stack.append(current.child)
        return out

    def grouped(self, children: tuple[q.Node, ...]) -> tuple[q.Node, ...]:
        """Words side by side that together are a synonym of several words (``united
        states``), as one phrase: the longest run first, from the left."""
        table = self.expansions()
        longest = max((len(key) for key in table), default=0)
        if longest < 2:
            return children
        out: list[q.Node] = []
        i = 0
        while i < len(children):
            run = self._synonym_run(children, i, table, longest)
            if run > 1:
                words = tuple(c.text for c in children[i : i + run])  # type: ignore[union-attr]
                out.append(q.Phrase(words, children[i].field))  # type: ignore[union-attr]
                i += run
            else:
                out.append(children[i])
                i += 1
        return tuple(out)

    def _synonym_run(
        self, children: tuple[q.Node, ...], start: int,
        table: Mapping[tuple[str, ...], tuple[str, ...]], longest: int,
    ) -> int:
        """How many words from ``start`` form the longest multi-word synonym (0: none)."""
        first = children[start]
        if not isinstance(first, q.Term) or (
            first.field is not None and first.field not in FIELD_WEIGHTS
        ):
            return 0
        terms: list[str] = []
        best = 0
        for end in range(start, len(children)):
            child = children[end]
            if not isinstance(child, q.Term) or child.field != first.field:
                break
            terms += self.analyzer.terms(child.text)
            if len(terms) > longest:
                break
            if end > start and len(terms) > 1 and tuple(terms) in table:
                best = end - start + 1
        return best

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
            children = self.grouped(node.children) if isinstance(node, q.Seq) else node.children
            positives = [c for c in children if not isinstance(c, q.Not)]
            negatives = [c.child for c in children if isinstance(c, q.Not)]
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
        synonyms = self.expansions().get(tuple(tokens))
        if synonyms:
            plans: dict[p.Plan, None] = {}
            for synonym in synonyms:
                found = self._text_words(self.analyzer.terms(synonym), fields)
                if found is not None:
                    plans.setdefault(found, None)
            if plans:
                return next(iter(plans)) if len(plans) == 1 else p.Any(tuple(plans))
        return self._text_words(tokens, fields)

    @staticmethod
    def _text_words(tokens: list[str], fields: tuple[str, ...]) -> p.Plan | None:
        if not tokens:
            return None
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


def synonym_table(
    synonyms: Synonyms, analyzer: Analyzer
) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Analysed terms -> the synonyms a word or phrase with those terms is searched as.

    Equivalent words stand for their whole group (themselves included); a one-way rule's
    words for its replacements only. Rules that share a word add up, in file order. Words
    that analysis drops entirely (stopwords) expand nothing.
    """
    table: dict[tuple[str, ...], dict[str, None]] = {}
    for rule in synonyms.rules:
        targets = rule.words if rule.to is None else rule.to
        for word in rule.words:
            key = tuple(analyzer.terms(word))
            if key:
                table.setdefault(key, {}).update(dict.fromkeys(targets))
    return {key: tuple(found) for key, found in table.items()}
