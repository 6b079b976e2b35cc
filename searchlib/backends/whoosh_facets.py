"""Facet counting over doc sets: fast, disjunctive, and never stale.

Whoosh's ``groupedby`` costs ~36 ms at 20k documents. Instead, each searcher gets a
:class:`FacetCache` of facet value -> set of live docnums (built on first use from one column
that holds every document's facet values), and a facet's counts are the sizes of those sets
intersected with the matching docs.

Filters match facet values by their folded key (:func:`~searchlib.analysis.fold_value`: case,
accents and spacing ignored), while facets list each value as the files write it: a filter
``reuters`` selects the written value ``Reuters``, and a filter ``ai`` selects both ``AI`` and
``Ai`` if the files hold both.
"""

from __future__ import annotations

from collections.abc import Iterable

from whoosh.searching import Searcher

from ..analysis import fold_value
from ..results import Facet, FacetValue

#: Separators inside the ``facet_key`` column: kind, provider, topics; and between topics.
FIELD_SEP = "\x1e"
TOPIC_SEP = "\x1f"


def facet_key(kind: str, provider: str, topics: tuple[str, ...]) -> bytes:
    """The ``facet_key`` column value of a document: all its facet values in one cell."""
    return FIELD_SEP.join((kind, provider, TOPIC_SEP.join(topics))).encode("utf-8")


class FacetCache:
    """Per-searcher maps of facet value -> set of live docnums, built on first use.

    Built in one pass over the ``facet_key`` column (one cell per document), which is about 4x
    faster than walking the postings of every value. Tied to one searcher, so it can never serve
    counts from before the latest commit.
    """

    def __init__(self, searcher: Searcher) -> None:
        self._searcher = searcher
        self._values: dict[str, dict[str, frozenset[int]]] | None = None
        self._forms: dict[str, dict[str, tuple[str, ...]]] = {}
        self._all: frozenset[int] | None = None

    @property
    def all_docs(self) -> frozenset[int]:
        """Every live docnum of the searcher."""
        if self._all is None:
            self._all = frozenset(self._searcher.reader().all_doc_ids())
        return self._all

    def values(self, field: str) -> dict[str, frozenset[int]]:
        """Value -> docnums for one facet (``kind``, ``provider`` or ``topic``)."""
        if self._values is None:
            self._values = self._build()
        return self._values[field]

    def forms(self, field: str) -> dict[str, tuple[str, ...]]:
        """Folded key -> the written values of one facet with that key (usually one)."""
        forms = self._forms.get(field)
        if forms is None:
            grouped: dict[str, list[str]] = {}
            for value in sorted(self.values(field)):
                grouped.setdefault(fold_value(value), []).append(value)
            forms = self._forms[field] = {key: tuple(vs) for key, vs in grouped.items()}
        return forms

    def matching(self, field: str, selected: Iterable[str]) -> tuple[str, ...]:
        """The written values of ``field`` that the filter values ``selected`` select."""
        forms = self.forms(field)
        chosen: dict[str, None] = {}
        for value in selected:
            for written in forms.get(fold_value(value), ()):
                chosen.setdefault(written, None)
        return tuple(chosen)

    def _build(self) -> dict[str, dict[str, frozenset[int]]]:
        kinds: dict[str, list[int]] = {}
        providers: dict[str, list[int]] = {}
        topics: dict[str, list[int]] = {}
        live = self.all_docs
        reader = self._searcher.reader()
        if live and reader.has_column("facet_key"):
            for docnum, raw in enumerate(reader.column_reader("facet_key")):
                if docnum not in live or not raw:
                    continue
                kind, provider, topic_text = raw.decode("utf-8").split(FIELD_SEP)
                kinds.setdefault(kind, []).append(docnum)
                if provider:
                    providers.setdefault(provider, []).append(docnum)
                if topic_text:
                    for topic in topic_text.split(TOPIC_SEP):
                        topics.setdefault(topic, []).append(docnum)
        return {
            name: {value: frozenset(docs) for value, docs in table.items()}
            for name, table in (("kind", kinds), ("provider", providers), ("topic", topics))
        }


def build_facet(
    cache: FacetCache, name: str, docs: frozenset[int], selected: tuple[str, ...], size: int
) -> Facet:
    """The top ``size`` values of ``name`` over ``docs``, selected values always included."""
    values = cache.values(name)
    if docs is cache.all_docs:
        counts = {value: len(ids) for value, ids in values.items()}
    else:
        counts = {value: len(docs & ids) for value, ids in values.items()}
    ranked = sorted(
        ((value, count) for value, count in counts.items() if count > 0),
        key=lambda vc: (-vc[1], vc[0]),
    )
    top = ranked[:size]
    listed = {value for value, _ in top}
    chosen: set[str] = set()
    keys: set[str] = set()
    forms = cache.forms(name)
    # A filter value selects the written values with its folded key. Selected values are
    # always listed, so a user can see them and untick them; one that selects nothing is
    # listed as first typed (once per key) with a count of 0.
    for typed in selected:
        key = fold_value(typed)
        if key in keys:
            continue
        keys.add(key)
        for value in forms.get(key) or (typed,):
            chosen.add(value)
            if value not in listed:
                listed.add(value)
                top.append((value, counts.get(value, 0)))
    return Facet(
        name=name,
        values=tuple(FacetValue(v, c, v in chosen) for v, c in top),
        truncated=len(ranked) > size,
    )
