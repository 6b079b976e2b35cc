"""What only the tantivy backend has to get right: its files, the writer lock, damaged files,
commits seen by other instances, and terms the whitespace tokenizer must not split.
(What every engine must do is in ``test_conformance.py``.)"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import NEWS

from searchlib import Engine
from searchlib.backends.base import Backend
from searchlib.errors import IndexCorruptError, IndexLockedError
from searchlib.locking import WriterLock
from searchlib.plan import All, Any, Boost, Everything, Exclude, Filters, Plan, Prefix, Words
from searchlib.records import TERM_SEPARATOR, AnalysedTerms, Record, field_texts

tantivy_backend = pytest.importorskip(
    "searchlib.backends.tantivy", reason="the tantivy extra is not installed"
)
TantivyBackend = tantivy_backend.TantivyBackend


def record(doc_id: str, title: str) -> Record:
    return Record(
        id=doc_id, kind="article", title=title, excerpt="", url=f"https://t.example/{doc_id}",
        provider="", published=None, quality=None,
    )


def test_files_live_in_a_subfolder(tmp_path: Path) -> None:
    backend = TantivyBackend.create(tmp_path, "english")
    backend.write([record("a", "Glacier")], [])
    assert TantivyBackend.exists(tmp_path)
    assert TantivyBackend.owned_files(tmp_path) == [tmp_path / "tantivy"]
    assert (tmp_path / "tantivy" / "meta.json").is_file()
    assert [entry.name for entry in tmp_path.iterdir()] == ["tantivy"]
    backend.close()
    assert not TantivyBackend.exists(tmp_path / "elsewhere")
    assert TantivyBackend.owned_files(tmp_path / "elsewhere") == []


def test_another_instance_sees_each_commit(tmp_path: Path) -> None:
    writer = TantivyBackend.create(tmp_path, "english")
    reader = TantivyBackend.open(tmp_path, "english")
    assert reader.info().count == 0
    writer.write([record("a", "Glacier survey"), record("b", "Budget")], [])
    assert reader.generation() == writer.generation() > 0
    assert reader.info().count == 2
    assert reader.count(Words(("glacier",), ("title",)), Filters()) == 1
    writer.write([], ["a"])
    assert reader.get("a") is None
    assert reader.term_stats("title", ["glacier"])["glacier"].doc_frequency == 0
    writer.close()
    reader.close()


def test_generation_is_the_commit_opstamp_on_disk(tmp_path: Path) -> None:
    backend = TantivyBackend.create(tmp_path, "english")
    assert backend.generation() == 0
    backend.write([record("a", "Alpha")], [])
    meta = json.loads((tmp_path / "tantivy" / "meta.json").read_text(encoding="utf-8"))
    assert backend.generation() == meta["opstamp"] > 0
    backend.close()
    assert TantivyBackend.open(tmp_path, "english").generation() == meta["opstamp"]


def test_a_second_writer_gets_the_whoosh_backends_message(tmp_path: Path) -> None:
    first = TantivyBackend.create(tmp_path, "english")
    second = TantivyBackend.open(tmp_path, "english")
    held = first._index.writer(15_000_000, 1)  # tantivy's own lock, as a writer elsewhere has
    try:
        with pytest.raises(IndexLockedError) as caught:
            second.write([record("a", "Alpha")], [])
        assert str(caught.value) == f"index is locked by another writer: {tmp_path}"
        waiting = TantivyBackend.open(tmp_path, "english", lock_timeout=0.2)
        started = time.monotonic()
        with pytest.raises(IndexLockedError) as caught:
            waiting.write([record("a", "Alpha")], [])
        assert time.monotonic() - started >= 0.2
        assert str(caught.value) == f"index is locked by another writer: {tmp_path} (waited 0.2 s)"
    finally:
        held.rollback()
        held.wait_merging_threads()  # drops the writer and its lock
    second.write([record("a", "Alpha")], [])
    assert first.info().count == 1
    first.close()
    second.close()


def test_a_writer_waits_for_the_lock(tmp_path: Path) -> None:
    first = TantivyBackend.create(tmp_path, "english")
    second = TantivyBackend.open(tmp_path, "english", lock_timeout=5.0)
    held = first._index.writer(15_000_000, 1)

    def release() -> None:
        held.rollback()
        held.wait_merging_threads()

    timer = threading.Timer(0.3, release)
    timer.start()
    started = time.monotonic()
    second.write([record("a", "Alpha")], [])
    assert time.monotonic() - started >= 0.25
    timer.join()
    assert second.info().count == 1


def test_engine_writer_lock_message_is_the_same(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    with Engine(index_dir, backend="tantivy") as engine, WriterLock(index_dir):
        with pytest.raises(IndexLockedError) as caught:
            engine.index([NEWS])
        assert str(caught.value) == f"index is locked by another writer: {index_dir}"


def test_a_failed_write_commits_nothing_and_frees_the_lock(tmp_path: Path) -> None:
    backend = TantivyBackend.create(tmp_path, "english")
    backend.write([record("a", "Alpha")], [])
    generation = backend.generation()

    def failing() -> object:
        yield record("b", "Beta")
        raise RuntimeError("parse worker died")

    with pytest.raises(RuntimeError):
        backend.write(failing(), [])  # type: ignore[arg-type]
    assert backend.generation() == generation
    assert [r.id for r in backend.records()] == ["a"]
    backend.write([record("c", "Gamma")], [])  # the lock was released
    assert backend.info().count == 2
    backend.close()


@pytest.mark.parametrize("how", ["truncate", "delete", "garbage"])
@pytest.mark.parametrize("suffix", ["store", "pos", "term"])
def test_damaged_files_give_one_clear_line(tmp_path: Path, how: str, suffix: str) -> None:
    index_dir = tmp_path / "index"
    with Engine(index_dir, backend="tantivy") as engine:
        engine.index([NEWS])
    target = next((index_dir / "tantivy").glob(f"*.{suffix}"))
    if how == "truncate":
        with target.open("r+b") as handle:
            handle.truncate(target.stat().st_size // 2)
    elif how == "delete":
        target.unlink()
    else:
        target.write_bytes(b"\x00garbage" * 1000)
    # Found on opening, or by the first search that reads the file.
    with pytest.raises(IndexCorruptError) as caught, Engine(index_dir) as engine:
        engine.search('"facial recognition"')
    message = str(caught.value)
    assert message.startswith(f"the index in {index_dir} is damaged (")
    assert message.endswith(
        f"rebuild it from the source files with 'search index --rebuild PATH --index {index_dir}'"
    )
    assert "\n" not in message


def test_terms_with_whitespace_stay_one_term(tmp_path: Path) -> None:
    # Compatibility folding can put a space into a term; the tokenizer must not split it.
    backend = TantivyBackend.create(tmp_path, "english")
    item = record("a", "Odd")
    joined = {name: "" for name in field_texts(item)}
    joined.update({
        "title": TERM_SEPARATOR.join(["odd", "1 4", "odd"]),
        "spell": TERM_SEPARATOR.join(["odd", "1 4"]),
    })
    backend.write([Record(**{**item.__dict__, "analysed": AnalysedTerms("english", joined)})], [])
    assert backend.count(Words(("1 4",), ("title",)), Filters()) == 1
    assert backend.count(Words(("1",), ("title",)), Filters()) == 0
    assert backend.count(Words(("odd", "1 4"), ("title",)), Filters()) == 1
    assert backend.count(Prefix(("1 ",), ("title",)), Filters()) == 1
    stats = backend.term_stats("title", ["1 4", "odd"])
    assert {t: (s.doc_frequency, s.frequency) for t, s in stats.items()} == {
        "1 4": (1, 1), "odd": (1, 2),
    }
    assert backend.similar_words("1 5", 1, 5) == ["1 4"]
    assert backend.execute(Everything(), Filters(), {}, "newest", 0, 1).total == 1
    backend.close()


def test_a_write_syncs_the_folder_after_the_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # tantivy fdatasyncs segment files and meta.json itself, but not the folder it renames
    # meta.json in.
    synced: list[Path] = []
    monkeypatch.setattr(tantivy_backend, "fsync_path", synced.append)
    backend = TantivyBackend.create(tmp_path, "english")
    backend.write([], [])
    assert synced == []  # no commit
    backend.write([record("a", "Alpha")], [])
    assert synced == [tmp_path / "tantivy"]
    backend.close()


def test_top_10_agrees_with_the_whoosh_backend(tmp_path: Path) -> None:
    """Every fixture query of the cross-engine test: the same first 10 hits as the Whoosh
    backend, in the same order (both rank by BM25F; the tantivy backend re-scores its
    candidates exactly)."""
    from .test_pipeline import QUERIES

    with (
        Engine(tmp_path / "whoosh", backend="whoosh") as whoosh,
        Engine(tmp_path / "tantivy", backend="tantivy") as tantivy,
    ):
        whoosh.index([NEWS])
        tantivy.index([NEWS])
        for text in QUERIES:
            ours = [hit.id for hit in tantivy.search(text, limit=10).hits]
            theirs = [hit.id for hit in whoosh.search(text, limit=10).hits]
            assert ours == theirs, text


def test_a_deletion_file_left_by_a_killed_writer_is_collected(tmp_path: Path) -> None:
    """A writer killed during its commit can leave ``SEGMENT.OPSTAMP.del`` written (and listed
    in ``.managed.json``) but not committed; the next writer reaches the same opstamp and
    must not fail to create the file (the crash test met this once in 20 kills)."""
    backend = TantivyBackend.create(tmp_path, "english")
    backend.write([record("a", "Alpha"), record("b", "Beta")], [])
    folder = tmp_path / "tantivy"
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    segment = meta["segments"][0]["segment_id"].replace("-", "")
    # Replacing "a" is a deletion, an addition and a commit: opstamps 4, 5 and 6.
    stale = f"{segment}.{meta['opstamp'] + 3}.del"
    (folder / stale).write_bytes(b"left by a killed writer")
    managed = json.loads((folder / ".managed.json").read_text(encoding="utf-8"))
    (folder / ".managed.json").write_text(json.dumps([*managed, stale]), encoding="utf-8")
    backend.close()
    reopened = TantivyBackend.open(tmp_path, "english")
    reopened.write([record("a", "Alpha 2")], [])
    assert sorted(r.title for r in reopened.records()) == ["Alpha 2", "Beta"]
    committed = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    assert committed["opstamp"] == meta["opstamp"] + 3
    reopened.close()


def test_searches_go_on_during_a_write(tmp_path: Path) -> None:
    backend = TantivyBackend.create(tmp_path, "english")
    backend.write([record("a", "Alpha")], [])
    answered: list[int] = []

    def slow_records() -> object:
        yield record("b", "Beta")
        # A search from another thread while this write is under way answers at once.
        searcher = threading.Thread(target=lambda: answered.append(backend.info().count))
        searcher.start()
        searcher.join(timeout=5)
        yield record("c", "Gamma")

    backend.write(slow_records(), [])  # type: ignore[arg-type]
    assert answered == [1]
    assert backend.info().count == 3
    backend.close()


def test_size_tolerates_files_removed_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process's writer deletes merged-away files while info() lists the folder
    # (found by benchmarks/soak.py: searches failed as "damaged" under concurrent indexing).
    backend = TantivyBackend.create(tmp_path, "english")
    backend.write([record("a", "Alpha")], [])

    class Vanished:
        def is_file(self) -> bool:
            return True

        def stat(self) -> object:
            raise FileNotFoundError(2, "No such file or directory", "gone.del")

    listing = Path.iterdir
    monkeypatch.setattr(Path, "iterdir", lambda self: iter([*listing(self), Vanished()]))
    info = backend.info()
    assert (info.count, info.size_bytes > 0) == (1, True)
    backend.close()


# -- BM25F: the reference backend's scores, re-computed over tantivy's candidates -------------

TEXT_FIELDS = ("title", "excerpt", "body", "related")


def _words(*terms: str, fields: tuple[str, ...] = TEXT_FIELDS) -> Words:
    return Words(terms, fields)


#: Plans of words only: every score is BM25F's, as the reference computes it.
WORD_PLANS: list[Plan] = [
    _words("heatwav"),
    _words("camera"),
    _words("facial"),
    _words("lander", fields=("title",)),
    _words("privacy", fields=("topic_text",)),
    _words("related", fields=("kind",)),
    _words("heatwave", fields=("spell",)),
    All((_words("facial"), _words("camera"))),
    Any((_words("facial"), _words("camera"), _words("polic"))),
    Any((Boost(All((_words("facial"), _words("recognit"))), 1000.0),
         _words("facial"), _words("recognit"))),
    Exclude(Any((_words("facial"), _words("camera"))), _words("polic")),
    Any((All((_words("heatwav"), _words("grid"))), Exclude(_words("lander"), _words("drill")))),
    All((Everything(), _words("lander"))),
]


def _scores(backend: Backend, plan: Plan) -> dict[str, float]:
    execution = backend.execute(plan, Filters(), {}, "relevance", 0, 1000)
    return {found.id: score for found, score in execution.page if score is not None}


@pytest.fixture(scope="module")
def both_news(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Backend, Backend]]:
    """The fixture corpus in the reference backend and in the tantivy backend."""
    from .conftest import build_news

    memory = build_news("memory", tmp_path_factory.mktemp("memory"))
    tantivy = build_news("tantivy", tmp_path_factory.mktemp("tantivy"))
    yield memory, tantivy
    memory.close()
    tantivy.close()


@pytest.mark.parametrize("plan", WORD_PLANS, ids=repr)
def test_word_scores_are_the_reference_bm25f(
    both_news: tuple[Backend, Backend], plan: Plan
) -> None:
    memory, tantivy = both_news
    expected = _scores(memory, plan)
    assert expected
    ours = _scores(tantivy, plan)
    assert ours.keys() == expected.keys()
    for doc_id, score in expected.items():
        assert ours[doc_id] == pytest.approx(score, rel=1e-6), doc_id


def test_frequencies_too_wide_for_one_search_are_split(
    both_news: tuple[Backend, Backend], monkeypatch: pytest.MonkeyPatch
) -> None:
    # With 3 bits a search, each field's frequency is read by a search of its own (or two
    # fields share one): the scores do not change.
    memory, tantivy = both_news
    monkeypatch.setattr(tantivy_backend, "_SCORE_BITS", 3)
    for plan in WORD_PLANS[:3]:
        expected = _scores(memory, plan)
        ours = _scores(tantivy, plan)
        assert ours == pytest.approx(expected, rel=1e-6)


def test_repeated_words_are_counted_exactly(tmp_path: Path) -> None:
    """Frequencies from 1 to 3,000 in one field, beside other fields, score as BM25F."""
    from searchlib.backends.memory import MemoryBackend

    records = [
        Record(
            id=f"r{count}", kind="article", title=f"zebra report {count}",
            excerpt="zebra " * (count % 7), url=f"https://t.example/{count}", provider="",
            published=None, quality=None, body="zebra " * count + "filler " * (count % 11),
        )
        for count in (1, 2, 3, 5, 8, 64, 255, 256, 3000)
    ]
    memory = MemoryBackend.create(None, "english")
    tantivy = TantivyBackend.create(tmp_path, "english")
    memory.write(records, [])
    tantivy.write(records, [])
    plan = _words("zebra")
    expected = _scores(memory, plan)
    assert len(expected) == len(records)
    assert _scores(tantivy, plan) == pytest.approx(expected, rel=1e-6)
    tantivy.close()


def test_a_window_smaller_than_the_matches_is_rescored_alone(
    both_news: tuple[Backend, Backend], monkeypatch: pytest.MonkeyPatch
) -> None:
    # With RESCORED at 1 a page of 2 re-scores only tantivy's best 2 documents: the total is
    # still every match, and here (tantivy's own order is already BM25F-like) the page is the
    # first 2 of the full order, with the same scores.
    _, tantivy = both_news
    plan = Any((_words("facial"), _words("camera"), _words("polic")))
    every = tantivy.execute(plan, Filters(), {}, "relevance", 0, 1000)
    monkeypatch.setattr(tantivy_backend, "RESCORED", 1)
    first = tantivy.execute(plan, Filters(), {}, "relevance", 0, 2)
    assert every.total == len(every.page) > 2
    assert first.total == every.total
    assert first.page == every.page[:2]


def test_completions_asked_a_few_at_a_time_agree_with_the_reference(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dictionary is asked for the best completions by their counts (deleted documents
    included), a few at first, more until the live counts settle the order: asking for one
    at a time goes through every step, and the answers are the reference's."""
    from .conftest import build_news, build_synth
    from .test_conformance import every_prefix

    monkeypatch.setattr(tantivy_backend, "_COMPLETIONS_ASKED", 1)
    for build in (build_news, build_synth):
        memory = build("memory", tmp_path_factory.mktemp("memory"))
        tantivy = build("tantivy", tmp_path_factory.mktemp("tantivy"))
        prefixes = every_prefix(memory)
        assert len(prefixes) > 100
        for prefix in prefixes:
            for limit in (1, 2, 5):
                assert tantivy.complete(prefix, limit) == memory.complete(prefix, limit), prefix
        memory.close()
        tantivy.close()


def test_kept_completions_follow_each_commit(tmp_path: Path) -> None:
    backend = TantivyBackend.create(tmp_path, "english")
    backend.write([record("a", "Glacier melt"), record("b", "Glacier report")], [])
    assert backend.complete("gla", 5) == [("glacier", 2), ("glacier melt", 1),
                                          ("glacier report", 1)]
    backend.write([], ["a"])
    assert backend.complete("gla", 5) == [("glacier", 1), ("glacier report", 1)]
    assert backend.complete("gla", 1) == [("glacier", 1)]
    backend.close()
