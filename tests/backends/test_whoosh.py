"""Whoosh backend, the searcher lifecycle: commits, merges and deletions show, nothing comes back.

Whoosh 2.7.5's ``Searcher.refresh()`` can return segments that a merge already replaced, so
deleted documents reappear and counts double. searchlib reopens a searcher instead; these tests
fail if that changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from searchlib import Engine
from searchlib.backends.base import Record
from searchlib.backends.whoosh import WhooshBackend


def record(n: int, topic: str = "Odd") -> Record:
    return Record(
        id=f"doc{n}", kind="article", title=f"story number {n}", excerpt="common words here",
        url=f"https://x.example/{n}", provider=f"P{n % 3}",
        published=datetime(2026, 1, 1 + n % 28, tzinfo=UTC), quality=n, topics=(topic,),
    )


def test_counts_stay_right_across_commits_merges_and_deletes(tmp_path: Path) -> None:
    with Engine(tmp_path / "ix") as engine:
        backend = engine.backend
        seen = []
        # Many small commits make many segments; Whoosh merges some of them on commit.
        for n in range(30):
            backend.write([record(n, "Odd" if n % 2 else "Even")], [])
            seen.append(engine.search("common").total)
        assert seen == list(range(1, 31))
        backend.write([], [f"doc{n}" for n in range(0, 30, 3)])  # delete 10
        results = engine.search("common", facet_size=5)
        assert results.total == 20
        assert [(v.value, v.count) for v in results.facets["topic"].values] == [
            ("Even", 10), ("Odd", 10)
        ]
        # Force a full merge, then check that nothing deleted comes back and nothing doubles.
        assert isinstance(backend, WhooshBackend)
        backend.optimize()
        results = engine.search("common", limit=100)
        assert results.total == 20
        assert sorted(h.id for h in results.hits) == sorted(
            f"doc{n}" for n in range(30) if n % 3
        )
        # Updating a document replaces it.
        backend.write([record(1, "Even")], [])
        assert engine.search("", topics=["Odd"]).total == 9
        assert engine.search("", topics=["Even"]).total == 11


def test_a_second_engine_sees_commits_of_another(tmp_path: Path) -> None:
    with Engine(tmp_path / "ix") as reader_engine, Engine(tmp_path / "ix") as writer_engine:
        assert reader_engine.search("").total == 0
        writer_engine.backend.write([record(1), record(2)], [])
        assert reader_engine.search("").total == 2
        assert reader_engine.stats().documents == 2
        writer_engine.backend.write([], ["doc1"])
        assert [h.id for h in reader_engine.search("").hits] == ["doc2"]


def test_in_memory_backend_works_like_the_disk_one() -> None:
    backend = WhooshBackend.create(None, "english")
    backend.write([record(1), record(2)], [])
    assert backend.info().count == 2
    assert backend.get("doc2") == record(2)
    backend.close()


def test_whoosh_is_imported_without_urllib_request_or_cached_property(tmp_path: Path) -> None:
    # In a new interpreter: searching a Whoosh index (with a deletion, which Whoosh's reader
    # answers through its cached_property) loads neither module, and later imports of them
    # get the real ones.
    import subprocess
    import sys

    script = f"""
import sys
from searchlib import Engine
from searchlib.backends.base import Record
with Engine({str(tmp_path / 'ix')!r}) as engine:
    engine.backend.write([Record(
        id=str(n), kind="article", title=f"cats {{n}}", excerpt="", url="u", provider="P",
        published=None, quality=None, topics=(),
    ) for n in range(3)], [])
    engine.backend.write([], ["1"])
    assert engine.search("cats").total == 2
    assert engine.backend._ix.reader().deleted_docs_set is not None
loaded = {{"urllib.request", "cached_property", "asyncio"}} & set(sys.modules)
assert not loaded, loaded
import urllib.request, cached_property, whoosh.compat, whoosh.reading
assert urllib.request.urlopen and cached_property.threaded_cached_property
assert whoosh.compat.urlretrieve.__module__ == "searchlib.backends.whoosh_import"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")


def test_completions_stay_exact_through_commits_merges_and_renumbering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import random

    from searchlib.backends import whoosh_complete
    from searchlib.backends.memory import MemoryBackend

    monkeypatch.setattr(whoosh_complete, "COMPACT_SLACK", 0)
    whoosh = WhooshBackend.create(tmp_path / "index", "english")
    memory = MemoryBackend("english")
    rng = random.Random(15)

    def check(*prefixes: str) -> None:
        for prefix in prefixes:
            assert whoosh.complete(prefix, 6) == memory.complete(prefix, 6), prefix

    def write(vocabulary: list[str], count: int) -> None:
        records = [
            Record(id=f"d{rng.randrange(60)}", kind="article", url=f"https://x.example/{n}",
                   title=" ".join(rng.choice(vocabulary) for _ in range(5)), excerpt="",
                   provider="", published=None, quality=None)
            for n in range(count)
        ]
        deleted = [f"d{rng.randrange(60)}" for _ in range(3)]
        whoosh.write(records, deleted)
        memory.write(records, deleted)

    # Commits that add segments, replace and delete documents.
    for _ in range(8):
        write([f"old{i}" for i in range(200)], 30)
        check("old1", "old2", "old3", "old10 ", "old19")
    # Every document rewritten with a small new vocabulary, then one merged segment: the old
    # terms' ids outnumber the current ones and are dropped.
    for doc in range(60):
        title = f"new{doc % 7} new{(doc + 1) % 7}"
        record = Record(id=f"d{doc}", kind="article", url=f"https://x.example/{doc}",
                        title=title, excerpt="", provider="", published=None, quality=None)
        whoosh.write([record], [])
        memory.write([record], [])
    whoosh.optimize()
    check("old", "new", "new1", "new1 ", "new6 new0")
    completions = whoosh._completions
    assert sorted(completions._terms) == sorted(
        term for term, _ in memory.complete("new", 1000)
    )
    check("new2", "new")
    whoosh.close()


def test_size_skips_files_a_concurrent_commit_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The folder is listed, then each file stat-ed: a commit of another process can remove a
    # merged-away segment in between. That file no longer counts; it is not an error.
    backend = WhooshBackend.create(tmp_path / "ix", "english")
    backend.write([record(n) for n in range(3)], [])
    files = sorted(p for p in (tmp_path / "ix").iterdir() if p.is_file())
    gone = next(p for p in files if p.suffix == ".seg")
    expected = sum(p.stat().st_size for p in files if p != gone)
    real_is_file = Path.is_file

    def is_file_then_removed(self: Path) -> bool:
        found = real_is_file(self)
        if self == gone:
            gone.unlink()  # after the check, before the stat
        return found

    monkeypatch.setattr(Path, "is_file", is_file_then_removed)
    assert backend._size_bytes() == expected
    backend.close()
