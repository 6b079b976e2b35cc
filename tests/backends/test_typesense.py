"""The Typesense backend beyond the conformance suite: choosing it, a cluster shared by two
index folders, errors that name the argument, and a short fault run (a node killed, another
stopped, during searches and an index run) against the real three-node cluster."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import NEWS

from searchlib import Engine
from searchlib.errors import SearchlibError, UsageError
from searchlib.plan import Everything, Filters
from searchlib.records import Record

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

pytest.importorskip("typesense")

from searchlib.backends.typesense import (  # noqa: E402  (after the skip)
    CONFIG_NAME,
    TypesenseBackend,
    decode,
    encode,
    parse_nodes,
)
from searchlib.backends.typesense_cluster import LocalCluster  # noqa: E402


@pytest.fixture
def cluster(typesense_cluster: LocalCluster) -> LocalCluster:
    """The session's cluster (its nodes and key are in the environment)."""
    return typesense_cluster


def test_terms_are_encoded_as_one_opaque_token() -> None:
    for term in ("covid", "人脸", "state-of-the-art", "a b", "Zürich"):
        token = encode(term)
        assert token.isalnum() and token == token.lower()
        assert decode(token) == term


def test_nodes_are_parsed_and_bad_ones_named() -> None:
    assert parse_nodes("http://h1:8108, https://h2:443") == ["http://h1:8108", "https://h2:443"]
    assert parse_nodes(["h3:8108"]) == ["http://h3:8108"]
    for bad in ("", "http://h1", "ftp://h1:8108", "http://:8108"):
        with pytest.raises(UsageError, match=r"^--nodes: "):
            parse_nodes(bad)


