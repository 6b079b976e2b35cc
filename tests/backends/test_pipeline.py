"""The whole search pipeline over every engine: ``Engine`` on each backend against the reference.

The same fixture corpus is indexed through ``Engine`` into each installed backend and into the
in-memory reference; every search below must give the same total, the same hits (as a set,
and in the same order where the order is by date or quality), the same facets, and the same
notes for the user (relaxed, missing words, emptied filters, notices). Exact score order is
each engine's own business (``test_whoosh.py`` and the ranking tests).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import IDS, NEWS

from searchlib import Engine
from searchlib.backends import available

OTHERS = [name for name in available() if name != "memory"]

QUERIES = [
    "", "facial recognition", '"facial recognition"', "heatwave OR drought", "mars -drill",
    "lander", "recog*", "lander~", "title:heatwave", "provider:jurist", "kind:related",
    "heatwave zebra", "zebra quagga", "covid-19", "人脸识别", "-solar", "(mars OR moon) lander",
    "court ruling on police cameras and face matching", '"mars', "a OR",
]
FILTERS: list[dict[str, Any]] = [
    {}, {"topics": ["AI"]}, {"topics": ["ai", "space"]}, {"providers": ["Jurist"]},
    {"providers": ["metro daily"], "topics": ["Security"]}, {"kind": "related"},
    {"since": "2026-10"}, {"until": "2026-09-15"}, {"topics": ["Space"], "providers": ["Jurist"]},
]
SORTS = ["relevance", "newest", "oldest", "quality"]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the fixture corpus that every engine indexes (so paths agree too)."""
    folder = tmp_path_factory.mktemp("source") / "news"
    shutil.copytree(NEWS, folder)
    return folder


@pytest.fixture(scope="module")
def reference(source: Path) -> Iterator[Engine]:
    engine = Engine.in_memory()
    engine.index([source])
    yield engine
    engine.close()


@pytest.fixture(scope="module", params=OTHERS or ["none"])
def other(
    request: pytest.FixtureRequest, source: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "none":
        pytest.skip("no backend other than memory is installed")
    engine = Engine(tmp_path_factory.mktemp(request.param) / "index", backend=request.param)
    engine.index([source])
    yield engine
    engine.close()


def _comparable(results: Any, *, ordered: bool) -> dict[str, Any]:
    data = results.to_dict()
    data.pop("took_ms")
    hits = [hit["id"] for hit in data.pop("hits")]
    data["hits"] = hits if ordered else sorted(hits)
    data.pop("feedback")  # the added words come from the top documents: a ranking matter
    return data


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "none")
def test_search_agrees_with_the_reference(
    reference: Engine, other: Engine, text: str, filters: dict[str, Any]
) -> None:
    for sort in SORTS:
        options = {**filters, "sort": sort, "limit": 50, "feedback": "off"}
        ordered = sort != "relevance"
        expected = _comparable(reference.search(text, **options), ordered=ordered)
        assert _comparable(other.search(text, **options), ordered=ordered) == expected


@pytest.mark.parametrize("name", ["topic", "provider", "kind"])
@pytest.mark.parametrize("text", QUERIES[:8])
def test_facet_agrees_with_the_reference(
    reference: Engine, other: Engine, name: str, text: str
) -> None:
    options = {"topics": ["AI"], "feedback": "off"}
    assert other.facet(name, text, **options) == reference.facet(name, text, **options)


def test_similar_and_get_agree(reference: Engine, other: Engine) -> None:
    for key in ("court", "mars", "heatwave", "china-limits"):
        assert other.get(IDS[key]) == reference.get(IDS[key])
        mine = other.similar(IDS[key], limit=50)
        theirs = reference.similar(IDS[key], limit=50)
        assert (mine.total, {h.id for h in mine.hits}) == (
            theirs.total, {h.id for h in theirs.hits}
        )
    ours, theirs_stats = other.stats().to_dict(), reference.stats().to_dict()
    assert (ours["backend"], theirs_stats["backend"]) == (other.backend_name, "memory")
    same = {"path": "", "size_bytes": 0, "backend": ""}
    assert ours | same == theirs_stats | same


def test_in_memory_engine_is_a_full_engine(reference: Engine) -> None:
    results = reference.search("facial recognition", topics=["privacy"])
    assert sorted(h.id for h in results.hits) == sorted([IDS["court"], IDS["china-limits"]])
    assert results.hits[0].highlights["title"].count("<mark>") >= 1
    assert reference.search("heatwve").suggestion == "heatwave"
    assert reference.stats().path == ":memory:"
