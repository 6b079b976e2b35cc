"""The timeline: a date histogram of the matches (``timeline=``) in the library, CLI and HTTP.

Exact buckets on the fixture corpus, whose twelve documents are all dated: from 2026-08-30
(the related item "China sets limits ...") to 2026-10-31 (the camera flaw), 63 days, so
``auto`` counts by week.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from test_cli import run

from searchlib import Engine
from searchlib.errors import UsageError
from searchlib.http import create_app

WEEKS = [  # (Monday, count) of every week from the first match's to the last's
    ("2026-08-24", 1), ("2026-08-31", 2), ("2026-09-07", 1), ("2026-09-14", 1),
    ("2026-09-21", 0), ("2026-09-28", 3), ("2026-10-05", 0), ("2026-10-12", 2),
    ("2026-10-19", 1), ("2026-10-26", 1),
]


def bucket(
    value: str, count: int, since: str, until: str, selected: bool = False
) -> dict[str, Any]:
    return {"value": value, "count": count, "selected": selected, "since": since, "until": until}


def week(monday: str, count: int, sunday: str, selected: bool = False) -> dict[str, Any]:
    return bucket(monday, count, monday, sunday, selected)


def timeline(engine: Engine, text: str = "", **kwargs: Any) -> dict[str, Any]:
    facet: dict[str, Any] = engine.search(text, limit=0, **kwargs).to_dict()["facets"]["published"]
    return facet


def test_auto_chooses_weeks_from_the_span_of_the_matches(shared_engine: Engine) -> None:
    assert timeline(shared_engine, timeline="auto") == {
        "interval": "week", "truncated": False, "values": [
            week("2026-08-24", 1, "2026-08-30"), week("2026-08-31", 2, "2026-09-06"),
            week("2026-09-07", 1, "2026-09-13"), week("2026-09-14", 1, "2026-09-20"),
            week("2026-09-21", 0, "2026-09-27"), week("2026-09-28", 3, "2026-10-04"),
            week("2026-10-05", 0, "2026-10-11"), week("2026-10-12", 2, "2026-10-18"),
            week("2026-10-19", 1, "2026-10-25"), week("2026-10-26", 1, "2026-11-01"),
        ],
    }


def test_months_and_days_when_asked(shared_engine: Engine) -> None:
    assert timeline(shared_engine, timeline="month") == {
        "interval": "month", "truncated": False, "values": [
            bucket("2026-08", 1, "2026-08-01", "2026-08-31"),
            bucket("2026-09", 5, "2026-09-01", "2026-09-30"),
            bucket("2026-10", 6, "2026-10-01", "2026-10-31"),
        ],
    }
    days = timeline(shared_engine, "facial", timeline="auto")  # 2026-08-30 .. 2026-09-05: days
    assert days == {"interval": "day", "truncated": False, "values": [
        bucket("2026-08-30", 1, "2026-08-30", "2026-08-30"),
        bucket("2026-08-31", 0, "2026-08-31", "2026-08-31"),
        bucket("2026-09-01", 1, "2026-09-01", "2026-09-01"),
        bucket("2026-09-02", 0, "2026-09-02", "2026-09-02"),
        bucket("2026-09-03", 0, "2026-09-03", "2026-09-03"),
        bucket("2026-09-04", 0, "2026-09-04", "2026-09-04"),
        bucket("2026-09-05", 1, "2026-09-05", "2026-09-05"),
    ]}


def test_buckets_sum_to_the_dated_matches(shared_engine: Engine) -> None:
    for text in ("", "facial", "heatwave", "lander OR rates"):
        results = shared_engine.search(text, limit=0, timeline="week")
        published = results.facets["published"]
        assert sum(value.count for value in published.values) == results.total, text
    everything = shared_engine.search("", limit=0, timeline="week").facets["published"]
    assert [(v.value, v.count) for v in everything.values] == WEEKS


def test_counted_like_a_facet_disjunctive_with_the_dates(shared_engine: Engine) -> None:
    # The date filter narrows the hits, not the timeline; the bucket it covers is selected.
    results = shared_engine.search(
        "", since="2026-09-28", until="2026-10-04", timeline="week", limit=10,
    )
    assert results.total == 3
    facet = results.to_dict()["facets"]["published"]
    assert [(v["value"], v["count"], v["selected"]) for v in facet["values"]] == [
        (monday, count, monday == "2026-09-28") for monday, count in WEEKS
    ]
    # Other filters do narrow it.
    assert timeline(shared_engine, topics=["Space"], timeline="month")["values"] == [
        bucket("2026-10", 2, "2026-10-01", "2026-10-31"),
    ]
    # No match: no buckets.
    assert timeline(shared_engine, "zebra", timeline="auto") == {
        "interval": None, "truncated": False, "values": [],
    }


def test_only_when_asked(shared_engine: Engine) -> None:
    assert set(shared_engine.search("").to_dict()["facets"]) == {"topic", "provider", "kind"}
    with pytest.raises(UsageError) as error:
        shared_engine.search("", timeline="year")  # type: ignore[arg-type]
    assert str(error.value) == "unknown timeline 'year': choose one of auto, day, week, month"


def test_cli_draws_a_bar_chart(index_dir: Path, news_dir: Path) -> None:
    assert run("index", str(news_dir), "--index", str(index_dir), "--quiet")[0] == 0
    code, out, err = run(
        "query", "--index", str(index_dir), "--limit", "0", "--timeline", "auto",
        "--since", "2026-09-28", "--until", "2026-10-04",
    )
    assert (code, err) == (0, "")
    chart = out[out.index("published by week:"):]
    assert chart == (
        "published by week:\n"
        "  2026-08-24  █████████████▍ 1\n"
        "  2026-08-31  ██████████████████████████▋ 2\n"
        "  2026-09-07  █████████████▍ 1\n"
        "  2026-09-14  █████████████▍ 1\n"
        "  2026-09-21   0\n"
        "* 2026-09-28  ████████████████████████████████████████ 3\n"
        "  2026-10-05   0\n"
        "  2026-10-12  ██████████████████████████▋ 2\n"
        "  2026-10-19  █████████████▍ 1\n"
        "  2026-10-26  █████████████▍ 1\n"
    )
    code, out, err = run("query", "--index", str(index_dir), "--timeline", "year")
    assert code == 2
    assert "Invalid value for '--timeline': 'year' is not one of 'auto', 'day', 'week', " \
           "'month'." in err


def test_http_timeline_and_its_error(shared_engine: Engine) -> None:
    with TestClient(create_app(shared_engine)) as client:
        data = client.get("/search?timeline=month&limit=0").json()
        assert data["facets"]["published"] == timeline(shared_engine, timeline="month")
        assert "published" not in client.get("/search?limit=0").json()["facets"]
        response = client.get("/search?timeline=year")
        assert response.status_code == 422
        assert response.json()["error"]["message"] == (
            "unknown timeline 'year': choose one of auto, day, week, month"
        )


@pytest.mark.parametrize("interval", ["auto", "day", "week", "month"])
def test_buckets_sum_to_the_matches_without_the_date_filter(
    shared_engine: Engine, interval: str
) -> None:
    for text in ("", "facial", "heatwave OR lander", "-zebra", "kind:related"):
        for filters in ({}, {"topics": ["AI"]}, {"since": "2026-10"}, {"until": "2026-09-15"},
                        {"providers": ["Jurist"], "since": "2026-09-02"}):
            results = shared_engine.search(text, limit=0, timeline=interval, **filters)
            undated = {k: v for k, v in filters.items() if k not in ("since", "until")}
            without_dates = shared_engine.search(text, limit=0, **undated).total
            values = results.facets["published"].values
            assert sum(v.count for v in values) == without_dates, (text, filters)
            selected = sum(v.count for v in values if v.selected)
            assert selected <= results.total
