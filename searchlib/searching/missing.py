"""Which typed words a page of hits lacks: what a relaxed search tells its user.

A word is in a hit when the word, analysed as the search analyses it (stemmed: *crashes* has
*crash*), is in the hit's title, excerpt or body, or in the field it names (``title:crash``,
``provider:reuters``). Words that analysis drops (stopwords) are never missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .. import plan as p
from .. import query as q
from ..analysis import Analyzer
from ..records import Record, field_texts
from .compile import Compiler
from .distance import within_distance

#: Where an unfielded typed word counts as present.
_TEXT_FIELDS = ("title", "excerpt", "body")


def positive_words(node: q.Node) -> list[q.Term | q.Prefix | q.Fuzzy]:
    """The words a query asks for (not under ``NOT``), in query order; a phrase gives its
    words one by one."""
    words: list[q.Term | q.Prefix | q.Fuzzy] = []
    stack: list[q.Node] = [node]  # no recursion: NOT chains can be deep
    while stack:
        current = stack.pop()
        if isinstance(current, (q.Term, q.Prefix, q.Fuzzy)):
            words.append(current)
        elif isinstance(current, q.Phrase):
            words.extend(q.Term(word, current.field) for word in current.words)
        elif isinstance(current, (q.Seq, q.And, q.Or)):
            stack.extend(reversed(current.children))
    return words


def missing_words(
    compiler: Compiler, node: q.Node, page: Sequence[Record]
) -> tuple[str, ...]:
    """The typed words (positive ones, once each ignoring case, in query order, as first
    typed: ``crash``, ``recog*``, ``lander~``) that no record of ``page`` has."""
    if not page:
        return ()
    texts = [_Texts(compiler, record) for record in page]
    first: dict[str, str] = {}
    present: dict[str, bool] = {}
    for leaf in positive_words(node):
        typed = leaf.text
        if isinstance(leaf, q.Prefix):
            typed += "*"
        elif isinstance(leaf, q.Fuzzy):
            typed += "~" if leaf.distance == 1 else f"~{leaf.distance}"
        key = typed.casefold()
        first.setdefault(key, typed)
        fields = _TEXT_FIELDS if leaf.field is None else (leaf.field,)
        plans = [compiler.compile(replace(leaf, field=field), "all").match for field in fields]
        searched = [plan for plan in plans if plan is not None]
        if not searched:
            continue  # only stopwords: not searched for, so never missing
        found = any(t.matches(plan) for t in texts for plan in searched)
        present[key] = present.get(key, False) or found
    return tuple(first[key] for key, found in present.items() if not found)


class _Texts:
    """One record's analysed fields, for checking plan leaves against it."""

    def __init__(self, compiler: Compiler, record: Record) -> None:
        self._compiler = compiler
        self._record = record
        self._terms: dict[str, list[str]] = {}

    def _field(self, field: str) -> list[str]:
        if field not in self._terms:
            if field == "kind":
                self._terms[field] = [self._record.kind.lower()]
            else:
                text = field_texts(self._record).get(field, "")
                plain = field in ("provider_text", "topic_text", "spell")
                analyzer: Analyzer = self._compiler.plain if plain else self._compiler.analyzer
                self._terms[field] = analyzer.terms(text)
        return self._terms[field]

    def matches(self, plan: p.Plan) -> bool:
        """Whether the record matches ``plan`` (words, phrases, prefixes, fuzzy terms)."""
        if isinstance(plan, p.Words):
            return any(_contains(self._field(f), plan.terms) for f in plan.fields)
        if isinstance(plan, p.Prefix):
            return any(
                term.startswith(plan.prefixes) for f in plan.fields for term in self._field(f)
            )
        if isinstance(plan, p.Fuzzy):
            n = plan.prefix_length
            return any(
                term[:n] == plan.term[:n] and within_distance(plan.term, term, plan.distance)
                for f in plan.fields for term in self._field(f)
            )
        if isinstance(plan, p.All):
            return all(self.matches(child) for child in plan.children)
        if isinstance(plan, p.Any):
            return any(self.matches(child) for child in plan.children)
        if isinstance(plan, p.Boost):
            return self.matches(plan.child)
        if isinstance(plan, p.Exclude):
            return self.matches(plan.positive) and not self.matches(plan.excluded)
        return True  # Everything


def _contains(terms: list[str], wanted: tuple[str, ...]) -> bool:
    if len(wanted) == 1:
        return wanted[0] in terms
    width = len(wanted)
    return any(tuple(terms[i : i + width]) == wanted for i in range(len(terms) - width + 1))
