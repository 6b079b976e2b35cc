"""Faults: durability, damaged indexes, locks, unreadable and hostile files, concurrent readers."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchlib import (
    Engine,
    IndexCorruptError,
    IndexLockedError,
    SchemaVersionError,
    SearchIndexError,
)
from searchlib.backends import whoosh as whoosh_backend
from searchlib.cli import cli
from searchlib.locking import WriterLock
from searchlib.manifest import MANIFEST_NAME


def cli_run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def write_articles(folder: Path, count: int, *, start: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(start, start + count):
        (folder / f"{n:04d}.md").write_text(
            f"---\ntitle: Story {n}\nexcerpt: Words about item {n}\n"
            f"webUrl: https://site.example/{n}\ntopics: [T{n % 3}]\n---\n",
            encoding="utf-8",
        )


# -- durability ----------------------------------------------------------------------------


def test_commit_fsyncs_new_files_and_the_folder(
    news_dir: Path, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real = whoosh_backend.fsync_path

    def spy(path: Path) -> None:
        synced.append(path.name if path != index_dir else "<folder>")
        real(path)

    monkeypatch.setattr(whoosh_backend, "fsync_path", spy)
    with Engine(index_dir) as engine:
        synced.clear()
        engine.index([news_dir])
        generation = engine.backend.generation()
    assert f"_MAIN_{generation}.toc" in synced
    assert any(name.endswith(".seg") for name in synced)
    assert synced[-1] == "<folder>"


def test_manifest_is_written_atomically_and_fsynced(
    news_dir: Path, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    with Engine(index_dir) as engine:
        calls.clear()
        engine.index([news_dir])
    # The manifest file, then the folder (after the rename), at least.
    assert len(calls) >= 2
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".manifest-")]
    assert json.loads((index_dir / MANIFEST_NAME).read_text(encoding="utf-8"))["version"] == 1


# -- damaged indexes -----------------------------------------------------------------------


def damage_hint(index_dir: Path) -> str:
    return (
        f"rebuild it from the source files with 'search index --rebuild PATH --index {index_dir}'"
    )


@pytest.mark.parametrize("how", ["truncate", "delete", "garbage"])
def test_damaged_segment_gives_one_clear_line_and_rebuild_recovers(
    news_dir: Path, index_dir: Path, how: str
) -> None:
    with Engine(index_dir) as engine:
        engine.index([news_dir])
    segment = next(index_dir.glob("*.seg"))
    if how == "truncate":
        with segment.open("r+b") as handle:
            handle.truncate(segment.stat().st_size // 2)
    elif how == "delete":
        segment.unlink()
    else:
        segment.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(IndexCorruptError) as info:
        Engine(index_dir)
    message = str(info.value)
    assert message.startswith(f"the index in {index_dir} is damaged (")
    assert message.endswith(damage_hint(index_dir))
    assert "\n" not in message
    code, out, err = cli_run("query", "x", "--index", str(index_dir))
    assert (code, out, err) == (1, "", f"Error: {message}\n")
    code, out, _ = cli_run("index", "--rebuild", str(news_dir), "--index", str(index_dir), "--json")
    assert (code, json.loads(out)["documents"]) == (0, 12)
    with Engine(index_dir) as engine:
        assert engine.search("heatwave").total == 3


def test_newer_schema_version_is_refused_and_rebuild_recovers(
    news_dir: Path, index_dir: Path
) -> None:
    with Engine(index_dir) as engine:
        engine.index([news_dir])
    meta_path = index_dir / "searchlib.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta_path.write_text(json.dumps({**meta, "schema_version": 99}), encoding="utf-8")
    with pytest.raises(SchemaVersionError) as info:
        Engine(index_dir)
    assert str(info.value) == (
        f"the index in {index_dir} has schema version 99, newer than this searchlib's 2: "
        "upgrade searchlib or rebuild the index"
    )
    code, _, _ = cli_run("index", "--rebuild", str(news_dir), "--index", str(index_dir), "-q")
    assert code == 0
    with Engine(index_dir) as engine:
        assert engine.stats().documents == 12


def test_index_of_an_older_engine_format_asks_for_a_rebuild(
    news_dir: Path, index_dir: Path
) -> None:
    # Format 2: dates indexed as trie terms, before they became a column only (format 3).
    with Engine(index_dir) as engine:
        engine.index([news_dir])
    meta_path = index_dir / "searchlib.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    assert (meta["engine"], meta["engine_format"]) == ("whoosh", 3)
    meta_path.write_text(json.dumps({**meta, "engine_format": 2}), encoding="utf-8")
    message = (
        f"the index in {index_dir} has whoosh format 2, older than this searchlib's 3: "
        f"rebuild it with 'search index --rebuild PATH --index {index_dir}'"
    )
    with pytest.raises(SchemaVersionError) as info:
        Engine(index_dir)
    assert str(info.value) == message
    code, out, err = cli_run("query", "heatwave", "--index", str(index_dir))
    assert (code, out, err) == (1, "", f"Error: {message}\n")
    code, _, _ = cli_run("index", "--rebuild", str(news_dir), "--index", str(index_dir), "-q")
    assert code == 0
    with Engine(index_dir) as engine:
        assert engine.search("heatwave").total == 3


def test_missing_metadata_is_a_clear_error(news_dir: Path, index_dir: Path) -> None:
    with Engine(index_dir) as engine:
        engine.index([news_dir])
    (index_dir / "searchlib.json").unlink()
    with pytest.raises(IndexCorruptError, match=r"has no readable searchlib.json: rebuild it"):
        Engine(index_dir)


# -- locks -----------------------------------------------------------------------------------


def test_second_writer_fails_fast_with_a_clear_message(news_dir: Path, index_dir: Path) -> None:
    with Engine(index_dir) as engine, WriterLock(index_dir):
        with pytest.raises(IndexLockedError) as info:
            engine.index([news_dir])
        assert str(info.value) == f"index is locked by another writer: {index_dir}"
        code, out, err = cli_run("index", str(news_dir), "--index", str(index_dir))
        assert (code, out) == (1, "")
        assert err == f"Error: index is locked by another writer: {index_dir}\n"
        # Nothing was written meanwhile, and searching still works.
        assert engine.stats().documents == 0


def test_second_writer_waits_for_the_lock(news_dir: Path, index_dir: Path) -> None:
    with Engine(index_dir, lock_timeout=5.0) as engine:
        lock = WriterLock(index_dir)
        lock.acquire()
        timer = threading.Timer(0.3, lock.release)
        timer.start()
        started = time.monotonic()
        report = engine.index([news_dir])
        assert time.monotonic() - started >= 0.25
        assert report.added == 9
        timer.join()


def test_lock_wait_times_out(news_dir: Path, index_dir: Path) -> None:
    with (
        Engine(index_dir, lock_timeout=0.2) as engine,
        WriterLock(index_dir),
        pytest.raises(IndexLockedError, match=r"\(waited 0.2 s\)$"),
    ):
        engine.index([news_dir])


def test_index_folder_that_cannot_be_created(tmp_path: Path, news_dir: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(SearchIndexError, match=r"^cannot create an index in .*a-file/index: "):
        Engine(blocker / "index")
    code, out, err = cli_run("index", str(news_dir), "--index", str(blocker / "index"))
    assert (code, out) == (1, "")
    assert err.startswith(f"Error: cannot create an index in {blocker / 'index'}: ")
    assert err.count("\n") == 1


# -- hostile files ---------------------------------------------------------------------------


def test_symlink_loop_and_dangling_links_do_not_stop_the_run(
    news_dir: Path, index_dir: Path
) -> None:
    (news_dir / "sub" / "loop").symlink_to(news_dir, target_is_directory=True)
    (news_dir / "dangling.md").symlink_to(news_dir / "nowhere.md")
    with Engine(index_dir) as engine:
        report = engine.index([news_dir])
    assert (report.added, report.failed) == (9, [])


def test_file_that_vanishes_while_read_is_skipped(
    news_dir: Path, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = news_dir / "a6-mars-lander.md"
    real = Path.read_bytes

    def flaky(self: Path) -> bytes:
        if self == victim:
            victim.unlink()
            raise FileNotFoundError(2, "No such file or directory")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", flaky)
    with Engine(index_dir) as engine:
        report = engine.index([news_dir])
    assert report.added == 8
    assert [f.to_dict() for f in report.failed] == [
        {"path": str(victim), "error": "cannot read file: No such file or directory"}
    ]


def test_files_over_the_size_cap_are_skipped(news_dir: Path, index_dir: Path) -> None:
    with Engine(index_dir, max_file_bytes=400) as engine:
        report = engine.index([news_dir])
    too_big = sorted(
        (Path(f.path).name, f.error) for f in report.failed
    )
    assert [name for name, _ in too_big] == [
        "a1-court-facial-recognition.md", "a2-police-cameras.md", "a4-solar-heatwave.md",
        "a6-mars-lander.md",
    ]
    size = (news_dir / "a1-court-facial-recognition.md").stat().st_size
    assert too_big[0][1] == f"file is too large ({size} bytes, the limit is 400)"
    assert report.added == 5


def test_yaml_alias_bomb_is_refused(news_dir: Path, index_dir: Path) -> None:
    bomb = ["---", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in "bcdefghij":
        previous = chr(ord(level) - 1)
        bomb.append(f"{level}: &{level} [" + ",".join([f"*{previous}"] * 9) + "]")
    bomb += ["title: boom", "---", ""]
    (news_dir / "bomb.md").write_text("\n".join(bomb), encoding="utf-8")
    started = time.monotonic()
    with Engine(index_dir) as engine:
        report = engine.index([news_dir])
    assert [f.to_dict() for f in report.failed] == [
        {"path": str(news_dir / "bomb.md"),
         "error": "YAML front matter expands to more than 100000 values"}
    ]
    assert time.monotonic() - started < 30  # a generous bound: unbounded expansion never ends


# -- concurrent readers ----------------------------------------------------------------------


def test_searches_during_commits_see_whole_commits(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_articles(corpus, 200)
    index_dir = tmp_path / "index"
    totals: list[int] = []
    errors: list[BaseException] = []
    with Engine(index_dir) as reader, Engine(index_dir) as writer:
        done = threading.Event()

        def index() -> None:
            try:
                writer.index([corpus], batch_files=20)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=index)
        thread.start()
        while not done.is_set():
            results = reader.search("", facet_size=10)
            kinds = {v.value: v.count for v in results.facets["kind"].values}
            assert sum(kinds.values()) == results.total
            totals.append(results.total)
        thread.join()
        totals.append(reader.search("").total)
    assert errors == []
    assert totals == sorted(totals)  # never goes back
    assert set(totals) <= set(range(0, 201, 20))  # only whole batches of 20 are ever seen
    assert totals[-1] == 200


def test_one_engine_searches_while_its_own_thread_indexes(news_dir: Path, index_dir: Path) -> None:
    """Searches on an old searcher must never meet segment files a new commit deleted."""
    errors: list[str] = []
    with Engine(index_dir) as engine:
        engine.index([news_dir])
        stop = threading.Event()

        def index_repeatedly() -> None:
            n = 0
            while not stop.is_set():
                (news_dir / f"comet-{n}.md").write_text(
                    f"---\ntitle: comet {n}\nwebUrl: https://comet.example/{n}\n---\n",
                    encoding="utf-8",
                )
                engine.index([news_dir])
                n += 1

        writer = threading.Thread(target=index_repeatedly)
        writer.start()
        deadline = time.monotonic() + 3.0
        try:
            while time.monotonic() < deadline:
                for text in ("comet", "lander", "", "heatwave"):
                    try:
                        engine.search(text, sort="newest" if not text else "relevance")
                    except Exception as exc:  # every failure is collected and shown
                        errors.append(repr(exc))
        finally:
            stop.set()
            writer.join()
    assert errors == []
