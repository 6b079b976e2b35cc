"""``Engine.facet``: every value of one facet with its count, on the fixture corpus."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchlib import Engine, Facet, QueryError, UsageError
from searchlib.engine import MAX_FACET_SIZE

ALL_PROVIDERS = [
    ("Jurist", 2, False), ("Metro Daily", 2, False), ("Space Today", 2, False),
    ("Energy Wire", 1, False), ("Grid News", 1, False), ("Money Times", 1, False),
    ("TechNode", 1, False), ("Tidewater Gazette", 1, False), ("Weather Desk", 1, False),
]
ALL_TOPICS = [
    ("AI", 4, False), ("Climate", 3, False), ("Privacy", 3, False), ("Security", 3, False),
    ("Energy", 2, False), ("Space", 2, False), ("Elections", 1, False), ("Finance", 1, False),
]


def rows(facet: Facet) -> list[tuple[str, int, bool]]:
    return [(v.value, v.count, v.selected) for v in facet.values]


def test_every_value_of_each_facet(shared_engine: Engine) -> None:
    provider = shared_engine.facet("provider")
    assert (provider.name, rows(provider), provider.truncated) == (
        "provider", ALL_PROVIDERS, False
    )
    assert rows(shared_engine.facet("topic")) == ALL_TOPICS
    assert rows(shared_engine.facet("kind")) == [("article", 9, False), ("related", 3, False)]


def test_more_values_than_search_returns(shared_engine: Engine) -> None:
    search = shared_engine.search("", facet_size=3).facets["provider"]
    assert search.truncated
    assert rows(shared_engine.facet("provider")) == ALL_PROVIDERS
    assert rows(shared_engine.facet("provider"))[:3] == rows(search)


def test_counts_follow_the_query_and_other_filters(shared_engine: Engine) -> None:
    facet = shared_engine.facet("topic", "facial OR cameras OR heatwave")
    assert rows(facet) == [
        ("AI", 3, False), ("Climate", 3, False), ("Security", 3, False), ("Energy", 2, False),
        ("Privacy", 2, False),
    ]
    by_provider = shared_engine.facet("topic", "facial OR cameras OR heatwave",
                                      providers=["Metro Daily"])
    assert rows(by_provider) == [("Security", 2, False), ("AI", 1, False)]
    assert rows(shared_engine.facet("provider", kind="related")) == [
        ("Grid News", 1, False), ("Space Today", 1, False), ("TechNode", 1, False),
    ]
    dated = shared_engine.facet("provider", since="2026-10", until="2026-10-31")
    assert sum(v.count for v in dated.values) == shared_engine.search(
        "", since="2026-10", until="2026-10-31"
    ).total


def test_the_facets_own_filter_is_not_applied(shared_engine: Engine) -> None:
    facet = shared_engine.facet("provider", providers=["Jurist", "Metro Daily"])
    assert rows(facet) == [
        ("Jurist", 2, True), ("Metro Daily", 2, True), *ALL_PROVIDERS[2:]
    ]
    topics = shared_engine.facet("topic", topics=["AI"], providers=["Jurist"])
    assert rows(topics) == [("AI", 2, True), ("Privacy", 2, False)]
    assert rows(shared_engine.facet("kind", kind="related")) == [
        ("article", 9, False), ("related", 3, True)
    ]


def test_limit_cuts_and_keeps_selected_values(shared_engine: Engine) -> None:
    top = shared_engine.facet("provider", limit=2)
    assert (rows(top), top.truncated) == (ALL_PROVIDERS[:2], True)
    exact = shared_engine.facet("provider", limit=9)
    assert (rows(exact), exact.truncated) == (ALL_PROVIDERS, False)
    chosen = shared_engine.facet("provider", providers=["Weather Desk", "Nobody"], limit=2)
    assert (rows(chosen), chosen.truncated) == (
        [("Jurist", 2, False), ("Metro Daily", 2, False), ("Weather Desk", 1, True),
         ("Nobody", 0, True)],
        True,
    )
    # A selected value without matches is listed even when nothing is cut.
    assert rows(shared_engine.facet("provider", "lander", providers=["Jurist"])) == [
        ("Space Today", 2, False), ("Jurist", 0, True)
    ]


def test_nothing_matches(shared_engine: Engine) -> None:
    facet = shared_engine.facet("topic", "zzyzx")
    assert (rows(facet), facet.truncated) == ([], False)


def test_counts_equal_the_searchs_facets(shared_engine: Engine) -> None:
    for text, kwargs in [
        ("", {}),
        ("police cameras face matching metro network", {}),  # expanded by feedback
        ("police cameras face matching metro network", {"feedback": "off"}),
        ("police cameras face matching metro network", {"sort": "newest"}),
        ("heatwave OR lander", {"topics": ["Space"], "kind": "article"}),
        ("facial", {"match": "any", "providers": ["Jurist"]}),
    ]:
        search = shared_engine.search(text, facet_size=MAX_FACET_SIZE, **kwargs)
        for name in ("topic", "provider", "kind"):
            assert shared_engine.facet(name, text, **kwargs) == search.facets[name], (text, name)


def test_to_dict(shared_engine: Engine) -> None:
    assert shared_engine.facet("kind", "lander").to_dict() == {
        "values": [
            {"value": "article", "count": 1, "selected": False},
            {"value": "related", "count": 1, "selected": False},
        ],
        "truncated": False,
    }


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("year", {}, "unknown facet 'year': choose one of topic, provider, kind"),
        ("Topic", {}, "unknown facet 'Topic': choose one of topic, provider, kind"),
        ("topics", {}, "unknown facet 'topics': choose one of topic, provider, kind"),
        (None, {}, "unknown facet None: choose one of topic, provider, kind"),
        ("topic", {"limit": 0}, "limit must be a whole number of at least 1, not 0"),
        ("topic", {"limit": -3}, "limit must be a whole number of at least 1, not -3"),
        ("topic", {"limit": True}, "limit must be a whole number of at least 1, not True"),
        ("topic", {"limit": "5"}, "limit must be a whole number of at least 1, not '5'"),
        ("topic", {"kind": "video"}, "unknown kind 'video': choose one of article, related"),
        ("topic", {"sort": "random"},
         "unknown sort 'random': choose one of relevance, newest, oldest, quality"),
        ("topic", {"since": "2026-10", "until": "2026-09"},
         "since must not be later than until"),
    ],
)
def test_bad_arguments(
    shared_engine: Engine, name: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        shared_engine.facet(name, **kwargs)
    assert str(caught.value) == message


def test_query_errors_only_when_strict(shared_engine: Engine) -> None:
    with pytest.raises(QueryError, match="unclosed quote at position 0"):
        shared_engine.facet("topic", '"mars', strict=True)
    # Read as search reads it: leniently, with the same counts.
    lenient = shared_engine.facet("topic", '"mars')
    assert lenient == shared_engine.search('"mars', facet_size=1000).facets["topic"]


def test_search_facet_size_bounds(shared_engine: Engine) -> None:
    assert MAX_FACET_SIZE == 1000
    assert shared_engine.search("", facet_size=MAX_FACET_SIZE).facets["topic"].values
    with pytest.raises(UsageError) as caught:
        shared_engine.search("", facet_size=MAX_FACET_SIZE + 1)
    assert str(caught.value) == "facet_size must be a whole number from 1 to 1000, not 1001"


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.one_of(st.sampled_from(["topic", "provider", "kind"]), st.text(max_size=10)),
    text=st.text(max_size=40),
    topics=st.lists(st.one_of(st.sampled_from(["AI", "Space"]), st.text(max_size=8)),
                    max_size=3),
    providers=st.lists(st.one_of(st.sampled_from(["Jurist", "Weather Desk"]),
                                 st.text(max_size=8)), max_size=3),
    limit=st.one_of(st.none(), st.integers(-2, 12)),
)
def test_any_input_gives_values_or_a_usage_error(
    shared_engine: Engine, name: str, text: str, topics: list[str], providers: list[str],
    limit: int | None,
) -> None:
    try:
        facet = shared_engine.facet(name, text, topics=topics, providers=providers, limit=limit)
    except UsageError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    counted = [(-v.count, v.value) for v in facet.values if v.count > 0 and not v.selected]
    assert counted == sorted(counted)  # unselected values: by count, then name
    assert len({v.value for v in facet.values}) == len(facet.values)
    if limit is not None:
        unselected = [v for v in facet.values if not v.selected]
        assert len(unselected) <= limit
    given = topics if name == "topic" else providers if name == "provider" else []
    known = {"AI", "Space", "Jurist", "Weather Desk"} & set(given)
    assert known <= {v.value for v in facet.values if v.selected}
    if text == "":  # a text query may fall back to any word or add words under other filters
        for value in facet.values[:2]:
            if name in ("topic", "provider") and value.count:
                filters: dict[str, Any] = {"topics": topics, "providers": providers}
                filters["topics" if name == "topic" else "providers"] = [value.value]
                assert shared_engine.search("", **filters).total == value.count
