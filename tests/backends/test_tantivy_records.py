"""The tantivy backend's stored records: plain JSON until the index can train a zstd
dictionary, then compressed with it; every record reads back the same either way."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import Engine
from searchlib.errors import IndexCorruptError
from searchlib.records import Record
from searchlib.store import remove_index_files

tantivy = pytest.importorskip("tantivy", reason="the tantivy extra is not installed")
zstandard = pytest.importorskip("zstandard", reason="the tantivy extra is not installed")
from searchlib.backends.tantivy import TantivyBackend  # noqa: E402
from searchlib.backends.tantivy_records import TRAINING_RECORDS, RecordCodec  # noqa: E402

WORDS = (
    "glacier", "budget", "council", "river", "vaccine", "election", "harbour", "school",
    "storm", "market", "museum", "railway", "hospital", "drought", "festival", "bridge",
    "senate", "tariff", "wildfire", "orchard",
)
PROVIDERS = ("Harbour Post", "Valley Times", "The Daily Ledger", "Metro Wire")


def make_record(n: int, rng: random.Random) -> Record:
    """A record with every stored field set, its words drawn at random."""
    def words(count: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(count))

    provider = PROVIDERS[n % len(PROVIDERS)]
    domain = provider.lower().replace(" ", "") + ".example"
    return Record(
        id=f"doc{n:05d}", kind="article" if n % 3 else "related",
        title=words(6).capitalize(), excerpt=words(30), body=words(rng.randint(0, 60)),
        url=f"https://www.{domain}/2024/{n % 12 + 1:02d}/{words(3).replace(' ', '-')}/",
        provider=provider,
        published=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=37 * n),
        quality=None if n % 7 == 0 else n % 100, topics=(rng.choice(WORDS).title(),),
        provider_domain=domain, path=f"articles/{n:05d}.md",
        content_hash=f"{rng.getrandbits(128):032x}", related_ids=(f"rel{n:05d}",),
        extra={"category": "news", "heat": n % 50},
    )


def make_records(start: int, count: int, seed: int = 7) -> list[Record]:
    rng = random.Random(seed + start)
    return [make_record(n, rng) for n in range(start, start + count)]


def stored(folder: Path) -> dict[str, bytes]:
    """Each document's stored bytes, read with tantivy itself, by record id."""
    searcher = tantivy.Index.open(str(folder / "tantivy")).searcher()
    hits = searcher.search(tantivy.Query.all_query(), limit=max(searcher.num_docs, 1)).hits
    codec = RecordCodec(folder / "tantivy", str(folder))
    found = {}
    for _, address in hits:
        data = searcher.doc(address)["record"][0]
        found[json.loads(codec.decode(data))["id"]] = data
    return found


def dictionaries(folder: Path) -> list[str]:
    return sorted(path.name for path in (folder / "tantivy").glob("records-*.zdict"))


def dictionary_of(data: bytes) -> int | None:
    """The dictionary id a stored record names (None for plain JSON)."""
    if data[:1] == b"{":
        return None
    return int(zstandard.get_frame_parameters(data).dict_id)


def by_id(records: Iterator[Record] | list[Record]) -> dict[str, Record]:
    return {record.id: record for record in records}


def test_a_small_index_stores_plain_json(tmp_path: Path) -> None:
    records = make_records(0, 50)
    backend = TantivyBackend.create(tmp_path, "english")
    backend.write(records, [])
    assert dictionaries(tmp_path) == []
    assert {doc_id: json.loads(data)["id"] for doc_id, data in stored(tmp_path).items()} == {
        record.id: record.id for record in records
    }
    assert by_id(backend.records()) == by_id(records)
    backend.close()


def test_a_large_write_trains_a_dictionary_and_compresses_every_record(tmp_path: Path) -> None:
    records = make_records(0, TRAINING_RECORDS + 200)
    backend = TantivyBackend.create(tmp_path, "english")
    backend.write(records, [])
    [name] = dictionaries(tmp_path)
    dictionary_id = int(name.removeprefix("records-").removesuffix(".zdict"))
    data = stored(tmp_path)
    assert {dictionary_of(value) for value in data.values()} == {dictionary_id}
    codec = RecordCodec(tmp_path / "tantivy", str(tmp_path))
    json_bytes = sum(len(codec.decode(value)) for value in data.values())
    assert sum(map(len, data.values())) < 0.5 * json_bytes
    assert by_id(backend.records()) == by_id(records)
    assert backend.get("doc00042") == records[42]
    backend.close()
    # Another instance reads the dictionary from its file.
    reopened = TantivyBackend.open(tmp_path, "english")
    assert by_id(reopened.records()) == by_id(records)
    reopened.close()


def test_small_writes_train_on_records_already_stored(tmp_path: Path) -> None:
    first, second = make_records(0, 600), make_records(600, 600)
    backend = TantivyBackend.create(tmp_path, "english")
    backend.write(first, [])
    assert dictionaries(tmp_path) == []
    backend.write(second, [])
    assert len(dictionaries(tmp_path)) == 1
    data = stored(tmp_path)
    assert {dictionary_of(data[record.id]) for record in first} == {None}
    assert None not in {dictionary_of(data[record.id]) for record in second}
    # A replaced record is compressed like any new one.
    changed = make_records(0, 1, seed=99)[0]
    backend.write([changed], [])
    assert dictionary_of(stored(tmp_path)[changed.id]) is not None
    assert backend.get(changed.id) == changed
    assert by_id(backend.records()) == by_id([changed, *first[1:], *second])
    backend.close()


