"""Facet filters that forgive case, accents and spacing; why a filtered search found nothing;
and honest counts when a query was relaxed from every word to any word."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import IDS, names
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from searchlib import Engine
from searchlib.analysis import fold_accents, fold_value
from searchlib.results import EmptyFilters


def facet(results: Any, name: str) -> list[tuple[str, int, bool]]:
    return [(v.value, v.count, v.selected) for v in results.facets[name].values]


# -- a corpus whose facet values differ only in case, accents and spacing ---------------------

FOLDED_DOCS = [
    # (file name, title, provider, topics, date)
    ("f1", "Alpine rail tunnel opens", "Zürich News", ["AI", "Transport"], "2026-03-01"),
    ("f2", "Rail strike ends after talks", "ZURICH NEWS", ["Ai"], "2026-03-02"),
    ("f3", "Café culture returns to the old town", "Le Monde", ["Café Society"], "2026-03-03"),
    ("f4", "Polls open in the capital", "The Week", ["Élections"], "2026-03-04"),
    ("f5", "Turnout record in the capital", "THE WEEK", ["elections", "Transport"], "2026-03-05"),
]


def write_folded_corpus(folder: Path) -> None:
    folder.mkdir()
    for name, title, provider, topics, date in FOLDED_DOCS:
        topic_lines = "".join(f"  - {topic}\n" for topic in topics)
        (folder / f"{name}.md").write_text(
            f'---\ntitle: "{title}"\nexcerpt: "{title}."\npublishedDateTime: {date}\n'
            f'webUrl: "https://folded.example/{name}"\nprovider: {provider}\n'
            f"topics:\n{topic_lines}---\n",
            encoding="utf-8",
        )


@pytest.fixture(scope="module")
def folded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An engine over FOLDED_DOCS (read-only)."""
    root = tmp_path_factory.mktemp("folded")
    write_folded_corpus(root / "docs")
    with Engine(root / "index") as engine:
        report = engine.index([root / "docs"])
        assert (report.added, report.failed) == (5, [])
        yield engine


def titles(results: Any) -> list[str]:
    return [hit.title for hit in results.hits]


# -- fold_value ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("Reuters", "reuters"),
        ("  Zürich \t  News ", "zurich news"),
        ("ZURICH NEWS", "zurich news"),
        ("Zu\u0308rich News", "zurich news"),  # decomposed accent
        ("Straße", "strasse"),
        ("Ørsted", "orsted"),
        ("ℌeat", "heat"),  # compatibility letters fold to plain ones, then case folds again
        ("   ", ""),
    ],
)
def test_fold_value(value: str, key: str) -> None:
    assert fold_value(value) == key


@given(st.text(max_size=30))
def test_fold_value_is_idempotent(value: str) -> None:
    assert fold_value(fold_value(value)) == fold_value(value)


# -- case- and accent-insensitive filters ---------------------------------------------------------


def test_topic_provider_and_kind_filters_ignore_case_and_spacing(shared_engine: Engine) -> None:
    exact = shared_engine.search("", topics=["AI"])
    for typed in ("ai", "Ai", " AI ", "ＡＩ"):  # fullwidth letters fold too
        results = shared_engine.search("", topics=[typed])
        assert names(results) == ["shenhai", "police", "court", "china-limits"]
        # The facet shows the value as the files write it, selected.
        assert facet(results, "topic")[0] == ("AI", 4, True)
        assert facet(results, "topic") == facet(exact, "topic")
    results = shared_engine.search("", providers=[" METRO   daily "])
    assert names(results) == ["flaw", "police"]
    assert ("Metro Daily", 2, True) in facet(results, "provider")
    assert names(shared_engine.search("cameras", providers=["jurist"])) == ["court"]
    related = shared_engine.search("", kind="Related")
    assert names(related) == ["descent", "grid", "china-limits"]
    assert facet(related, "kind") == [("article", 9, False), ("related", 3, True)]


def test_similar_filters_ignore_case(shared_engine: Engine) -> None:
    assert names(shared_engine.similar(IDS["court"], providers=["JURIST"])) == ["shenhai"]
    exact = shared_engine.similar(IDS["court"], topics=["Privacy"], kind="article")
    results = shared_engine.similar(IDS["court"], topics=["privacy"], kind="ARTICLE")
    assert names(results) == names(exact) == ["shenhai"]