def test_engine_indexes_into_the_cluster_and_reads_it_back(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    with Engine(tmp_path / "index", backend="typesense", nodes=cluster.urls) as engine:
        report = engine.index([NEWS])
        assert engine.backend_name == "typesense"
        assert engine.stats().documents == 12
        assert engine.search("heatwave").total == 3
    config = json.loads((tmp_path / "index" / CONFIG_NAME).read_text(encoding="utf-8"))
    assert config["nodes"] == cluster.urls
    assert cluster.api_key not in (tmp_path / "index" / CONFIG_NAME).read_text(encoding="utf-8")
    assert report.added == 9
    with Engine(tmp_path / "index", create=False) as engine:  # recorded: opens the same
        assert engine.stats().documents == 12
        assert engine.index([NEWS]).added == 0  # the manifest says all is there


def test_a_second_folder_sharing_the_collection_sees_what_is_indexed(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    first = Engine(tmp_path / "a", backend="typesense", collection="shared_news")
    with first:
        assert first.index([NEWS]).added == 9
    # Another machine: a new folder, the same collection; the manifest comes from the cluster.
    with Engine(tmp_path / "b", backend="typesense", collection="shared_news") as second:
        report = second.index([NEWS])
        assert (report.added, report.updated, report.removed) == (0, 0, 0)
        assert second.stats().documents == 12
        second.index([NEWS], rebuild=True)  # a rebuild empties the collection first
        assert second.stats().documents == 12


def test_cli_index_and_stats_show_the_cluster(cluster: LocalCluster, tmp_path: Path) -> None:
    env = {**os.environ}
    env.pop("SEARCHLIB_TYPESENSE_NODES", None)
    index_dir = tmp_path / "cli-index"
    run = subprocess.run(
        [sys.executable, "-m", "searchlib", "index", str(NEWS), "--index", str(index_dir),
         "--backend", "typesense", "--nodes", ",".join(cluster.urls), "--quiet"],
        env=env, capture_output=True, text=True, check=False,
    )
    assert run.returncode == 0, run.stderr
    stats = subprocess.run(
        [sys.executable, "-m", "searchlib", "stats", "--index", str(index_dir)],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    assert "backend    typesense" in stats
    assert "cluster    3/3 nodes healthy" in stats


def test_cli_errors_are_one_line_naming_the_argument(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    env = {**os.environ}
    env.pop("SEARCHLIB_TYPESENSE_NODES", None)
    base = [sys.executable, "-m", "searchlib", "index", str(NEWS), "--backend", "typesense",
            "--quiet"]
    bad = subprocess.run([*base, "--index", str(tmp_path / "x"), "--nodes", "h1"],
                         env=env, capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "Error: --nodes: 'h1' is not a node address like http://host:8108"
    ]
    # Nothing listens on port 1: unreachable, said in one line, exit status 1.
    down = subprocess.run([*base, "--index", str(tmp_path / "y"), "--nodes",
                           "http://127.0.0.1:1"], env=env, capture_output=True, text=True,
                          check=False)
    assert down.returncode == 1
    lines = down.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "Error: cannot reach the Typesense cluster at http://127.0.0.1:1"
    )
    no_key = subprocess.run(
        [*base, "--index", str(tmp_path / "z"), "--nodes", cluster.urls[0]],
        env={k: v for k, v in env.items() if k != "SEARCHLIB_TYPESENSE_API_KEY"},
        capture_output=True, text=True, check=False,
    )
    assert no_key.returncode == 2
    assert "SEARCHLIB_TYPESENSE_API_KEY" in no_key.stderr


def test_missing_nodes_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEARCHLIB_TYPESENSE_NODES", raising=False)
    monkeypatch.setenv("SEARCHLIB_TYPESENSE_API_KEY", "k")
    with pytest.raises(UsageError, match="needs the cluster's nodes"):
        TypesenseBackend.create(tmp_path, "english")


@pytest.mark.slow
def test_faults_during_searches_and_indexing(tmp_path: Path) -> None:
    """A cluster of its own: SIGKILL one node, SIGSTOP another for a while, restart the first,
    while threads search and an index run writes. No search fails (the client retries other
    nodes), the run completes, and the cluster then holds exactly a clean build."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from cluster_faults import generate_corpus, run_faults
    finally:
        sys.path.remove(str(BENCHMARKS))

    corpus = tmp_path / "corpus"
    generate_corpus(corpus, 400)
    with LocalCluster(tmp_path / "cluster", nodes=3) as faulty:
        result = run_faults(faulty, corpus, tmp_path, searchers=2, stop_seconds=4.0)
    assert result["search_errors"] == 0, result
    assert result["searches"] > 50
    assert result["index_completed"]
    assert result["lost"] == 0 and result["extra"] == 0 and result["facets_equal"], result
    assert result["recovered_seconds"] is not None


def test_an_unreachable_cluster_is_one_searchlib_error(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    with pytest.raises(SearchlibError, match=r"^cannot reach the Typesense cluster at "
                                             r"http://127\.0\.0\.1:1: "):
        TypesenseBackend.create(tmp_path / "i", "english", nodes=["http://127.0.0.1:1"])


def test_an_interrupted_write_is_repaired_by_the_next_run(
    cluster: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that dies after some imports (its process killed, say) leaves records that no
    manifest accounts for: the next run finds the write interrupted, deletes what no file
    holds, writes every file again, and the collection then equals a clean build's."""
    import searchlib.backends.typesense as typesense_module

    corpus = tmp_path / "corpus"
    shutil.copytree(NEWS, corpus)
    with Engine(tmp_path / "index", backend="typesense", collection="interrupted") as engine:
        engine.index([corpus])
        backend = engine.backend
        assert not backend.write_interrupted()  # type: ignore[attr-defined]
        documents = engine.stats().documents
        # One import a record: each is in the collection before the next is read.
        monkeypatch.setattr(typesense_module, "_IMPORT_BATCH", 1)

        def dying() -> Iterator[Record]:
            # An article of a file deleted since, and a related item no article lists.
            yield Record(
                id="gone-article", kind="article", title="Gone", excerpt="", provider="",
                url="https://gone.example/a", published=None, quality=None,
                path=str(corpus / "gone.md"), content_hash="0" * 32,
                related_ids=("gone-related",),
            )
            yield Record(
                id="stray-related", kind="related", title="Stray", excerpt="", provider="",
                url="https://gone.example/b", published=None, quality=None,
                parents=("gone-article",),
            )
            raise RuntimeError("killed")

        with pytest.raises(RuntimeError, match="killed"):
            backend.write(dying(), [])
        assert backend.write_interrupted()  # type: ignore[attr-defined]
        backend._sync_replicas()  # type: ignore[attr-defined]  # every node has both imports
        assert backend.get("gone-article") is not None
        assert backend.get("stray-related") is not None
        assert backend.count(Everything(), Filters()) == documents + 2
        monkeypatch.undo()
        report = engine.index([corpus])
        assert report.removed == 1  # gone.md, known only from the interrupted write's record
        assert not backend.write_interrupted()  # type: ignore[attr-defined]
        repaired = {record.id: record for record in backend.records()}
    with Engine(tmp_path / "clean", backend="typesense", collection="interrupted_clean") as clean:
        clean.index([corpus])
        assert {record.id: record for record in clean.backend.records()} == repaired
