"""Stories (``collapse="story"``): membership, coverage, paging, in the library, CLI and HTTP.

The fixture corpus makes nine stories of its twelve documents: the court ruling with "China
sets limits on facial recognition" (a related item that the court article and the police
article both list: the court article was published first), the solar record with "Heatwave
strains the power grid", the Mars landing with "Ardent lander prepares for descent", and six
articles on their own; the police article is listed by the court article but is an article,
so it heads a story of its own.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import IDS, NAMES
from starlette.testclient import TestClient
from test_cli import run

from searchlib import Engine
from searchlib.errors import UsageError
from searchlib.http import create_app
from searchlib.records import Record
from searchlib.searching.stories import story_of


def stories(results: Any) -> list[tuple[int, str, str, int, int, list[str]]]:
    """(rank, hit, story, documents, providers, other documents) of each hit, by short name."""
    return [
        (hit.rank, NAMES[hit.id], NAMES[hit.coverage.story], hit.coverage.documents,
         hit.coverage.providers, [NAMES[item.id] for item in hit.coverage.top])
        for hit in results.hits
    ]


NEWEST = [
    (1, "flaw", "flaw", 1, 1, []), (2, "rates", "rates", 1, 1, []),
    (3, "mars", "mars", 2, 1, ["descent"]), (4, "shenhai", "shenhai", 1, 1, []),
    (5, "solar", "solar", 2, 2, ["grid"]), (6, "election", "election", 1, 1, []),
    (7, "heatwave", "heatwave", 1, 1, []), (8, "police", "police", 1, 1, []),
    (9, "court", "court", 2, 2, ["china-limits"]),
]


def test_every_story_once_as_its_best_hit(shared_engine: Engine) -> None:
    results = shared_engine.search("", sort="newest", collapse="story", limit=20)
    assert (results.total, results.total_stories) == (12, 9)
    assert stories(results) == NEWEST
    # Facets still count documents.
    assert results.to_dict()["facets"]["kind"]["values"] == [
        {"value": "article", "count": 9, "selected": False},
        {"value": "related", "count": 3, "selected": False},
    ]


def test_pages_count_stories(shared_engine: Engine) -> None:
    for offset, limit in ((0, 4), (2, 3), (8, 5), (9, 5)):
        results = shared_engine.search(
            "", sort="newest", collapse="story", offset=offset, limit=limit
        )
        assert (results.total, results.total_stories) == (12, 9)
        assert stories(results) == NEWEST[offset : offset + limit]


def test_a_related_item_can_be_the_best_hit(shared_engine: Engine) -> None:
    results = shared_engine.search("heatwave", collapse="story")
    assert (results.total, results.total_stories) == (3, 2)
    assert stories(results) == [
        (1, "heatwave", "heatwave", 1, 1, []), (2, "grid", "solar", 2, 2, ["solar"]),
    ]
    assert results.to_dict()["hits"][1]["coverage"] == {
        "story": IDS["solar"], "documents": 2, "providers": 2, "top": [{
            "id": IDS["solar"], "kind": "article",
            "title": "Solar power output hits new high during heatwave",
            "url": "https://energywire.example/solar-record", "provider": "Energy Wire",
            "published": "2026-10-01T09:00:00Z",
        }],
    }


def test_coverage_counts_the_matches_under_the_filters(shared_engine: Engine) -> None:
    results = shared_engine.search("facial", sort="newest", collapse="story")
    assert (results.total, results.total_stories) == (3, 2)
    assert stories(results) == [
        (1, "police", "police", 1, 1, []), (2, "court", "court", 2, 2, ["china-limits"]),
    ]
    # Only the related item passes the filter: its story is the court's, covered once.
    results = shared_engine.search("facial", kind="related", collapse="story")
    assert (results.total, results.total_stories) == (1, 1)
    assert stories(results) == [(1, "china-limits", "court", 1, 1, [])]
    nothing = shared_engine.search("zebra quagga", match="all", collapse="story")
    assert (nothing.total, nothing.total_stories, nothing.hits) == (0, 0, ())


def test_membership_rule() -> None:
    def record(doc_id: str, kind: str, parents: tuple[str, ...] = ()) -> Record:
        return Record(doc_id, kind, "", "", "", "", None, None, parents=parents)

    dates = {
        "a": datetime(2026, 9, 5, tzinfo=UTC), "b": datetime(2026, 9, 1, tzinfo=UTC),
        "c": datetime(2026, 9, 1, tzinfo=UTC), "undated": None,
    }
    asked: list[str] = []

    def published(doc_id: str) -> datetime | None:
        asked.append(doc_id)
        return dates.get(doc_id)

    assert story_of(record("a", "article"), published) == "a"
    assert story_of(record("r", "related", ("a",)), published) == "a"
    assert asked == []  # one parent: no date needed
    assert story_of(record("r", "related", ("a", "b")), published) == "b"  # earliest
    assert story_of(record("r", "related", ("c", "b", "a")), published) == "b"  # then by id
    assert story_of(record("r", "related", ("undated", "a")), published) == "a"
    assert story_of(record("r", "related", ("gone", "undated")), published) == "gone"
    assert story_of(record("r", "related"), published) == "r"  # no parent left: its own


def test_only_when_asked(shared_engine: Engine) -> None:
    data = shared_engine.search("facial").to_dict()
    assert "total_stories" not in data
    assert all("coverage" not in hit for hit in data["hits"])
    with pytest.raises(UsageError) as error:
        shared_engine.search("facial", collapse="provider")
    assert str(error.value) == "unknown collapse 'provider': choose story (or none)"


def test_cli_collapse(index_dir: Path, news_dir: Path) -> None:
    assert run("index", str(news_dir), "--index", str(index_dir), "--quiet")[0] == 0
    code, out, err = run("query", "heatwave", "--index", str(index_dir), "--collapse",
                         "--limit", "2")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("3 results in 2 stories, showing 1-2 (")
    assert lines[6:12] == [
        "  2. Heatwave strains the power grid",
        f"     Grid News · 2026-09-29 · Climate, Energy · related  [{IDS['grid']}]",
        "     Operators warned of rolling blackouts as air conditioning demand soared.",
        '     Story: 2 documents from 2 providers; also Energy Wire: "Solar power output',
        '       hits new high during heatwave"',
        "",
    ]
    # A flag: the words after it are the query's, wherever it stands.
    code, out, err = run("query", "--collapse", "heatwave", "--index", str(index_dir), "--json")
    assert code == 0
    assert [hit["id"] for hit in json.loads(out)["hits"]] == [
        IDS["heatwave"], IDS["grid"],
    ]


def test_http_collapse(shared_engine: Engine) -> None:
    with TestClient(create_app(shared_engine)) as client:
        data = client.get("/search?q=heatwave&collapse=story").json()
        expected = shared_engine.search("heatwave", collapse="story").to_dict()
        data.pop("took_ms"), expected.pop("took_ms")
        assert data == expected
        assert list(data)[:3] == ["query", "total", "total_stories"]
        response = client.get("/search?collapse=topic")
        assert response.status_code == 422
        assert response.json()["error"]["message"] == (
            "unknown collapse 'topic': choose story (or none)"
        )


QUERIES = ["", "facial", "heatwave", "cameras OR heatwave", "-zebra", "facial OR lander",
           "kind:related"]


@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest", "quality"])
def test_collapsing_is_grouping_the_full_ranking(shared_engine: Engine, sort: str) -> None:
    # Whatever the query, order and window: the stories are the uncollapsed ranking grouped
    # by story, in the order of each story's first hit, and the window slices them.
    def story(hit: Any) -> str:
        if hit.kind == "related" and hit.id != IDS["china-limits"]:
            return str(hit.parents[0])
        return IDS["court"] if hit.id == IDS["china-limits"] else str(hit.id)

    for text in QUERIES:
        everything = shared_engine.search(text, sort=sort, limit=100)  # type: ignore[arg-type]
        grouped: dict[str, list[str]] = {}
        for hit in everything.hits:
            grouped.setdefault(story(hit), []).append(hit.id)
        for offset, limit in ((0, 10), (1, 2), (3, 3), (20, 5)):
            results = shared_engine.search(text, sort=sort, collapse="story",  # type: ignore[arg-type]
                                           offset=offset, limit=limit)
            assert (results.total, results.total_stories) == (everything.total, len(grouped))
            expected = list(grouped.items())[offset : offset + limit]
            assert [
                (hit.coverage.story, [hit.id, *(i.id for i in hit.coverage.top)],
                 hit.coverage.documents)
                for hit in results.hits
            ] == [(key, members[:4], len(members)) for key, members in expected], (text, sort)
