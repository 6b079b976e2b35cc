"""Pseudo-relevance feedback (RM3): long queries borrow words from their top documents."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import NAMES, NEWS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchlib import Engine
from searchlib.errors import UsageError
from searchlib.query import Not, Seq, Term, parse_lenient
from searchlib.results import SearchResults
from searchlib.searching.feedback import FeedbackSettings

LONG = "record temperatures across europe this summer"


@pytest.fixture(scope="module")
def uncapped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The fixture corpus with no cap on added words' document frequency.

    In a 12-document corpus every subject word is "common" (3 documents are 25%), so the
    default cap (20%) would keep out the words these tests follow.
    """
    with Engine(tmp_path_factory.mktemp("uncapped") / "index") as eng:
        eng.index([NEWS])
        eng.pipeline.feedback_settings = FeedbackSettings(max_df=1.0)
        yield eng


def names(results: SearchResults) -> list[str]:
    return [NAMES.get(hit.id, hit.id) for hit in results.hits]


def kind_total(results: SearchResults) -> int:
    return sum(value.count for value in results.facets["kind"].values)


def test_long_query_finds_documents_in_the_vocabulary_of_its_top_documents(
    uncapped: Engine,
) -> None:
    plain = uncapped.search(LONG, feedback="off")
    assert (names(plain), plain.total, plain.feedback) == (["heatwave", "election"], 2, ())

    expanded = uncapped.search(LONG)
    # "solar" and "grid" share "heatwave" with the best hit, though none of the typed words.
    assert (names(expanded), expanded.total) == (["heatwave", "election", "grid", "solar"], 4)
    assert expanded.feedback[:4] == ("heatwave", "breaks", "degrees", "kraków")
    assert "records" not in expanded.feedback  # typed words are not listed
    assert kind_total(expanded) == expanded.total
    assert expanded.to_dict()["feedback"] == list(expanded.feedback)


def test_common_words_are_not_added(shared_engine: Engine) -> None:
    # "heatwave" is in 3 of the 12 documents: over the 20% cap.
    results = shared_engine.search(LONG)
    assert (names(results), results.total) == (["heatwave", "election"], 2)
    assert results.feedback[:3] == ("breaks", "degrees", "kraków")
    assert "heatwave" not in results.feedback


def test_only_typed_words_are_highlighted(uncapped: Engine) -> None:
    hits = {NAMES[h.id]: h for h in uncapped.search(LONG).hits}
    assert hits["heatwave"].highlights["title"] == (
        "Heatwave breaks <mark>records</mark> <mark>across</mark> <mark>Europe</mark>"
    )
    assert hits["grid"].highlights["title"] == "Heatwave strains the power grid"


def test_excluded_words_stay_excluded_from_added_documents(uncapped: Engine) -> None:
    results = uncapped.search(LONG + " -solar")
    assert names(results) == ["heatwave", "election", "grid"]
    assert results.total == 3


def test_feedback_respects_filters(uncapped: Engine) -> None:
    results = uncapped.search(LONG, kind="article")
    assert names(results) == ["heatwave", "election", "solar"]
    assert results.facets["kind"].values[0].count == 3


@pytest.mark.parametrize("text", ["heatwave", "heatwave europe", "record heatwave europe"])
def test_short_queries_are_not_expanded(shared_engine: Engine, text: str) -> None:
    auto = shared_engine.search(text)
    off = shared_engine.search(text, feedback="off")
    assert auto.feedback == ()
    assert (names(auto), auto.total) == (names(off), off.total)


def test_feedback_on_expands_a_short_query(uncapped: Engine) -> None:
    assert names(uncapped.search("europe")) == ["heatwave"]
    results = uncapped.search("europe", feedback="on")
    assert names(results)[0] == "heatwave"
    assert {"grid", "solar"} <= set(names(results))
    assert results.feedback[0] == "heatwave"


@pytest.mark.parametrize("sort", ["newest", "oldest", "quality"])
def test_sorted_searches_are_not_expanded(shared_engine: Engine, sort: str) -> None:
    results = shared_engine.search(LONG, sort=sort)  # type: ignore[arg-type]
    assert (results.total, results.feedback) == (2, ())


def test_match_all_and_any(uncapped: Engine) -> None:
    assert uncapped.search(LONG, match="all").feedback == ()
    assert uncapped.search(LONG, match="any").total == 4


def test_a_not_inside_a_group_turns_feedback_off(shared_engine: Engine) -> None:
    results = shared_engine.search("record temperatures across (europe OR -solar) summer")
    assert results.feedback == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"feedback": "yes"}, "unknown feedback mode 'yes': choose one of auto, on, off"),
        ({"feedback": "on", "match": "all"},
         "feedback 'on' adds documents without every word: not with match 'all'"),
        ({"feedback": "on", "sort": "newest"},
         "feedback 'on' changes the ranking: not with sort 'newest'"),
    ],
)
def test_bad_feedback_arguments(shared_engine: Engine, kwargs: dict, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        shared_engine.search(LONG, **kwargs)
    assert str(caught.value) == message


WORDS = st.sampled_from(
    ["heatwave", "europe", "records", "police", "cameras", "mars", "lander", "court", "rates",
     "solar", "grid", "the", "of", "人脸识别", "zürich", "-solar", "-police", '"facial', "OR"]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(words=st.lists(WORDS, min_size=1, max_size=8), mode=st.sampled_from(["auto", "on"]))
def test_expanded_results_are_consistent(
    uncapped: Engine, words: list[str], mode: str
) -> None:
    text = " ".join(words)
    # Every text is searched ('"facial' is an unclosed quote, read leniently).
    results = uncapped.search(text, feedback=mode, limit=50)  # type: ignore[arg-type]
    assert len(results.hits) == min(results.total, 50)
    assert kind_total(results) == results.total
    # The words the query excludes: its top-level -words (one inside "a OR -b" excludes
    # nothing from what matches a).
    tree, _ = parse_lenient(text)
    top = tree.children if isinstance(tree, Seq) else (tree,)
    excluded = {c.child.text for c in top if isinstance(c, Not) and isinstance(c.child, Term)}
    for hit in results.hits:
        text_of_hit = f"{hit.title} {hit.excerpt}".lower()
        for word in excluded:
            assert word not in text_of_hit.split(), (text, hit.title)
    if results.feedback:
        assert mode == "on" or len([w for w in words if not w.startswith("-")]) > 3
