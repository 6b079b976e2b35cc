"""The page of a long union of words scored only where it can matter (``whoosh_topk``).

A query with feedback is its first pass OR many words; ``execute`` scores the words only in
documents whose upper bound can reach the page. Whatever the plan, filters and window, the
total, facet counts, page and scores must be those of the full evaluation, bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from searchlib.backends import whoosh as whoosh_backend
from searchlib.backends import whoosh_topk
from searchlib.backends.base import Execution
from searchlib.backends.whoosh import WhooshBackend
from searchlib.backends.whoosh_exec import Filtering
from searchlib.plan import All, Any, Boost, Exclude, Filters, Plan, Words
from searchlib.schema import FACETS

from .test_whoosh_exec import FILTERS, RANDOM, TEXT, build_index, vocabulary


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhooshBackend]:
    """The array executor's test index: segments of several sizes, deletions."""
    backend = build_index(tmp_path_factory.mktemp("topk") / "ix")
    yield backend
    backend.close()


#: Terms of the fixture index (analysed), in the order ``vocabulary`` reads them.
TERMS = st.integers(0, 10_000)


def feedback_plan(
    terms: list[str], base: list[int], words: list[int], boosts: list[float],
    every: bool, excluded: int | None,
) -> Plan:
    """A typed query (``base``: its words, tiered when ``every``) OR boosted words, as
    feedback expands a query."""
    typed: Plan = Any(tuple(Words((terms[i % len(terms)],), TEXT) for i in base))
    if every:
        typed = Any((Boost(All(tuple(Words((terms[i % len(terms)],), TEXT) for i in base)), 2.0),
                     typed))
    added = [terms[i % len(terms)] for i in words]
    added = list(dict.fromkeys(added))
    plan: Plan = Any((
        Boost(typed, 0.7),
        *(Boost(Words((term,), TEXT), boost) for term, boost in zip(added, boosts, strict=False)),
    ))
    if excluded is not None:
        plan = Exclude(plan, Words((terms[excluded % len(terms)],), TEXT))
    return plan


def run(backend: WhooshBackend, plan: Plan, filters: Filters, offset: int, limit: int,
        *, pruned: bool) -> Execution:
    """``execute`` with the bounds (``pruned``) or evaluating every score, from an empty plan
    cache (the first pass is then evaluated as part of the union)."""
    backend._current_view()._plans.clear()
    facets = {name: filters.without(name) for name in FACETS}
    if pruned:
        return backend.execute(plan, filters, facets, "relevance", offset, limit)
    with mock.patch.object(whoosh_backend, "best_of_union", lambda *args: None):
        return backend.execute(plan, filters, facets, "relevance", offset, limit)


@RANDOM
@given(
    base=st.lists(TERMS, min_size=1, max_size=3),
    words=st.lists(TERMS, min_size=9, max_size=16),
    boosts=st.lists(st.floats(0.01, 1.0), min_size=16, max_size=16),
    every=st.booleans(),
    excluded=st.one_of(st.none(), TERMS),
    filters=FILTERS,
    offset=st.integers(0, 30),
    limit=st.integers(1, 12),
)
def test_unions_give_the_full_evaluation_bit_for_bit(
    index: WhooshBackend, base: list[int], words: list[int], boosts: list[float], every: bool,
    excluded: int | None, filters: Filters, offset: int, limit: int,
) -> None:
    terms = list(vocabulary(index).terms)
    plan = feedback_plan(terms, base, words, boosts, every, excluded)
    note(repr(plan))
    pruned = run(index, plan, filters, offset, limit, pruned=True)
    full = run(index, plan, filters, offset, limit, pruned=False)
    assert pruned.total == full.total
    assert pruned.facets == full.facets
    # Exact scores, the same order (ties included).
    assert [(r.id, s) for r, s in pruned.page] == [(r.id, s) for r, s in full.page]


