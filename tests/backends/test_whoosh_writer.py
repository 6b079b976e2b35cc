"""The Whoosh bulk writer and codec: the segment they write is the one Whoosh's own writer writes.

Each test writes the same records twice, once with Whoosh's ``SegmentWriter`` (``add_document``
as Whoosh documents it) and once with :class:`BulkSegmentWriter`, and compares everything a
reader can see: every term with its statistics and postings (ids, weights, encoded values),
stored fields, columns, field lengths per document and in total.
"""

from __future__ import annotations

import gc
import io
import pickle
import tempfile
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh.codec.whoosh3 import W3Codec
from whoosh.writing import SegmentWriter

from searchlib.backends.whoosh import MemoryStorage, WhooshBackend, build_schema
from searchlib.backends.whoosh_codec import INLINE_POSTINGS, SearchlibCodec
from searchlib.backends.whoosh_writer import BulkSegmentWriter, encode_positions
from searchlib.records import Record, analyse_texts, field_texts

WORDS = ["heatwave", "grid", "solar", "Zürich", "人脸识别", "state-of-the-art", "covid-19",
         "the", "of", "Straße", "running", "runs", "camera", "cameras", "naïve", "x"]


def record(n: int, **fields: Any) -> Record:
    values: dict[str, Any] = {
        "kind": "article", "title": f"Story {n} about heatwave grid", "excerpt": "common words",
        "url": f"https://x.example/{n}", "provider": f"Provider {n % 3}",
        "published": datetime(2026, 1, 1 + n % 28, n % 24, tzinfo=UTC), "quality": n % 100,
        "topics": ("Climate", "Science, Tech") if n % 2 else ("Europe",),
        "body": "the grid the grid the grid " * (n % 4), "related_text": f"related {n}",
        "parents": (f"p{n % 5}",) if n % 3 == 0 else (), "path": f"/src/{n}.md",
    }
    values.update(fields)
    return Record(id=f"doc{n}", **values)


def write(records: list[Record], *, bulk: bool, codec: Any = None) -> Any:
    """A RAM index holding ``records`` in one segment, written by one writer or the other."""
    ix = MemoryStorage().create_index(build_schema("english"), indexname="MAIN")
    codec = codec or SearchlibCodec()
    writer = BulkSegmentWriter(ix, codec=codec) if bulk else SegmentWriter(ix, codec=codec)
    for r in records:
        writer.add_document(**WhooshBackend._fields(r))
    writer.commit()
    return ix


def contents(ix: Any, *, terminfo: bool = True) -> dict[str, Any]:
    """Everything a reader of the index's single segment sees."""
    with ix.reader() as reader:
        schema = ix.schema
        terms: dict[Any, Any] = {}
        for field, tbytes in reader.all_terms():
            info = reader.term_info(field, tbytes)
            m = reader.postings(field, tbytes)
            postings = []
            while m.is_active():
                postings.append((m.id(), m.weight(), m.value()))
                m.next()
            stats = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
                     info.max_weight(), info.min_id(), info.max_id())
            terms[field, tbytes] = (stats if terminfo else None, postings)
        docs = range(reader.doc_count_all())
        lengths = {
            name: [reader.doc_field_length(d, name) for d in docs]
            for name in schema.names() if schema[name].scorable
        }
        columns = {
            name: list(reader.column_reader(name, translate=False))
            for name in schema.names() if schema[name].column_type and reader.has_column(name)
        }
        return {
            "terms": terms,
            "stored": [reader.stored_fields(d) for d in docs],
            "lengths": lengths,
            "length_columns": sorted(
                n for n in schema.names() if reader._perdoc.has_column(f"_{n}_len")
            ),
            "columns": columns,
            "totals": {name: reader.field_length(name) for name in schema.names()},
        }


