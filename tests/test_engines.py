"""Choosing an engine: ``Engine(path, backend=...)``, ``search index --backend``, the engine
recorded in ``searchlib.json`` and detected on open, ``search stats``, switching an index to
another engine with ``--rebuild``, and what asking for an engine that is not installed says."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import IDS

from searchlib import Engine
from searchlib.backends import backend_class
from searchlib.cli import cli
from searchlib.errors import UsageError

pytest.importorskip("tantivy", reason="the tantivy extra is not installed")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": "80"}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def meta(index_dir: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((index_dir / "searchlib.json").read_text("utf-8"))
    del data["created"]
    return data


def hit_ids(index_dir: Path, query: str) -> list[str]:
    code, out, _ = run("query", query, "--index", str(index_dir), "--json", "--sort", "newest")
    assert code == 0
    return [hit["id"] for hit in json.loads(out)["hits"]]


def test_engine_records_and_detects_its_backend(news_dir: Path, index_dir: Path) -> None:
    with Engine(index_dir, backend="tantivy") as engine:
        engine.index([news_dir])
        assert engine.backend_name == "tantivy"
    assert meta(index_dir) == {
        "schema_version": 2, "language": "english", "engine": "tantivy", "engine_format": 3,
    }
    assert (index_dir / "tantivy" / "meta.json").is_file()
    with Engine(index_dir) as engine:  # detected: no backend named
        assert engine.backend_name == "tantivy"
        stats = engine.stats()
        assert (stats.backend, stats.documents, stats.files) == ("tantivy", 12, 9)
        assert [hit.id for hit in engine.search("lander", sort="newest").hits] == [
            IDS["mars"], IDS["descent"],
        ]
    with pytest.raises(UsageError) as caught:
        Engine(index_dir, backend="whoosh")
    assert str(caught.value) == (
        f"the index in {index_dir} uses the tantivy backend, not whoosh: rebuild it to change "
        f"its backend ('search index --rebuild --backend whoosh PATH --index {index_dir}')"
    )


def test_cli_index_stats_and_switching_engines(news_dir: Path, index_dir: Path) -> None:
    code, out, err = run("index", str(news_dir), "--index", str(index_dir), "--backend",
                         "tantivy")
    assert (code, err) == (0, "")
    assert out.splitlines()[1] == f"9 files: 12 documents (9 articles, 3 related) in {index_dir}"
    code, out, _ = run("stats", "--index", str(index_dir))
    assert out.splitlines()[6:] == ["language   english", "schema     2", "backend    tantivy"]
    code, out, _ = run("stats", "--index", str(index_dir), "--json")
    assert json.loads(out)["backend"] == "tantivy"
    on_tantivy = hit_ids(index_dir, "facial recognition")

    # A second run keeps the engine without being told, and finds nothing to change.
    code, out, _ = run("index", str(news_dir), "--index", str(index_dir))
    assert (code, out.splitlines()[0].split(" (")[0]) == (
        0, "0 added, 0 updated, 0 removed, 9 unchanged, 0 skipped"
    )
    # Another engine without --rebuild: refused, the index untouched.
    code, out, err = run("index", str(news_dir), "--index", str(index_dir), "--backend",
                         "whoosh")
    assert (code, out) == (2, "")
    assert err == (
        f"Error: the index in {index_dir} uses the tantivy backend, not whoosh: rebuild it to "
        f"change its backend ('search index --rebuild --backend whoosh PATH --index "
        f"{index_dir}')\n"
    )
    assert meta(index_dir)["engine"] == "tantivy"

    code, _, err = run("index", str(news_dir), "--index", str(index_dir), "--rebuild",
                       "--backend", "whoosh", "--quiet")
    assert (code, err) == (0, "")
    assert meta(index_dir)["engine"] == "whoosh"
    assert not (index_dir / "tantivy").exists()  # the old engine's files are gone
    code, out, _ = run("stats", "--index", str(index_dir))
    assert out.splitlines()[-1] == "backend    whoosh"
    assert sorted(hit_ids(index_dir, "facial recognition")) == sorted(on_tantivy)

    code, _, _ = run("index", str(news_dir), "--index", str(index_dir), "--rebuild",
                     "--backend", "tantivy", "--quiet")
    assert code == 0
    assert meta(index_dir)["engine"] == "tantivy"
    assert not list(index_dir.glob("*.seg")) and not list(index_dir.glob("*.toc"))
    assert hit_ids(index_dir, "facial recognition") == on_tantivy


def test_unknown_backend_is_a_usage_error(news_dir: Path, index_dir: Path) -> None:
    code, out, err = run("index", str(news_dir), "--index", str(index_dir), "--backend", "solr")
    assert (code, out) == (2, "")
    assert (
        "Invalid value for '--backend': 'solr' is not one of 'whoosh', 'tantivy', 'typesense'."
        in err
    )
    with pytest.raises(UsageError) as caught:
        Engine(index_dir, backend="solr")
    assert str(caught.value) == (
        "unknown backend 'solr': choose one of memory, tantivy, typesense, whoosh"
    )


@pytest.fixture
def without_tantivy(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the tantivy package were not installed."""
    monkeypatch.setitem(sys.modules, "tantivy", None)  # import tantivy raises ImportError
    monkeypatch.delitem(sys.modules, "searchlib.backends.tantivy", raising=False)


MISSING = "the tantivy backend is not installed: install it with pip install 'searchlib[tantivy]'"


def test_a_missing_extra_says_how_to_install_it(
    without_tantivy: None, news_dir: Path, index_dir: Path
) -> None:
    with pytest.raises(UsageError) as caught:
        backend_class("tantivy")
    assert str(caught.value) == MISSING
    with pytest.raises(UsageError) as caught:
        Engine(index_dir, backend="tantivy")
    assert str(caught.value) == MISSING


def test_a_missing_extra_leaves_the_index_alone(
    news_dir: Path, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, _ = run("index", str(news_dir), "--index", str(index_dir), "--quiet")
    assert code == 0
    monkeypatch.setitem(sys.modules, "tantivy", None)
    monkeypatch.delitem(sys.modules, "searchlib.backends.tantivy", raising=False)
    code, out, err = run("index", str(news_dir), "--index", str(index_dir), "--rebuild",
                         "--backend", "tantivy")
    assert (code, out, err) == (2, "", f"Error: {MISSING}\n")
    code, out, _ = run("stats", "--index", str(index_dir))
    assert out.splitlines()[1] == "documents  12 (9 articles, 3 related)"


def test_an_index_of_a_missing_engine_says_how_to_install_it(
    news_dir: Path, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Engine(index_dir, backend="tantivy") as engine:
        engine.index([news_dir])
    monkeypatch.setitem(sys.modules, "tantivy", None)
    monkeypatch.delitem(sys.modules, "searchlib.backends.tantivy", raising=False)
    code, out, err = run("stats", "--index", str(index_dir))
    assert (code, out, err) == (2, "", f"Error: {MISSING}\n")
