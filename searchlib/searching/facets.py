"""Facets: which filters each facet's counts obey, and the values a result shows.

Facets are *disjunctive*: a facet's counts apply every filter except its own, so selecting a
provider still shows the other providers with their counts (the "OR within a facet, AND
across facets" of Elasticsearch's post_filter and Algolia's disjunctive faceting).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

from ..plan import Filters
from ..results import Facet, FacetValue
from ..schema import FACETS


def facet_filters(filters: Filters, names: tuple[str, ...] = FACETS) -> dict[str, Filters]:
    """The filters each facet is counted under: all of ``filters`` but the facet's own."""
    return {name: filters.without(name) for name in names}


def build_facet(
    name: str, counts: Mapping[str, int], selected: tuple[str, ...], size: int | None
) -> Facet:
    """The top ``size`` values (all for ``None``) by count, then name; selected ones always.

    A selected value is always listed, with its count (0 when nothing matches it), so a user
    can see it and untick it.
    """
    present = [(-count, value) for value, count in counts.items() if count > 0]
    # A provider facet has hundreds of values and a page shows ten: a heap picks them.
    if size is None or size >= len(present):
        ordered = sorted(present)
    else:
        ordered = heapq.nsmallest(size, present)
    top = [(value, -negative) for negative, value in ordered]
    chosen = set(selected)
    shown = {value for value, _ in top}
    top += [(value, counts.get(value, 0)) for value in selected if value not in shown]
    return Facet(
        name=name,
        values=tuple(FacetValue(v, c, v in chosen) for v, c in top),
        truncated=size is not None and len(present) > size,
    )
