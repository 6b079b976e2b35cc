"""Searching the fixture corpus: hits, totals, facets, filters, sorts, highlights, paging."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import IDS, names

from searchlib import Engine, NotFoundError, QueryError, UsageError
from searchlib import query as q

ALL_TOPICS = {
    "values": [
        {"value": "AI", "count": 4, "selected": False},
        {"value": "Climate", "count": 3, "selected": False},
        {"value": "Privacy", "count": 3, "selected": False},
        {"value": "Security", "count": 3, "selected": False},
        {"value": "Energy", "count": 2, "selected": False},
        {"value": "Space", "count": 2, "selected": False},
        {"value": "Elections", "count": 1, "selected": False},
        {"value": "Finance", "count": 1, "selected": False},
    ],
    "truncated": False,
}
ALL_PROVIDERS = [
    ("Jurist", 2), ("Metro Daily", 2), ("Space Today", 2), ("Energy Wire", 1), ("Grid News", 1),
    ("Money Times", 1), ("TechNode", 1), ("Tidewater Gazette", 1), ("Weather Desk", 1),
]


def facet(results: Any, name: str) -> list[tuple[str, int, bool]]:
    return [(v.value, v.count, v.selected) for v in results.facets[name].values]


def test_whole_result_shape(shared_engine: Engine) -> None:
    data = shared_engine.search('"facial recognition"', limit=1).to_dict()
    assert data.pop("took_ms") >= 0
    hit = data["hits"][0]
    assert hit.pop("score") > 0
    assert data == {
        "query": '"facial recognition"',
        "total": 3,
        "offset": 0,
        "limit": 1,
        "hits": [{
            "rank": 1,
            "id": IDS["police"],
            "kind": "article",
            "title": "Police expand facial recognition cameras",
            "excerpt": "City police will add 200 cameras with face matching to the metro network.",
            "url": "https://metrodaily.example/police-cameras",
            "provider": "Metro Daily",
            "published": "2026-09-05T12:00:00Z",
            "topics": ["AI", "Security"],
            "parents": [],
            "quality": 60,
            "highlights": {
                "title": "Police expand <mark>facial</mark> <mark>recognition</mark> cameras",
                "excerpt": (
                    "City police will add 200 cameras with face matching to the metro network."
                ),
            },
        }],
        "facets": {
            "topic": {"values": [
                {"value": "AI", "count": 3, "selected": False},
                {"value": "Privacy", "count": 2, "selected": False},
                {"value": "Security", "count": 2, "selected": False},
            ], "truncated": False},
            "provider": {"values": [
                {"value": "Jurist", "count": 1, "selected": False},
                {"value": "Metro Daily", "count": 1, "selected": False},
                {"value": "TechNode", "count": 1, "selected": False},
            ], "truncated": False},
            "kind": {"values": [
                {"value": "article", "count": 2, "selected": False},
                {"value": "related", "count": 1, "selected": False},
            ], "truncated": False},
        },
        "suggestion": None,
        "feedback": [],
        "relaxed": False,
        "missing": [],
        "empty_filters": None,
        "notices": [],
        "synonyms": {},
    }
    hit = data["hits"][0]
    assert hit["parents"] == []


def test_empty_query_lists_everything_newest_first(shared_engine: Engine) -> None:
    results = shared_engine.search("", limit=12)
    assert results.total == 12
    assert names(results) == [
        "flaw", "rates", "mars", "descent", "shenhai", "solar", "grid", "election", "heatwave",
        "police", "court", "china-limits",
    ]
    assert results.to_dict()["facets"]["topic"] == ALL_TOPICS
    assert [(v.value, v.count) for v in results.facets["provider"].values] == ALL_PROVIDERS
    assert facet(results, "kind") == [("article", 9, False), ("related", 3, False)]


def test_plain_words_rank_title_matches_first(shared_engine: Engine) -> None:
    assert names(shared_engine.search("cameras")) == ["police", "flaw", "court"]
    assert names(shared_engine.search("heatwave")) == ["heatwave", "grid", "solar"]


def test_all_words_must_match_by_default(shared_engine: Engine) -> None:
    assert names(shared_engine.search("heatwave solar")) == ["solar"]


def test_any_word_fallback_when_no_document_has_all(shared_engine: Engine) -> None:
    results = shared_engine.search("heatwave parliament")
    assert names(results) == ["election", "heatwave", "grid", "solar"]  # parliament is rarer
    assert results.suggestion is None


def test_match_mode_can_be_forced(shared_engine: Engine) -> None:
    assert shared_engine.search("heatwave parliament", match="all").total == 0
    assert shared_engine.search("heatwave solar", match="any").total == 3


def test_phrase_negation_or_and_fields(shared_engine: Engine) -> None:
    assert names(shared_engine.search('"facial recognition"')) == [
        "police", "court", "china-limits"
    ]
    assert names(shared_engine.search("facial -police")) == ["china-limits"]
    # "lander" (2 documents) is rarer than "heatwave" (3): its documents rank first.
    assert names(shared_engine.search("heatwave OR lander")) == [
        "mars", "descent", "heatwave", "grid", "solar"
    ]
    assert names(shared_engine.search("provider:jurist")) == ["shenhai", "court"]
    assert names(shared_engine.search('provider:"metro daily"')) == ["flaw", "police"]
    assert names(shared_engine.search("topic:climate")) == ["heatwave", "solar", "grid"]
    assert names(shared_engine.search("title:heatwave")) == ["grid", "heatwave", "solar"]
    assert names(shared_engine.search("kind:related")) == ["descent", "grid", "china-limits"]
    assert shared_engine.search("-heatwave").total == 9


def test_prefix_and_fuzzy(shared_engine: Engine) -> None:
    assert names(shared_engine.search("recog*")) == ["court", "police", "china-limits"]
    assert names(shared_engine.search("landr~")) == ["mars", "descent"]
    assert names(shared_engine.search("Zür*")) == ["heatwave"]
    assert names(shared_engine.search("provider:metro*")) == ["flaw", "police"]
    # Punctuation inside a prefix splits it: "heat-wa*" is "heat" then a word starting "wa".
    assert shared_engine.search("heat-wa*").total == 0
    assert names(shared_engine.search("solar-pan*")) == ["solar"]


def test_stemming_accents_and_cjk(shared_engine: Engine) -> None:
    assert names(shared_engine.search("raising rate")) == ["rates"]
    assert names(shared_engine.search("zurich")) == ["heatwave"]
    assert names(shared_engine.search("KRAKOW")) == ["heatwave"]
    assert names(shared_engine.search("Zürich")) == ["heatwave"]
    assert names(shared_engine.search("人脸识别")) == ["shenhai"]
    assert names(shared_engine.search("识别")) == ["shenhai"]
    cjk = shared_engine.search("识别").hits[0].highlights
    assert cjk["title"] == "人脸<mark>识别</mark> rules tighten in Shenhai"
    assert shared_engine.search("人脸识别").hits[0].highlights["title"] == (
        "<mark>人脸识别</mark> rules tighten in Shenhai"
    )


def test_stopword_only_query_finds_nothing(shared_engine: Engine) -> None:
    assert shared_engine.search("the of").total == 0


def test_highlights_escape_html(shared_engine: Engine) -> None:
    hit = shared_engine.search("firmware").hits[0]
    assert hit.highlights == {
        "title": "&lt;script&gt;alert(1)&lt;/script&gt; Security flaw in camera "
                 "<mark>firmware</mark>",
        "excerpt": "Researchers found a flaw letting attackers &lt;b&gt;disable&lt;/b&gt; "
                   "cameras &amp; alarms.",
    }
    assert shared_engine.search("script").hits[0].highlights["title"].startswith(
        "&lt;<mark>script</mark>&gt;"
    )


def test_topic_filter_is_disjunctive(shared_engine: Engine) -> None:
    results = shared_engine.search("", topics=["AI"])
    assert names(results) == ["shenhai", "police", "court", "china-limits"]
    # The topic facet ignores its own filter: every topic still shows its full count.
    assert results.to_dict()["facets"]["topic"]["values"][0] == {
        "value": "AI", "count": 4, "selected": True
    }
    assert [v["count"] for v in results.to_dict()["facets"]["topic"]["values"]] == [
        v["count"] for v in ALL_TOPICS["values"]  # type: ignore[index]
    ]
    assert facet(results, "provider") == [
        ("Jurist", 2, False), ("Metro Daily", 1, False), ("TechNode", 1, False)
    ]
    assert facet(results, "kind") == [("article", 3, False), ("related", 1, False)]


def test_values_of_one_facet_are_ored(shared_engine: Engine) -> None:
    results = shared_engine.search("", topics=["AI", "Climate"])
    assert results.total == 7
    assert facet(results, "provider") == [
        ("Jurist", 2, False), ("Energy Wire", 1, False), ("Grid News", 1, False),
        ("Metro Daily", 1, False), ("TechNode", 1, False), ("Weather Desk", 1, False),
    ]
    both = shared_engine.search("", providers=["Jurist", "Metro Daily"])
    assert names(both) == ["flaw", "shenhai", "police", "court"]
    assert facet(both, "provider")[:3] == [
        ("Jurist", 2, True), ("Metro Daily", 2, True), ("Space Today", 2, False)
    ]
    assert facet(both, "topic") == [("AI", 3, False), ("Privacy", 2, False), ("Security", 2, False)]


def test_facets_are_anded_across(shared_engine: Engine) -> None:
    results = shared_engine.search("", topics=["AI"], providers=["Jurist"])
    assert names(results) == ["shenhai", "court"]
    assert facet(results, "topic") == [("AI", 2, True), ("Privacy", 2, False)]
    assert facet(results, "provider") == [
        ("Jurist", 2, True), ("Metro Daily", 1, False), ("TechNode", 1, False)
    ]


def test_selected_value_without_matches_is_still_shown(shared_engine: Engine) -> None:
    results = shared_engine.search("lander", providers=["Jurist"])
    assert results.total == 0
    assert facet(results, "provider") == [("Space Today", 2, False), ("Jurist", 0, True)]


def test_kind_filter(shared_engine: Engine) -> None:
    results = shared_engine.search("", kind="related")
    assert names(results) == ["descent", "grid", "china-limits"]
    assert facet(results, "kind") == [("article", 9, False), ("related", 3, True)]


def test_facet_counts_equal_filtered_totals(shared_engine: Engine) -> None:
    for text in ("", "facial", "heatwave OR lander"):
        results = shared_engine.search(text, facet_size=100)
        for name, keyword in (("topic", "topics"), ("provider", "providers")):
            for value in results.facets[name].values:
                filtered = shared_engine.search(text, **{keyword: [value.value]})
                assert filtered.total == value.count, (text, name, value)


def test_facet_truncation(shared_engine: Engine) -> None:
    results = shared_engine.search("", facet_size=2)
    assert results.to_dict()["facets"]["provider"] == {
        "values": [
            {"value": "Jurist", "count": 2, "selected": False},
            {"value": "Metro Daily", "count": 2, "selected": False},
        ],
        "truncated": True,
    }


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        ("2026-10-31", None, ["flaw"]),
        ("2026-10-31T23:59:59Z", None, ["flaw"]),
        ("2026-11", None, []),
        (None, "2026-09-01", ["court", "china-limits"]),
        (None, "2026-09-01T09:59:59Z", ["china-limits"]),
        ("2026-09-10", "2026-09-10", ["heatwave"]),  # 23:30+02:00 is 21:30 UTC
        ("2026-09-11", "2026-09-19", []),
        ("2026-10", "2026-10", ["flaw", "rates", "mars", "descent", "shenhai", "solar"]),
        ("2026", None, ["flaw", "rates", "mars", "descent", "shenhai", "solar", "grid",
                        "election", "heatwave", "police", "court", "china-limits"]),
    ],
)
def test_date_filters_are_inclusive_utc(
    shared_engine: Engine, since: str | None, until: str | None, expected: list[str]
) -> None:
    assert names(shared_engine.search("", since=since, until=until, limit=20)) == expected


def test_sorts(shared_engine: Engine) -> None:
    oldest = shared_engine.search("", sort="oldest", limit=3)
    assert names(oldest) == ["china-limits", "court", "police"]
    assert all(h.score is None for h in oldest.hits)
    quality = shared_engine.search("", sort="quality", limit=12)
    assert [h.quality for h in quality.hits] == [90, 80, 70, 70, 65, 60, 59, 55, 50, 45, 40, None]
    # Equal quality: newer first.
    assert names(quality)[2:4] == ["descent", "solar"]
    assert names(shared_engine.search("heatwave", sort="newest")) == ["solar", "grid", "heatwave"]


def test_relevance_ties_break_newer_first(shared_engine: Engine) -> None:
    results = shared_engine.search("provider:jurist")
    assert results.hits[0].score == results.hits[1].score
    assert names(results) == ["shenhai", "court"]
    # A tie across the end of the page is decided by date too.
    assert names(shared_engine.search("provider:jurist", limit=1)) == ["shenhai"]
    assert names(shared_engine.search("provider:jurist", limit=1, offset=1)) == ["court"]


def test_paging(shared_engine: Engine) -> None:
    full = names(shared_engine.search("", limit=12))
    pages = [names(shared_engine.search("", limit=5, offset=o)) for o in (0, 5, 10)]
    assert pages[0] + pages[1] + pages[2] == full
    last = shared_engine.search("", limit=5, offset=10)
    assert ([h.rank for h in last.hits], last.total) == ([11, 12], 12)
    beyond = shared_engine.search("", offset=12)
    assert (beyond.hits, beyond.total) == ((), 12)
    assert shared_engine.search("", limit=0).hits == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": -1}, "limit must be a whole number from 0 to 1000, not -1"),
        ({"limit": 1001}, "limit must be a whole number from 0 to 1000, not 1001"),
        ({"offset": -5}, "offset must be a whole number from 0 to 100000, not -5"),
        ({"limit": "10"}, "limit must be a whole number from 0 to 1000, not '10'"),
        ({"sort": "best"}, "unknown sort 'best': choose one of relevance, newest, oldest, quality"),
        ({"kind": "video"}, "unknown kind 'video': choose one of article, related"),
        ({"since": "yesterday"},
         "since must be a date like 2026, 2026-09, 2026-09-30 or 2026-09-30T12:00:00Z, "
         "not 'yesterday'"),
        ({"since": "2026-10", "until": "2026-09"}, "since must not be later than until"),
        ({"topics": [3]}, "topic filter values must be strings, not 3"),
    ],
)
def test_bad_arguments_are_usage_errors(
    shared_engine: Engine, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError) as info:
        shared_engine.search("x", **kwargs)
    assert str(info.value) == message
    assert info.value.exit_code == 2


def test_query_errors_with_strict(shared_engine: Engine) -> None:
    with pytest.raises(QueryError) as info:
        shared_engine.search('"unclosed', strict=True)
    assert (str(info.value), info.value.position) == ("unclosed quote at position 0", 0)
    assert info.value.exit_code == 2
    with pytest.raises(QueryError, match="query is too long: 1001 characters"):
        shared_engine.search("x" * 1001, strict=True)
    with pytest.raises(UsageError, match="strict must be True or False, not 'yes'"):
        shared_engine.search("x", strict="yes")  # type: ignore[arg-type]


# Queries as people paste them (the style of CACM's and CISI's), each read leniently:
# the hits, and the notices saying what was read differently.
CACM_64 = (
    "List all articles on the Ardent lander and Mars (Ardent may be given as ARD; "
    "I don't remember how"
)
CACM_33 = (
    'Articles about heatwave records in Europe. On the subject: "Solar power output, Energy '
    'Wire; and "Heatwave breaks records", Weather Desk.'
)
def unclosed_quote(position: int) -> tuple[str, str]:
    return (
        "syntax",
        f"Unclosed quote at position {position}: searched for the words after it, not as a phrase.",
    )


LENIENT: list[tuple[str, list[str], list[tuple[str, str]]]] = [
    (CACM_64, ["mars", "descent"],
     [("syntax", "Unclosed '(' at position 48: closed it at the end of the query.")]),
    (CACM_33, ["heatwave", "election", "grid", "solar"],
     [unclosed_quote(121)]),
    ('"mars lander', ["mars"],
     [unclosed_quote(0)]),
    # The syntax after a stray quote still counts: -solar excludes.
    ('"heatwave -solar', ["heatwave", "grid"],
     [unclosed_quote(0)]),
    ('lander -"drill stalls', ["mars", "descent"],
     [unclosed_quote(8)]),
    ("facial OR", ["court", "police", "china-limits"],
     [("syntax", "OR without a term on both sides at position 7: ignored it.")]),
    ("title:(mars lander", ["mars"],
     [("syntax", "Unclosed '(' at position 6: closed it at the end of the query.")]),
    ("lander) OR heatwave", ["mars", "descent", "heatwave", "grid", "solar"],
     [("syntax", "Unmatched ')' at position 6: ignored it.")]),
    ("lander~5", ["mars", "descent"],
     [("syntax", 'Fuzzy distance in "lander~5" at position 6 must be between 1 and 2: '
                 "searched for lander~2.")]),
    ("OR", [], [("syntax",
                 "Could not read the query's syntax: searched for its words as plain text.")]),
    ("heatwave " * 120, ["heatwave", "grid", "solar", "election"],
     [("truncated",
       "The query was longer than 1,000 characters: searched for its first 111 words.")]),
]


@pytest.mark.parametrize(("text", "hits", "notices"), LENIENT, ids=[t[:20] for t, _, _ in LENIENT])
def test_any_text_is_searched_and_notices_say_how(
    shared_engine: Engine, text: str, hits: list[str], notices: list[tuple[str, str]]
) -> None:
    results = shared_engine.search(text)
    assert names(results) == hits
    assert [(n.code, n.message) for n in results.notices] == notices
    assert results.query == text  # what was typed, for the search box
    # Exactly the strict search of what the query was read as.
    tree, _ = q.parse_lenient(text)
    read = shared_engine.search(q.to_string(tree), strict=True)
    assert (results.total, results.hits, results.facets) == (read.total, read.hits, read.facets)
    assert read.notices == ()


def test_a_valid_query_has_no_notices(shared_engine: Engine) -> None:
    for text in ("", "lander", '"mars lander" -drill', "title:(mars OR moon)", "la*"):
        strict, lenient = shared_engine.search(text, strict=True), shared_engine.search(text)
        assert lenient.notices == ()
        assert (lenient.query, lenient.total, lenient.hits) == (text, strict.total, strict.hits)


def test_suggestion_and_highlights_for_a_query_read_leniently(shared_engine: Engine) -> None:
    results = shared_engine.search("heatwve (records")
    assert [(n.code, n.message) for n in results.notices] == [
        ("syntax", "Unclosed '(' at position 8: closed it at the end of the query.")
    ]
    assert names(results) == ["heatwave", "election"]
    # The suggestion corrects what was searched, so it runs as it reads.
    assert results.suggestion == "heatwave records"
    assert shared_engine.search(results.suggestion).notices == ()
    assert results.hits[0].highlights["title"] == (
        "Heatwave breaks <mark>records</mark> across Europe"
    )
    results = shared_engine.search('"mars lander')
    assert results.hits[0].highlights == {
        "title": "<mark>Mars</mark> <mark>lander</mark> touches down safely",
        "excerpt": "The Ardent <mark>lander</mark> sent its first images from the surface of "
                   "<mark>Mars</mark>.",
    }
    code, message = unclosed_quote(0)
    assert results.to_dict()["notices"] == [{"code": code, "message": message}]


def test_suggestion_for_a_misspelled_word(shared_engine: Engine) -> None:
    assert shared_engine.search("facial recogniton").suggestion == "facial recognition"
    assert shared_engine.search("heatwve").suggestion == "heatwave"
    assert shared_engine.search("Mars landr").suggestion == "Mars lander"
    assert shared_engine.search("heatwave").suggestion is None
    assert shared_engine.search("qqqqzzzz").suggestion is None


def test_similar(shared_engine: Engine) -> None:
    results = shared_engine.similar(IDS["court"], limit=3)
    assert IDS["court"] not in [h.id for h in results.hits]
    assert names(results) == ["china-limits", "shenhai", "police"]
    assert set(results.to_dict()) == {
        "query", "total", "offset", "limit", "took_ms", "hits", "facets", "suggestion",
        "feedback", "relaxed", "missing", "empty_filters", "notices", "synonyms",
    }
    assert names(shared_engine.similar(IDS["mars"])) == ["descent"]
    with pytest.raises(NotFoundError, match="no document with id 'nope'"):
        shared_engine.similar("nope")


def test_get_returns_every_stored_field(shared_engine: Engine) -> None:
    data = shared_engine.get(IDS["court"]).to_dict()
    assert data["path"].endswith("a1-court-facial-recognition.md")
    del data["path"]
    assert data == {
        "rank": 0, "id": IDS["court"], "kind": "article", "score": None,
        "title": "Court limits facial recognition in shops",
        "excerpt": "The supreme court ruled that shops need consent before scanning faces.",
        "url": "https://jurist.example/2026/09/court-facial-recognition/",
        "provider": "Jurist", "published": "2026-09-01T10:00:00Z", "topics": ["AI", "Privacy"],
        "parents": [], "quality": 80, "highlights": {}, "body": "",
        "provider_domain": "jurist.example",
        "related": [IDS["china-limits"], IDS["police"]],
        "extra": {"type": "article", "heat": 12},
    }
    with pytest.raises(NotFoundError):
        shared_engine.get("missing")
