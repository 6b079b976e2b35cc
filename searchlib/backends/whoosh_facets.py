"""Facet counting over doc sets: fast, disjunctive, and never stale.

Whoosh's ``groupedby`` costs ~36 ms at 20k documents. Instead, each searcher gets a
:class:`FacetCache` of facet value -> set of live docnums (built from the postings on first use),
and a facet's counts are the sizes of those sets intersected with the matching docs.
"""

from __future__ import annotations

from whoosh.searching import Searcher

from ..results import Facet, FacetValue


class FacetCache:
    """Per-searcher maps of facet value -> set of live docnums, built on first use.

    Tied to one searcher, so it can never serve counts from before the latest commit.
    """

    def __init__(self, searcher: Searcher) -> None:
        self._searcher = searcher
        self._values: dict[str, dict[str, frozenset[int]]] = {}
        self._all: frozenset[int] | None = None
        self._by_id: dict[str, int] | None = None

    @property
    def all_docs(self) -> frozenset[int]:
        """Every live docnum of the searcher."""
        if self._all is None:
            self._all = frozenset(self._searcher.reader().all_doc_ids())
        return self._all

    def values(self, field: str) -> dict[str, frozenset[int]]:
        """Value -> docnums for one facet field."""
        cached = self._values.get(field)
        if cached is None:
            reader = self._searcher.reader()
            cached = {}
            for raw in reader.lexicon(field):
                value = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
                docs = frozenset(reader.postings(field, value).all_ids())
                if docs:
                    cached[value] = docs
            self._values[field] = cached
        return cached


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
    chosen = set(selected)
    top = ranked[:size]
    shown = {value for value, _ in top}
    # A selected value is always shown, so a user can see it and untick it.
    top += [(value, counts.get(value, 0)) for value in selected if value not in shown]
    return Facet(
        name=name,
        values=tuple(FacetValue(v, c, v in chosen) for v, c in top),
        truncated=len(ranked) > size,
    )
