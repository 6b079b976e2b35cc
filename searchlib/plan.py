"""Query plans: what a search asks an engine for, analysed, frozen and hashable.

The pipeline (``searching``) turns the user's query tree into a plan once: words are already
analysed into index terms, every clause names the fields it searches, match modes, tiering and
feedback are expressed as :class:`All`, :class:`Any` and :class:`Boost`. A backend only has to
evaluate a plan: which documents match, and with what score. Plans are hashable, so a backend
may cache per plan.

Matching semantics, which every backend implements exactly (the conformance suite checks them):

============================  ==============================================================
node                          matches a document when
============================  ==============================================================
``Everything()``              always (no score: such searches are ordered by date)
``Words((t,), fields)``       term ``t`` is in any of ``fields``
``Words((t1, t2..), fields)`` the terms occur in order, adjacent, in one of ``fields``
                              (only positional text fields; stopwords were removed by
                              analysis, so ``"state of art"`` is ``state art`` in order)
``Prefix(prefixes, fields)``  a term starting with any of ``prefixes`` is in any of ``fields``
``Fuzzy(t, d, fields, p)``    a term within ``d`` edits of ``t`` (Levenshtein: inserted,
                              deleted or replaced characters), sharing its first ``p``
                              characters, is in any of ``fields``
``All(children)``             every child matches
``Any(children)``             at least one child matches
``Exclude(pos, neg)``         ``pos`` matches and ``neg`` does not
``Boost(child, f)``           ``child`` matches (its score is multiplied by ``f``)
============================  ==============================================================

Scores: ``All`` and ``Any`` add the scores of their matching children; ``Exclude`` scores as
its positive part; a ``Words`` term over several text fields is one BM25F term (field weights
from :mod:`searchlib.schema`, one saturation). How a backend scores is its own business as long
as better matches score higher; the Whoosh backend's scores are the reference for ranking.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any as AnyType
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class Everything:
    """Every live document."""


@dataclass(frozen=True, slots=True)
class Words:
    """One analysed term in any of ``fields``, or several in order (a phrase)."""

    terms: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Prefix:
    """Any term starting with one of ``prefixes`` (a typed prefix and its stem)."""

    prefixes: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Fuzzy:
    """Any term within ``distance`` edits of ``term`` that shares its first ``prefix_length``
    characters."""

    term: str
    distance: int
    fields: tuple[str, ...]
    prefix_length: int = 1


@dataclass(frozen=True, slots=True)
class All:
    """Every child matches; the score is the sum of theirs."""

    children: tuple[Plan, ...]


@dataclass(frozen=True, slots=True)
class Any:
    """At least one child matches; the score is the sum of the matching children's."""

    children: tuple[Plan, ...]


@dataclass(frozen=True, slots=True)
class Exclude:
    """``positive`` matches and ``excluded`` does not."""

    positive: Plan
    excluded: Plan


@dataclass(frozen=True, slots=True)
class Boost:
    """``child``, its score multiplied by ``factor``."""

    child: Plan
    factor: float


Plan: TypeAlias = Everything | Words | Prefix | Fuzzy | All | Any | Exclude | Boost
#: Leaves of a plan: the clauses that name terms.
LEAVES = (Words, Prefix, Fuzzy)


def leaves(plan: Plan | None, *, excluded: bool = True) -> list[Words | Prefix | Fuzzy]:
    """Every leaf of ``plan``, depth first; ``excluded=False`` leaves out those under an
    exclusion (the ones that cannot make a document match)."""
    out: list[Words | Prefix | Fuzzy] = []
    stack: list[Plan] = [] if plan is None else [plan]
    while stack:
        node = stack.pop()
        if isinstance(node, (Words, Prefix, Fuzzy)):
            out.append(node)
        elif isinstance(node, (All, Any)):
            stack.extend(reversed(node.children))
        elif isinstance(node, Exclude):
            stack.extend((node.excluded, node.positive) if excluded else (node.positive,))
        elif isinstance(node, Boost):
            stack.append(node.child)
    return out


def positive_leaves(plan: Plan | None) -> list[Words | Prefix | Fuzzy]:
    """The leaves that can make a document match (not those under an exclusion)."""
    return leaves(plan, excluded=False)


@dataclass(frozen=True, slots=True)
class Filters:
    """Structured filters: values of one facet are OR-ed, different filters AND-ed.

    Facet values are as written in the documents (the pipeline resolves what a user typed to
    them), so a backend compares them exactly. Dates are aware UTC datetimes, both bounds
    inclusive. ``exclude_ids`` never match.
    """

    topics: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    exclude_ids: tuple[str, ...] = field(default=())

    def active(self) -> tuple[str, ...]:
        """The names of the filters in use: ``topic``, ``provider``, ``kind``, ``date``."""
        names = []
        if self.topics:
            names.append("topic")
        if self.providers:
            names.append("provider")
        if self.kinds:
            names.append("kind")
        if self.since is not None or self.until is not None:
            names.append("date")
        return tuple(names)

    def without(self, *names: str) -> Filters:
        """These filters with the named ones (``topic``, ``provider``, ``kind``, ``date``) off."""
        out = self
        for name in names:
            if name == "topic":
                out = replace(out, topics=())
            elif name == "provider":
                out = replace(out, providers=())
            elif name == "kind":
                out = replace(out, kinds=())
            elif name == "date":
                out = replace(out, since=None, until=None)
            else:
                raise ValueError(f"unknown filter {name!r}")
        return out

    def parts(self) -> list[tuple[AnyType, ...]]:
        """One hashable key per active filter (values sorted): what a backend can compute
        once per search and reuse for every facet whose filters share it."""
        keys: list[tuple[AnyType, ...]] = []
        for name in ("topic", "provider", "kind"):
            values = self.values(name)
            if values:
                keys.append((name, tuple(sorted(values))))
        if self.since is not None or self.until is not None:
            keys.append(("date", self.since, self.until))
        if self.exclude_ids:
            keys.append(("exclude", tuple(sorted(self.exclude_ids))))
        return keys

    def values(self, facet: str) -> tuple[str, ...]:
        """The selected values of one facet."""
        if facet == "topic":
            return self.topics
        if facet == "provider":
            return self.providers
        if facet == "kind":
            return self.kinds
        raise ValueError(f"unknown facet {facet!r}")