def test_a_filter_selects_every_written_form_of_its_key(folded: Engine) -> None:
    results = folded.search("", topics=["ai"])
    assert titles(results) == ["Rail strike ends after talks", "Alpine rail tunnel opens"]
    assert facet(results, "topic") == [
        ("Transport", 2, False), ("AI", 1, True), ("Ai", 1, True), ("Café Society", 1, False),
        ("elections", 1, False), ("Élections", 1, False),
    ]
    results = folded.search("", providers=["zurich news"])
    assert results.total == 2
    assert facet(results, "provider") == [
        ("Le Monde", 1, False), ("THE WEEK", 1, False), ("The Week", 1, False),
        ("ZURICH NEWS", 1, True), ("Zürich News", 1, True),
    ]
    assert folded.search("", topics=["ELECTIONS"]).total == 2
    assert folded.search("", topics=["cafe   society"]).total == 1
    assert folded.search("rail", providers=["the week"]).total == 0


def test_selected_forms_are_listed_beyond_the_facet_size(folded: Engine) -> None:
    results = folded.search("", topics=["ai"], facet_size=1)
    assert facet(results, "topic") == [("Transport", 2, False), ("AI", 1, True), ("Ai", 1, True)]
    assert results.facets["topic"].truncated


def test_a_value_matching_nothing_is_listed_as_typed_once(shared_engine: Engine) -> None:
    results = shared_engine.search("", topics=["Nope", "nope", "ai", "AI"])
    assert results.total == 4
    assert facet(results, "topic")[0] == ("AI", 4, True)
    assert facet(results, "topic")[-1] == ("Nope", 0, True)
    assert [v for v, _, selected in facet(results, "topic") if selected] == ["AI", "Nope"]


def test_blank_filter_values_are_ignored(shared_engine: Engine) -> None:
    results = shared_engine.search("", topics=["  ", "\t"], providers=[""])
    assert results.total == 12
    assert results.empty_filters is None
    assert not any(selected for _, _, selected in facet(results, "topic"))


# Accents: combining marks (not U+034F, the invisible grapheme joiner, which is no accent).
COMBINING = [chr(c) for c in range(0x300, 0x370) if unicodedata.combining(chr(c))]


@st.composite
def respelled(draw: st.DrawFn, value: str) -> str:
    """``value`` in another case, with accents added or stripped and other spacing."""
    if draw(st.booleans()):
        value = fold_accents(value)
    out = []
    for ch in value:
        if ch == " ":
            out.append(draw(st.sampled_from([" ", "  ", "\t", "\u00a0", " \n "])))
            continue
        out.append(draw(st.sampled_from([ch, ch.upper(), ch.lower()])))
        if ch.isalpha() and draw(st.booleans()):
            out.append(draw(st.sampled_from(COMBINING)))
    pad = st.sampled_from(["", " ", "\t ", "\u3000"])
    form = draw(st.sampled_from(["NFC", "NFD"]))
    return draw(pad) + unicodedata.normalize(form, "".join(out)) + draw(pad)


FACET_VALUES = [
    ("topic", value) for value in
    ("AI", "Climate", "Privacy", "Security", "Energy", "Space", "Elections", "Finance")
] + [
    ("provider", value) for value in
    ("Jurist", "Metro Daily", "Space Today", "Energy Wire", "Grid News", "Money Times",
     "TechNode", "Tidewater Gazette", "Weather Desk")
]
QUERIES = st.sampled_from(["", "facial", "heatwave OR lander", "cameras"])


def _filtered(engine: Engine, text: str, name: str, value: str) -> Any:
    return engine.search(text, **{f"{name}s": [value]})  # type: ignore[arg-type]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), text=QUERIES, pair=st.sampled_from(FACET_VALUES))