def test_bulk_writer_writes_what_whoosh_writes() -> None:
    records = [record(n) for n in range(300)]  # "grid" in 300 titles: several blocks
    records += [
        record(300, title="", excerpt="", body="", related_text="", topics=(), published=None,
               quality=None, provider=""),
        record(301, title="人脸识别 in Zürich: naïve Straße", excerpt="state-of-the-art covid-19"),
        record(302, title="the of and", excerpt="a an the"),  # stopwords only
    ]
    ours, theirs = contents(write(records, bulk=True)), contents(write(records, bulk=False))
    assert ours == theirs
    assert ("title", b"grid") in ours["terms"]
    assert len(ours["terms"]["title", b"grid"][1]) == 300
    # Only scorable fields have lengths (Whoosh adds none for ids, keywords and dates).
    assert ours["length_columns"] == [
        "body", "excerpt", "provider_text", "related", "spell", "title", "topic_text"
    ]


def test_postings_are_those_of_whooshs_own_codec() -> None:
    records = [record(n) for n in range(40)]
    ours = contents(write(records, bulk=True), terminfo=False)
    whoosh = contents(write(records, bulk=False, codec=W3Codec()), terminfo=False)
    assert ours == whoosh


def test_short_posting_lists_are_inlined_and_read_back() -> None:
    ix = write([record(n) for n in range(20)], bulk=True)
    with ix.reader() as reader:
        assert reader.term_info("id", b"doc3").is_inlined()  # one posting
        assert reader.term_info("provider", b"Provider 1").is_inlined()  # 6 postings
        assert not reader.term_info("title", b"grid").is_inlined()  # 20 postings
        m = reader.postings("provider", b"Provider 1")
        copy = m.copy()
        assert list(copy.all_ids()) == [1, 4, 7, 10, 13, 16, 19]
        assert copy.block_max_length() == m.block_max_length()
        assert list(reader.postings("id", b"doc3").all_items()) == [(3, None)]
    assert INLINE_POSTINGS == 8


def test_positions_encode_as_whoosh_encodes_them() -> None:
    from whoosh.formats import Positions

    for positions in ([0], [5], [0, 1, 2], [3, 10, 300, 70000]):
        assert encode_positions(positions) == Positions().encode(positions)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.lists(st.sampled_from(WORDS), max_size=12),
                          st.lists(st.sampled_from(WORDS), max_size=12),
                          st.text(max_size=30)),
                min_size=1, max_size=12))
def test_bulk_writer_agrees_on_any_text(texts: list[tuple[list[str], list[str], str]]) -> None:
    records = [
        record(n, title=" ".join(title), excerpt=" ".join(excerpt), body=body,
               related_text=body[:10])
        for n, (title, excerpt, body) in enumerate(texts)
    ]
    assert contents(write(records, bulk=True)) == contents(write(records, bulk=False))


def test_discarded_documents_leave_no_trace() -> None:
    # A document discarded (a later version came in the same commit) or one that failed while
    # being added: the segment is the one written without them, numbered without gaps.
    records = [record(n) for n in range(30)]
    kept = [r for r in records if r.id not in ("doc0", "doc7", "doc29")]
    ix = MemoryStorage().create_index(build_schema("english"), indexname="MAIN")
    writer = BulkSegmentWriter(ix)
    for r in records:
        number = writer.add_document(**WhooshBackend._fields(r))
        if r.id in ("doc0", "doc7", "doc29"):
            writer.discard(number)
    broken = {**WhooshBackend._fields(record(99)), "published": "not a date"}
    with pytest.raises(ValueError, match="invalid literal"):
        writer.add_document(**broken)  # fails after filing the postings of earlier fields
    writer.commit()
    assert contents(ix) == contents(write(kept, bulk=False))
    assert ix.doc_count_all() == 27