def test_only_documents_that_can_reach_the_page_are_scored(index: WhooshBackend) -> None:
    """On a union of a first pass and twelve words the bounds leave most matches unscored,
    and the page is the full evaluation's."""
    terms = list(vocabulary(index).terms)
    plan = feedback_plan(terms, [0, 1], list(range(2, 14)), [0.3] * 12, True, None)
    view = index._current_view()
    view._plans.clear()
    best = whoosh_topk.best_of_union(view, plan, None, 10)
    assert best is not None
    matches = sum(int(np.count_nonzero(r.mask)) for r in best.results)
    ranked = sum(int(np.count_nonzero(m)) for m in best.ranked)
    assert 10 <= ranked < matches / 4, (ranked, matches)
    assert run(index, plan, Filters(), 0, 10, pruned=True) == run(
        index, plan, Filters(), 0, 10, pruned=False
    )


def test_plans_of_other_shapes_are_evaluated_in_full(index: WhooshBackend) -> None:
    terms = list(vocabulary(index).terms)
    view = index._current_view()
    allowed = Filtering(view).mask(Filters())
    many = tuple(Words((t,), TEXT) for t in terms[:12])
    few = feedback_plan(terms, [0], list(range(1, 5)), [0.5] * 4, False, None)
    for plan in (
        Any(many),  # no part scored first: every lower bound is 0
        few,  # too few words to be worth it
        # Words in one field score as Whoosh's Term, not as BM25F.
        Any((Boost(All(many[:2]), 2.0), *(Words((t,), ("title",)) for t in terms[2:12]))),
        Any((Boost(All(many[:2]), 2.0), many[2], many[2], *many[3:])),  # a word twice
    ):
        assert whoosh_topk.best_of_union(view, plan, allowed, 10) is None, plan
    plan = feedback_plan(terms, [0, 1], list(range(2, 14)), [0.3] * 12, True, None)
    assert whoosh_topk.best_of_union(view, plan, allowed, 0) is None
    assert whoosh_topk.best_of_union(view, plan, allowed, whoosh_topk.MAX_WINDOW + 1) is None
    # No more matches than the window: nothing to leave out.
    narrow = Filters(topics=("Law",), kinds=("related",))
    assert 0 < index.count(plan, narrow) <= 1000
    assert whoosh_topk.best_of_union(view, plan, Filtering(view).mask(narrow), 1000) is None


class _Bounds:
    """What ``_theta`` reads of a segment: its lower bounds and the documents allowed."""

    def __init__(self, lower: np.ndarray, eligible: np.ndarray) -> None:
        self.lower = lower
        self.eligible = eligible


@given(
    st.lists(
        st.tuples(
            st.sampled_from([0, 1, 5, 40, 2049, 3000]),  # past 2 x 1,024: its head is read first
            st.integers(0, 2**32 - 1),
            st.floats(0.0, 1.0),  # share of documents with a lower bound
            st.floats(0.0, 1.0),  # share allowed
        ),
        max_size=5,
    ),
    st.integers(1, 60),
    st.booleans(),
)
def test_the_threshold_is_the_window_th_best_allowed_lower_bound(
    shapes: list[tuple[int, int, float, float]], window: int, masked: bool
) -> None:
    segments, allowed = [], []
    for size, seed, matching, share in shapes:
        rng = np.random.default_rng(seed)
        # Few distinct values: ties across segments and at the window's edge.
        lower = np.where(rng.random(size) < matching, rng.integers(0, 6, size) * 0.5, 0.0)
        eligible = rng.random(size) < share if masked else lower > 0
        segments.append(_Bounds(lower, eligible))
        allowed.append((lower * eligible)[(lower * eligible) > 0])
    values = np.sort(np.concatenate(allowed)) if allowed else np.zeros(0)
    expected = float(values[values.size - window]) if values.size >= window else None
    assert whoosh_topk._theta(segments, window, masked) == expected  # type: ignore[arg-type]