@example(data=None, text="", pair=("provider", "Metro Daily"))
def test_any_spelling_of_a_facet_value_filters_like_the_value(
    shared_engine: Engine, data: Any, text: str, pair: tuple[str, str]
) -> None:
    name, value = pair
    variant = value.swapcase() if data is None else data.draw(respelled(value), label="variant")
    exact = _filtered(shared_engine, text, name, value)
    results = _filtered(shared_engine, text, name, variant)
    assert results.total == exact.total
    assert [h.id for h in results.hits] == [h.id for h in exact.hits]
    assert facet(results, name) == facet(exact, name)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), doc=st.sampled_from(FOLDED_DOCS))
def test_any_spelling_selects_every_form_in_the_folded_corpus(
    folded: Engine, data: Any, doc: tuple[str, str, str, list[str], str]
) -> None:
    _, _, provider, topics, _ = doc
    for name, value in [("provider", provider), *(("topic", topic) for topic in topics)]:
        variant = data.draw(respelled(value), label=f"{name} variant")
        forms = [v for v in {d[2] for d in FOLDED_DOCS} | {t for d in FOLDED_DOCS for t in d[3]}
                 if fold_value(v) == fold_value(value)]
        expected = folded.search("", **{f"{name}s": forms})  # type: ignore[arg-type]
        results = _filtered(folded, "", name, variant)
        assert results.total == expected.total > 0
        assert sorted(v for v, _, selected in facet(results, name) if selected) == sorted(forms)


# -- why a filtered search found nothing -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "filters", "expected"),
    [
        # One filter.
        ("lander", {"providers": ["Jurist"]}, (("provider",), 2)),
        ("lander", {"since": "2027"}, (("date",), 2)),
        ("lander", {"kind": "related", "providers": ["jurist"]}, (("provider",), 1)),
        ("", {"topics": ["Nope"]}, (("topic",), 12)),
        # Removing the provider alone finds 2, removing the topic alone finds nothing.
        ("lander", {"topics": ["Space"], "providers": ["Jurist"]}, (("provider",), 2)),
        # Removing the provider alone finds 2, removing the topic alone finds 1.
        ("heatwave", {"topics": ["Energy"], "providers": ["Weather Desk"]}, (("provider",), 2)),
        # Ties: the first in the order topic, provider, kind, date.
        ("heatwave OR facial",
         {"topics": ["Privacy"], "providers": ["Weather Desk", "Energy Wire"]}, (("topic",), 2)),
        ("heatwave", {"providers": ["Weather Desk"], "kind": "related"}, (("provider",), 1)),
        # No single filter is to blame: all of them, with the total without any.
        ("lander", {"topics": ["AI"], "providers": ["Jurist"]}, (("topic", "provider"), 2)),
        ("heatwave", {"topics": ["Space"], "providers": ["Jurist"], "since": "2027"},
         (("topic", "provider", "date"), 3)),
        # Without the filter, every word matches: the total is of that search (1), not of
        # the any-word search the filtered one fell back to.
        ("heatwave solar", {"providers": ["Jurist"]}, (("provider",), 1)),
        # The filtered search fell back to any word, and so would the search without it.
        ("heatwave zebra", {"providers": ["Jurist"]}, (("provider",), 3)),
    ],
)
def test_empty_filters_names_the_filter_and_the_total_without_it(
    shared_engine: Engine, text: str, filters: dict[str, Any], expected: tuple[Any, int]
) -> None:
    results = shared_engine.search(text, **filters)
    assert (results.total, results.hits) == (0, ())
    assert results.empty_filters == EmptyFilters(*expected)
    assert results.to_dict()["empty_filters"] == {
        "filters": list(expected[0]), "total_without": expected[1]
    }
    # The total is what the search finds with those filters removed.
    removed = {
        "topic": {"topics": []}, "provider": {"providers": []}, "kind": {"kind": None},
        "date": {"since": None, "until": None},
    }
    without = dict(filters)
    for name in expected[0]:
        without.update(removed[name])
    assert shared_engine.search(text, **without).total == expected[1]


@pytest.mark.parametrize(
    ("text", "filters"),
    [
        ("qqqzzz", {"topics": ["AI"]}),  # nothing to find even without the filter
        ("qqqzzz", {}),  # no filter
        ("lander", {}),
        ("lander", {"topics": ["space"]}),  # results
        ("lander", {"topics": ["Space"], "offset": 5}),  # results, on another page
    ],
)
def test_no_empty_filters_unless_the_filters_emptied_the_search(
    shared_engine: Engine, text: str, filters: dict[str, Any]
) -> None:
    assert shared_engine.search(text, **filters).empty_filters is None


