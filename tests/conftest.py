"""Shared fixtures: a small news corpus written for these tests, copied and indexed per test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from searchlib import Engine
from searchlib.documents import make_id, normalize_url

FIXTURES = Path(__file__).parent / "fixtures"
NEWS = FIXTURES / "news"
#: The folder of the real-world corpora: ``SEARCHLIB_TEST_CORPORA``, or ``../shared/corpora``
#: beside the repository.
CORPORA = Path(
    os.environ.get("SEARCHLIB_TEST_CORPORA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
).expanduser()
CORPUS = CORPORA / "coronavirus-news"
#: The judged test collections (TIME, CACM, CISI): ``SEARCHLIB_TEST_RELEVANCE``, or
#: ``relevance`` beside the corpora folder.
RELEVANCE = Path(
    os.environ.get("SEARCHLIB_TEST_RELEVANCE") or CORPORA.parent / "relevance"
).expanduser()


def doc_id(url: str) -> str:
    """The id searchlib gives the document at ``url``."""
    return make_id(normalize_url(url))


# Ids of the fixture documents, by a short name.
IDS = {
    "court": doc_id("https://jurist.example/2026/09/court-facial-recognition/"),
    "police": doc_id("https://metrodaily.example/police-cameras"),
    "heatwave": doc_id("https://weatherdesk.example/heatwave-records"),
    "solar": doc_id("https://energywire.example/solar-record"),
    "shenhai": doc_id("https://jurist.example/2026/10/shenhai-gates/"),
    "mars": doc_id("https://spacetoday.example/ardent-touchdown"),
    "rates": doc_id("https://moneytimes.example/rates-up"),
    "flaw": doc_id("https://metrodaily.example/camera-flaw"),
    "election": doc_id("https://tidewater.example/veloria-election"),
    # related items
    "china-limits": doc_id("https://technode.example/face-limits"),
    "grid": doc_id("https://gridnews.example/heatwave-grid"),
    "descent": doc_id("https://spacetoday.example/ardent-descent"),
}
NAMES = {v: k for k, v in IDS.items()}


def names(results: object) -> list[str]:
    """Short names of the hits of a result, in rank order."""
    return [NAMES.get(h.id, h.id) for h in results.hits]  # type: ignore[attr-defined]


@pytest.fixture
def news_dir(tmp_path: Path) -> Path:
    """A private copy of the fixture corpus that a test may change."""
    target = tmp_path / "news"
    shutil.copytree(NEWS, target)
    return target


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    """An index folder inside the test's temp dir (never the project's index/)."""
    return tmp_path / "index"


@pytest.fixture
def engine(news_dir: Path, index_dir: Path) -> Iterator[Engine]:
    """An engine over the fixture corpus, indexed."""
    with Engine(index_dir) as eng:
        eng.index([news_dir])
        yield eng


@pytest.fixture(scope="session")
def shared_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One read-only indexed engine for the many search tests (faster than one per test)."""
    index = tmp_path_factory.mktemp("shared") / "index"
    with Engine(index) as eng:
        eng.index([NEWS])
        yield eng


def needs_corpus() -> pytest.MarkDecorator:
    """Skip a test when the real-world corpus is not in :data:`CORPORA`."""
    return pytest.mark.skipif(
        not CORPUS.is_dir(),
        reason=f"needs the real corpus at {CORPUS} (set SEARCHLIB_TEST_CORPORA)",
    )


@pytest.fixture(scope="session")
def typesense_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real three-node Typesense cluster on loopback for the whole session, the backend's
    environment pointing at it; stopped by PID at the end (also when tests fail).

    Skipped where the server binary cannot run (it is built for Linux x86-64 only).
    """
    from searchlib.backends.typesense_cluster import LocalCluster, unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    cluster = LocalCluster(tmp_path_factory.mktemp("typesense-cluster"), nodes=3)
    cluster.start()
    saved = {k: os.environ.get(k) for k in ("SEARCHLIB_TYPESENSE_NODES",
                                            "SEARCHLIB_TYPESENSE_API_KEY")}
    os.environ["SEARCHLIB_TYPESENSE_NODES"] = ",".join(cluster.urls)
    os.environ["SEARCHLIB_TYPESENSE_API_KEY"] = cluster.api_key
    try:
        yield cluster
    finally:
        cluster.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
