"""Freshness (``freshness="7d"``): the duration parser, the decay and its bound, the exact
top-k under the decay, in the library, CLI and HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import NAMES, names
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from test_cli import run

from searchlib import Engine
from searchlib.errors import UsageError
from searchlib.freshness import FRESHNESS_FLOOR, MAX_DURATION, UNITS, Decay, parse_duration
from searchlib.http import create_app
from searchlib.searching.pipeline import rerank

# -- durations -------------------------------------------------------------------------------


def test_durations() -> None:
    assert parse_duration("7d", "freshness") == timedelta(days=7)
    assert parse_duration("12h", "freshness") == timedelta(hours=12)
    assert parse_duration(" 2w ", "freshness") == timedelta(weeks=2)
    assert parse_duration("90m", "freshness") == timedelta(minutes=90)
    assert parse_duration("1.5d", "freshness") == timedelta(hours=36)
    assert parse_duration("30s", "freshness") == timedelta(seconds=30)
    assert parse_duration(timedelta(hours=3), "freshness") == timedelta(hours=3)


@pytest.mark.parametrize(("value", "message"), [
    ("7", "freshness must be a duration like 12h, 7d or 2w (units s, m, h, d, w), not '7'"),
    ("7 days", "freshness must be a duration like 12h, 7d or 2w (units s, m, h, d, w), "
               "not '7 days'"),
    ("-1d", "freshness must be a duration like 12h, 7d or 2w (units s, m, h, d, w), "
            "not '-1d'"),
    ("0d", "freshness must be longer than 0, not '0d'"),
    ("0.0000001s", "freshness must be longer than 0, not '0.0000001s'"),
    ("999999999w", "freshness must be at most 365,000d, not '999999999w'"),
    (7, "freshness must be a duration like 12h, 7d or 2w (units s, m, h, d, w), not 7"),
])
def test_bad_durations(value: Any, message: str) -> None:
    with pytest.raises(UsageError) as error:
        parse_duration(value, "freshness")
    assert str(error.value) == message


@given(number=st.integers(1, 10**6), unit=st.sampled_from(sorted(UNITS)))
def test_any_whole_duration_parses_exactly(number: int, unit: str) -> None:
    seconds = number * UNITS[unit]
    if seconds > MAX_DURATION.total_seconds():
        with pytest.raises(UsageError):
            parse_duration(f"{number}{unit}", "freshness")
    else:
        assert parse_duration(f"{number}{unit}", "freshness") == timedelta(seconds=seconds)


@given(text=st.text(max_size=30))
def test_any_text_is_a_positive_duration_or_a_one_line_error(text: str) -> None:
    try:
        duration = parse_duration(text, "freshness")
    except UsageError as error:
        assert str(error).startswith("freshness must be ")
        assert "\n" not in str(error)
    else:
        assert timedelta(0) < duration <= MAX_DURATION


# -- the decay and its bound -----------------------------------------------------------------

ANCHOR = datetime(2026, 10, 8, tzinfo=UTC)


def test_decay_arithmetic() -> None:
    decay = Decay(timedelta(days=7), ANCHOR)
    assert decay(ANCHOR) == 1.0
    assert decay(ANCHOR + timedelta(days=3)) == 1.0  # newer than the anchor: age 0
    assert decay(ANCHOR - timedelta(days=7)) == 0.75  # one duration: half of the half
    assert decay(ANCHOR - timedelta(days=14)) == 0.625
    assert decay(ANCHOR - timedelta(days=21)) == 0.5625
    assert decay(ANCHOR - timedelta(hours=84)) == pytest.approx(0.5 + 0.5 * 2**-0.5)
    assert decay(None) == FRESHNESS_FLOOR == 0.5  # undated: the floor
    assert decay(datetime(1900, 1, 1, tzinfo=UTC)) == 0.5  # the floor, never below


@settings(max_examples=200)
@given(
    days=st.floats(0, 10_000), hours=st.floats(1 / 3600, 24 * 365 * 10),
)
def test_decay_stays_within_its_bound(days: float, hours: float) -> None:
    decay = Decay(timedelta(hours=hours), ANCHOR)
    value = decay(ANCHOR - timedelta(days=days))
    assert 0.5 <= value <= 1.0
    # So a match with more than twice the relevance is never passed by a newer one.
    assert 2.01 * value > 1.0 * decay(ANCHOR)


# -- searches --------------------------------------------------------------------------------


def scores(results: Any) -> list[tuple[str, float]]:
    return [(NAMES[hit.id], hit.score) for hit in results.hits]


def test_relevance_times_decay(shared_engine: Engine) -> None:
    plain = {NAMES[h.id]: h for h in shared_engine.search("cameras").hits}
    assert list(plain) == ["police", "flaw", "court"]
    fresh = shared_engine.search("cameras", freshness="7d", freshness_from="2026-10-31")
    decay = Decay(timedelta(days=7), datetime(2026, 10, 31, tzinfo=UTC))
    # The camera flaw (2026-10-31 23:59:59, after the anchor: 1.0) passes the police article
    # (2026-09-05: 55.5 days, 0.502); the court article stays last.
    assert names(fresh) == ["flaw", "police", "court"]
    for name, score in scores(fresh):
        expected = plain[name].score * decay(plain[name].published)  # type: ignore[operator]
        assert score == pytest.approx(expected, rel=1e-9)
    assert decay(plain["police"].published) == pytest.approx(0.5 + 0.5 * 2 ** (-55.5 / 7))


def test_an_old_strong_match_beats_a_fresh_weak_one(shared_engine: Engine) -> None:
    # The court article (2026-09-01) has over twice the relevance of the solar one
    # (2026-10-01): however steep the decay, it stays above it.
    plain = shared_engine.search("court OR mars OR heatwave")
    assert names(plain) == ["mars", "court", "heatwave", "grid", "solar"]
    for freshness in ("1s", "1h", "7d", "52w"):
        fresh = shared_engine.search(
            "court OR mars OR heatwave", freshness=freshness, freshness_from="newest",
        )
        order = names(fresh)
        assert order.index("court") < order.index("solar"), freshness
        assert order.index("court") < order.index("grid"), freshness
    # A decay of a few days lets the fresher of two close matches through.
    fresh = shared_engine.search("court OR mars OR heatwave", freshness="3d",
                                 freshness_from="2026-10-01")
    assert names(fresh) == ["mars", "court", "solar", "grid", "heatwave"]


def test_anchors(shared_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    newest = shared_engine.search("cameras", freshness="7d", freshness_from="newest")
    moment = shared_engine.search("cameras", freshness="7d",
                                  freshness_from="2026-10-31T23:59:59Z")
    assert scores(newest) == scores(moment)
    # "now" is the moment of the search.
    monkeypatch.setattr("searchlib.searching.pipeline.now",
                        lambda: datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC))
    assert scores(shared_engine.search("cameras", freshness="7d")) == scores(moment)
    monkeypatch.setattr("searchlib.searching.pipeline.now",
                        lambda: datetime(2027, 10, 31, tzinfo=UTC))
    # A year later every fixture document is at the floor: relevance order again.
    assert names(shared_engine.search("cameras", freshness="7d")) == ["police", "flaw", "court"]


@pytest.mark.parametrize("first", [1, 2, 3, 100])
def test_the_page_is_the_exact_top_k(engine: Engine, first: int) -> None:
    # Candidates fetched one at a time at first, doubling: every window equals the ranking of
    # all matches by relevance x decay.
    engine.pipeline.fresh_first = first
    for text in ("cameras", "court OR mars OR heatwave", "facial OR lander OR rates", "-zebra"):
        everything = engine.search(text, limit=100)
        for freshness, anchor in (("1d", "newest"), ("7d", "2026-09-15"), ("30d", "newest")):
            decay = Decay(parse_duration(freshness, "freshness"),
                          datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC) if anchor == "newest"
                          else datetime(2026, 9, 15, tzinfo=UTC))
            records = [(engine.backend.get(h.id), h.score) for h in everything.hits]
            expected = [(r.id, s) for r, s in rerank(records, decay)]  # type: ignore[union-attr]
            for offset, limit in ((0, 1), (0, 3), (1, 2), (2, 10), (4, 1)):
                results = engine.search(text, freshness=freshness, freshness_from=anchor,
                                        offset=offset, limit=limit)
                assert results.total == everything.total
                got = [(h.id, h.score) for h in results.hits]
                assert [i for i, _ in got] == [i for i, _ in expected[offset : offset + limit]]
                for (_, a), (_, b) in zip(got, expected[offset : offset + limit], strict=True):
                    assert a == pytest.approx(b, rel=1e-12)


def test_with_stories_and_timeline(shared_engine: Engine) -> None:
    results = shared_engine.search("cameras OR heatwave", freshness="7d",
                                   freshness_from="newest", collapse="story", timeline="month")
    assert [(NAMES[h.id], NAMES[h.coverage.story]) for h in results.hits] == [  # type: ignore[union-attr]
        ("flaw", "flaw"), ("police", "police"), ("heatwave", "heatwave"), ("grid", "solar"),
        ("court", "court"),
    ]
    assert results.total_stories == 5
    assert [(v.value, v.count) for v in results.facets["published"].values] == [
        ("2026-09", 4), ("2026-10", 2),
    ]


def test_validation(shared_engine: Engine) -> None:
    cases = [
        ({"freshness": "7d", "sort": "newest"},
         "freshness changes the ranking by relevance: not with sort 'newest'"),
        ({"freshness_from": "newest"}, "freshness_from needs freshness (a duration like 7d)"),
        ({"freshness": "7d", "freshness_from": "yesterday"},
         "freshness_from must be now, newest or a date like 2026-09-30 or "
         "2026-09-30T12:00:00Z, not 'yesterday'"),
        ({"freshness": "week"}, "freshness must be a duration like 12h, 7d or 2w (units s, m, "
                                "h, d, w), not 'week'"),
    ]
    for options, message in cases:
        with pytest.raises(UsageError) as error:
            shared_engine.search("cameras", **options)
        assert str(error.value) == message
    # Off by default, and "now" needs no freshness.
    assert names(shared_engine.search("cameras", freshness_from="now")) == [
        "police", "flaw", "court",
    ]


def test_cli_freshness(index_dir: Path, news_dir: Path) -> None:
    assert run("index", str(news_dir), "--index", str(index_dir), "--quiet")[0] == 0
    code, out, err = run("query", "cameras", "--index", str(index_dir), "--freshness", "7d",
                         "--freshness-from", "newest", "--json")
    assert (code, err) == (0, "")
    assert [NAMES[h["id"]] for h in json.loads(out)["hits"]] == [
        "flaw", "police", "court",
    ]
    code, out, err = run("query", "cameras", "--index", str(index_dir), "--freshness", "7")
    assert (code, out) == (2, "")
    assert err == (
        "Error: freshness must be a duration like 12h, 7d or 2w (units s, m, h, d, w), "
        "not '7'\n"
    )


def test_http_freshness(shared_engine: Engine) -> None:
    with TestClient(create_app(shared_engine)) as client:
        data = client.get("/search?q=cameras&freshness=7d&freshness_from=newest").json()
        assert [NAMES[h["id"]] for h in data["hits"]] == ["flaw", "police", "court"]
        response = client.get("/search?q=cameras&freshness=7d&sort=oldest")
        assert response.status_code == 422
        assert response.json()["error"]["message"] == (
            "freshness changes the ranking by relevance: not with sort 'oldest'"
        )