def test_empty_filters_in_similar(shared_engine: Engine) -> None:
    results = shared_engine.similar(IDS["mars"], providers=["Jurist"])
    assert results.total == 0
    assert results.empty_filters == EmptyFilters(("provider",), 1)
    assert shared_engine.similar(IDS["mars"], providers=["space today"]).empty_filters is None


# -- relaxed queries ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kwargs", "hits", "missing"),
    [
        # Both words are on the page, in different hits.
        ("heatwave parliament", {}, ["election", "heatwave", "grid", "solar"], ()),
        # Only the first hit is on the page, and it has no "heatwave".
        ("heatwave parliament", {"limit": 1}, ["election"], ("heatwave",)),
        ("heatwave zebra", {}, ["heatwave", "grid", "solar"], ("zebra",)),
        # Stemmed ("Heatwaves" is in "heatwave"); repeats compared case-insensitively; the
        # first spelling is kept.
        ("Heatwaves ZEBRA zebra", {}, ["heatwave", "grid", "solar"], ("ZEBRA",)),
        # Excluded words are not missing; stopwords are not searched for.
        ("heatwave zebra -solar", {}, ["heatwave", "grid"], ("zebra",)),
        ("the zebra heatwave", {}, ["heatwave", "grid", "solar"], ("zebra",)),
        # Prefixes and fuzzy words as typed; a field word only in its field.
        ("heatw* zebr*", {}, ["heatwave", "solar", "grid"], ("zebr*",)),
        ("zebra~ heatwave", {}, ["heatwave", "grid", "solar"], ("zebra~",)),
        ("title:grid solar", {"offset": 1}, ["solar"], ("grid",)),  # "Grid" in its excerpt
    ],
)
def test_relaxed_query_lists_the_missing_words(
    shared_engine: Engine, text: str, kwargs: dict[str, Any], hits: list[str],
    missing: tuple[str, ...],
) -> None:
    results = shared_engine.search(text, **kwargs)
    assert names(results) == hits
    assert (results.relaxed, results.missing) == (True, missing)
    assert (results.to_dict()["relaxed"], results.to_dict()["missing"]) == (True, list(missing))


@pytest.mark.parametrize(
    ("text", "kwargs"),
    [
        ("heatwave solar", {}),  # a document has every word
        ("heatwave zebra", {"match": "any"}),  # any word was asked for
        ("heatwave zebra giraffe lion", {}),  # long queries rank by any word by design
        ("heatwave zebra", {"providers": ["Jurist"]}),  # relaxed, but found nothing
    ],
)
def test_not_relaxed(shared_engine: Engine, text: str, kwargs: dict[str, Any]) -> None:
    results = shared_engine.search(text, **kwargs)
    assert (results.relaxed, results.missing) == (False, ())


def test_relaxed_page_past_the_end_lists_no_missing_words(shared_engine: Engine) -> None:
    results = shared_engine.search("heatwave zebra", offset=10)
    assert (results.total, results.hits, results.relaxed, results.missing) == (3, (), True, ())


def test_written_forms_follow_commits(tmp_path: Path) -> None:
    # The folded forms of the facet values are kept between searches and taken again after
    # a commit: a value first written in a new way is selected as soon as it is indexed.
    from searchlib.records import Record

    def article(n: int, provider: str) -> Record:
        return Record(
            id=f"a{n}", kind="article", title=f"harbour report {n}", excerpt="", url=f"u{n}",
            provider=provider, published=None, quality=None,
        )

    with Engine(tmp_path / "ix") as engine:
        engine.backend.write([article(1, "Harbour Ledger")], [])
        assert engine.search("harbour", providers=["harbour ledger"]).total == 1
        assert engine.search("harbour", providers=["HARBOUR LEDGER"]).total == 1
        engine.backend.write([article(2, "HARBOUR LEDGER")], [])
        results = engine.search("harbour", providers=["harbour ledger"])
        assert results.total == 2
        assert [v.value for v in results.facets["provider"].values if v.selected] == [
            "HARBOUR LEDGER", "Harbour Ledger",
        ]