def test_a_dictionary_left_by_a_failed_write_serves_the_next(tmp_path: Path) -> None:
    backend = TantivyBackend.create(tmp_path, "english")
    records = make_records(0, TRAINING_RECORDS + 10)

    def failing() -> Iterator[Record]:
        yield from records
        raise RuntimeError("parse worker died")

    with pytest.raises(RuntimeError, match="parse worker died"):
        backend.write(failing(), [])
    assert backend.info().count == 0
    [left] = dictionaries(tmp_path)
    backend.close()
    again = TantivyBackend.open(tmp_path, "english")
    again.write(records[:20], [])
    assert dictionaries(tmp_path) == [left]
    assert {dictionary_of(value) for value in stored(tmp_path).values()} == {
        int(left.removeprefix("records-").removesuffix(".zdict"))
    }
    assert by_id(again.records()) == by_id(records[:20])
    again.close()


def test_an_index_in_memory_compresses_too() -> None:
    records = make_records(0, TRAINING_RECORDS + 50)
    backend = TantivyBackend.create(None, "english")
    backend.write(records, [])
    assert by_id(backend.records()) == by_id(records)
    backend.close()


def test_threads_read_records_together(tmp_path: Path) -> None:
    records = make_records(0, TRAINING_RECORDS + 100)
    backend = TantivyBackend.create(tmp_path, "english")
    backend.write(records, [])
    expected = by_id(records)
    failures: list[str] = []

    def read() -> None:
        for _ in range(3):
            if by_id(backend.records()) != expected:
                failures.append("records differ")

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    backend.close()


def test_a_missing_dictionary_is_a_damaged_index(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    with Engine(index_dir, backend="tantivy") as engine:
        engine.backend.write(make_records(0, TRAINING_RECORDS + 10), [])
    [name] = dictionaries(index_dir)
    (index_dir / "tantivy" / name).unlink()
    with pytest.raises(IndexCorruptError) as caught, Engine(index_dir) as engine:
        engine.search("glacier")
    message = str(caught.value)
    assert message.startswith(
        f"the index in {index_dir} is damaged (cannot read the dictionary of its stored "
        f"records, {name}: No such file or directory)"
    )
    assert "\n" not in message


def test_a_damaged_record_is_a_damaged_index(tmp_path: Path) -> None:
    codec = RecordCodec(None, "memory")
    samples = [(n, json.dumps({"n": n, "text": " ".join(WORDS[n % 7:])}).encode()) for n in
               range(TRAINING_RECORDS)]
    [(_, data), *_] = codec.encoded(samples, lambda n: [])
    with pytest.raises(IndexCorruptError, match=r"^the index in memory is damaged \(a stored "
                       r"record cannot be decompressed: "):
        codec.decode(data[:-3])


@pytest.fixture(scope="module")
def trained() -> RecordCodec:
    codec = RecordCodec(None, "memory")
    rng = random.Random(3)
    samples = [
        (n, json.dumps({"id": n, "title": " ".join(rng.choices(WORDS, k=8))}).encode())
        for n in range(TRAINING_RECORDS)
    ]
    encoded = list(codec.encoded(samples, lambda n: []))
    assert all(dictionary_of(data) is not None for _, data in encoded)
    return codec


@settings(max_examples=200, deadline=None)
@given(st.lists(
    st.dictionaries(st.text(max_size=12), st.text() | st.integers() | st.none(), max_size=6),
    max_size=5,
))
def test_any_record_reads_back_as_written(trained: RecordCodec, values: list[object]) -> None:
    pairs = [
        (n, json.dumps(value, ensure_ascii=False).encode("utf-8"))
        for n, value in enumerate(values)
    ]
    encoded = list(trained.encoded(pairs, lambda n: []))
    assert [key for key, _ in encoded] == list(range(len(values)))
    assert [trained.decode(data) for _, data in encoded] == [data for _, data in pairs]


def test_a_reader_opened_before_the_dictionary_reads_with_it(tmp_path: Path) -> None:
    writer = TantivyBackend.create(tmp_path, "english")
    reader = TantivyBackend.open(tmp_path, "english")
    assert reader.info().count == 0
    records = make_records(0, TRAINING_RECORDS + 5)
    writer.write(records, [])
    assert len(dictionaries(tmp_path)) == 1
    assert reader.get(records[-1].id) == records[-1]
    assert by_id(reader.records()) == by_id(records)
    writer.close()
    reader.close()


def test_a_writer_uses_the_dictionary_of_the_index_as_it_is_now(tmp_path: Path) -> None:
    """Another process rebuilt the index (a new folder, no dictionary yet): a writer that
    compressed with the old one writes plain records, which any reader can read."""
    first = TantivyBackend.create(tmp_path, "english")
    first.write(make_records(0, TRAINING_RECORDS + 10), [])
    assert len(dictionaries(tmp_path)) == 1
    remove_index_files(tmp_path)
    rebuilt = TantivyBackend.create(tmp_path, "english")
    rebuilt.write(make_records(5000, 20), [])
    rebuilt.close()
    assert dictionaries(tmp_path) == []
    later = make_records(6000, 5)
    first.write(later, [])
    assert dictionaries(tmp_path) == []
    assert {dictionary_of(stored(tmp_path)[record.id]) for record in later} == {None}
    first.close()
    reader = TantivyBackend.open(tmp_path, "english")
    assert by_id(reader.records()) == by_id([*make_records(5000, 20), *later])
    reader.close()
