"""Synonyms on every engine: the same expansions, hits, highlights and report everywhere.

Synonyms are applied when the pipeline compiles a query, so an engine only has to evaluate the
plans they produce; this suite runs the fixture corpus through ``Engine`` on each backend
with one list of rules (equivalent words, a one-way rule, a phrase equivalent to CJK text).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import NAMES, NEWS

from searchlib import Engine

RULES = ["rover, lander", "ardent => mars", "facial recognition, 人脸识别"]


@pytest.fixture(scope="module")
def engine(backend_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The fixture corpus in ``backend_name``, with :data:`RULES`."""
    path: Path | None = None
    if backend_name != "memory":
        path = tmp_path_factory.mktemp(backend_name) / "index"
    with Engine(path, backend=backend_name) as eng:
        eng.index([NEWS])
        for rule in RULES:
            eng.add_synonyms(rule)
        yield eng


def found(engine: Engine, text: str) -> tuple[list[str], dict[str, list[str]]]:
    """The short names of every hit (sorted) and the ``synonyms`` report of a search."""
    results = engine.search(text, limit=100)
    assert results.total == len(results.hits)
    return sorted(NAMES[hit.id] for hit in results.hits), results.to_dict()["synonyms"]


@pytest.mark.parametrize(("text", "names", "report"), [
    # Equivalent words, both ways.
    ("rover", ["descent", "mars"], {"rover": ["rover", "lander"]}),
    ("lander", ["descent", "mars"], {"lander": ["rover", "lander"]}),
    ("Rover", ["descent", "mars"], {"Rover": ["rover", "lander"]}),
    ("title:rover", ["descent", "mars"], {"rover": ["rover", "lander"]}),
    # A phrase typed with or without quotes, and the CJK text it is equivalent to.
    ("facial recognition", ["china-limits", "court", "police", "shenhai"],
     {"facial recognition": ["facial recognition", "人脸识别"]}),
    ('"facial recognition"', ["china-limits", "court", "police", "shenhai"],
     {"facial recognition": ["facial recognition", "人脸识别"]}),
    ("人脸识别", ["china-limits", "court", "police", "shenhai"],
     {"人脸识别": ["facial recognition", "人脸识别"]}),
    ("facial recognition police", ["court", "police"],
     {"facial recognition": ["facial recognition", "人脸识别"]}),
    # One way: ardent is searched as mars (the related item with only "Ardent" drops out) ...
    ("ardent", ["mars"], {"ardent": ["mars"]}),
    # ... and mars is left alone.
    ("mars", ["mars"], {}),
    # Excluding a word excludes its synonyms.
    ("-rover", ["china-limits", "court", "election", "flaw", "grid", "heatwave", "police",
                "rates", "shenhai", "solar"], {"rover": ["rover", "lander"]}),
    # Facet fields take no synonyms.
    ("provider:jurist", ["court", "shenhai"], {}),
])
def test_expansion(engine: Engine, text: str, names: list[str], report: dict[str, list[str]]
                   ) -> None:
    assert found(engine, text) == (names, report)


def test_highlights_mark_the_synonym_that_matched(engine: Engine) -> None:
    results = engine.search("rover")
    assert [(NAMES[h.id], dict(h.highlights)) for h in results.hits] == [
        ("mars", {
            "title": "Mars <mark>lander</mark> touches down safely",
            "excerpt": "The Ardent <mark>lander</mark> sent its first images from the surface "
                       "of Mars.",
        }),
        ("descent", {
            "title": "Ardent <mark>lander</mark> prepares for descent",
            "excerpt": "Engineers uploaded the final landing commands.",
        }),
    ]
    shenhai = [h for h in engine.search("facial recognition").hits if NAMES[h.id] == "shenhai"]
    assert shenhai[0].highlights["title"] == "<mark>人脸识别</mark> rules tighten in Shenhai"


def test_without_synonyms_nothing_expands(backend_name: str, tmp_path: Path) -> None:
    path = None if backend_name == "memory" else tmp_path / "index"
    with Engine(path, backend=backend_name) as eng:
        eng.index([NEWS])
        assert found(eng, "rover") == ([], {})
        assert found(eng, "ardent") == (["descent", "mars"], {})
        eng.add_synonyms(["rover", "lander"])
        assert found(eng, "rover") == (["descent", "mars"], {"rover": ["rover", "lander"]})
        eng.remove_synonym("lander")
        assert found(eng, "rover") == ([], {})
