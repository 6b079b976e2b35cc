"""Ranking defaults on the bundled sample corpus: what a newsroom expects to come first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from searchlib import Engine
from searchlib.cli import sample_corpus
from searchlib.documents import parse_file


@pytest.fixture(scope="module")
def sample_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with Engine(tmp_path_factory.mktemp("sample") / "index") as engine:
        engine.index([sample_corpus()])
        yield engine


ARTICLES = sorted(sample_corpus().glob("*.md"))


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.stem)
def test_exact_title_comes_first(sample_engine: Engine, path: Path) -> None:
    article = parse_file(path)
    top = sample_engine.search(article.title, limit=1).hits
    assert [hit.id for hit in top] == [article.id], article.title


def test_long_queries_rank_documents_with_every_word_first(sample_engine: Engine) -> None:
    # Five words: any word matches, but the documents with all of them come first.
    results = sample_engine.search("mars lander drill stalls sample")
    every = {"mars", "lander", "drill", "stall", "sampl"}
    first = results.hits[0]
    text = f"{first.title} {first.excerpt}".lower()
    assert results.total > 5
    assert sum(word in text for word in every) >= 3


def test_short_queries_need_every_word(sample_engine: Engine) -> None:
    results = sample_engine.search("heatwave hospital")
    assert results.total >= 1
    for hit in results.hits:
        assert "heatwave" in f"{hit.title} {hit.excerpt}".lower().replace("heat wave", "heatwave")