def test_terms_analysed_ahead_give_the_same_segment() -> None:
    # What a parse worker sends (every field but the topics of related items, say) is what the
    # writer would have analysed itself.
    records = [record(n) for n in range(40)]
    records.append(record(40, title="人脸识别 in Zürich", excerpt="state-of-the-art covid-19"))
    ix = MemoryStorage().create_index(build_schema("english"), indexname="MAIN")
    writer = BulkSegmentWriter(ix)
    for r in records:
        texts = field_texts(r)
        del texts["topic_text"]
        fields = WhooshBackend._fields(r)
        writer.add_document(**fields, _terms=analyse_texts(texts, "english").terms)
    writer.commit()
    assert contents(ix) == contents(write(records, bulk=False))


def segment_files(ix: Any) -> dict[str, bytes]:
    """The bytes of each file of the index's single segment, by extension."""
    (segment,) = ix._segments()
    storage = segment.open_compound_file(ix.storage)
    return {
        name.split(".", 1)[1]: storage.open_file(name).read() for name in storage.list()
    }


def blocks(ix: Any) -> dict[Any, Any]:
    """Every term's entry and posting blocks as stored: the entry's statistics (not its
    offset), and for each block its length's sign, its info tuple and its decoded data."""
    postings = segment_files(ix)["pst"]
    found: dict[Any, Any] = {}
    with ix.reader() as reader:
        for field, tbytes in reader.all_terms():
            info = reader.term_info(field, tbytes)
            stats = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
                     info.max_weight(), info.min_id(), info.max_id(), info.is_inlined())
            if info.is_inlined():
                found[field, tbytes] = (stats, info.inlined_postings())
                continue
            offset, _ = info.extent()
            stream = io.BytesIO(postings[offset:])
            assert stream.read(4) == b"W3Bl"
            decoded = []
            while True:
                size = int.from_bytes(stream.read(4), "big", signed=True)
                start = stream.tell()
                block_info = pickle.load(stream)
                data = stream.read(abs(size) - (stream.tell() - start))
                decoded.append((size < 0, block_info, pickle.loads(zlib.decompress(data))))
                if size < 0:
                    break
            found[field, tbytes] = (stats, decoded)
    return found


def test_segments_hold_what_whoosh_writes() -> None:
    # Stored fields, lengths and columns: the same bytes as Whoosh's own writer (with
    # searchlib's codec) writes. Terms and postings: the same entries and blocks (block
    # statistics included); the bytes differ only where equal values share one pickled copy.
    records = [record(n) for n in range(300)]
    records.append(record(300, title="人脸识别 in Zürich", excerpt="state-of-the-art covid-19"))
    ours, theirs = write(records, bulk=True), write(records, bulk=False)
    our_files, their_files = segment_files(ours), segment_files(theirs)
    # And the text fields' postings as arrays (whoosh_postings), which Whoosh's writer lacks.
    assert sorted(our_files) == sorted([*their_files, "spl"])
    differ = {name for name in their_files if our_files[name] != their_files[name]}
    assert differ == {"pst", "trm"}
    assert blocks(ours) == blocks(theirs)
    assert len(our_files["pst"]) < len(their_files["pst"])


def test_in_memory_writers_sort_in_folders_of_their_own() -> None:
    """Two processes writing in-memory indexes at once must not share a temporary folder:
    Whoosh names it after the index, and the first writer to finish removes it."""
    storage = MemoryStorage()
    first, second = storage.temp_storage("MAIN.tmp"), storage.temp_storage("MAIN.tmp")
    try:
        assert first.folder != second.folder
        with second.create_file("kept") as out:
            out.write(b"x")
        first.destroy()
        assert second.file_exists("kept")
    finally:
        second.destroy()


def test_in_memory_writers_leave_no_folders_behind(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoosh's column writer empties its temporary folder but never removes it: the folders
    live in one of the storage's own, removed with the storage."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for bulk in (True, False):
        ix = write([record(n) for n in range(20)], bulk=bulk)
        assert len(list(tmp_path.iterdir())) == 1
        assert ix.searcher().doc_count() == 20
        ix.storage.destroy()
        assert list(tmp_path.iterdir()) == []
    write([record(1)], bulk=True)
    gc.collect()
    assert list(tmp_path.iterdir()) == []
