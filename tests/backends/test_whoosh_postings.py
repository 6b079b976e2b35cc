"""The words file of a segment (``whoosh_postings``): what is written is read back, field by
field; every word is found by its bytes (hash collisions included); a file that is not whole
is refused."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib.backends import whoosh_postings
from searchlib.backends.whoosh_postings import MAGIC, PostingsFile, Word, write_postings_file

FIELDS = ("title", "excerpt", "body")
Lists = list[tuple[list[int], list[float]] | None]


def field_postings() -> st.SearchStrategy[tuple[list[int], list[float]] | None]:
    """Ascending document numbers (small gaps, and gaps past 65,535 that need int32) with
    weights: all 1, whole numbers under 256, whole numbers past it, or fractions; or None."""

    def weights(docs: list[int]) -> st.SearchStrategy[tuple[list[int], list[float]]]:
        kinds = st.sampled_from(["ones", "small", "large", "fraction"])
        return kinds.map(lambda kind: (docs, [
            1.0 if kind == "ones" else
            float((i * 7) % 200 + 1) if kind == "small" else
            float(300 + i) if kind == "large" else
            0.5 + i for i in range(len(docs))
        ]))

    docs = st.sets(st.one_of(st.integers(0, 300), st.integers(0, 3_000_000)),
                   min_size=1, max_size=40).map(sorted)
    return st.one_of(st.none(), docs.flatmap(weights))


def written(words: dict[bytes, Lists], tmp: Path) -> PostingsFile:
    out = io.BytesIO()
    write_postings_file(out, list(words.items()), FIELDS)
    path = tmp / "x.spl"
    path.write_bytes(b"head" + out.getvalue() + b"tail")  # as inside a compound file
    return PostingsFile(str(path), 4, len(out.getvalue()))


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(
    st.binary(min_size=1, max_size=8), st.lists(field_postings(), min_size=3, max_size=3),
    max_size=12,
))
def test_words_read_back_field_by_field_as_written(
    tmp_path_factory: pytest.TempPathFactory, words: dict[bytes, Lists]
) -> None:
    plain = written(words, tmp_path_factory.mktemp("spl"))
    try:
        assert plain.fields == FIELDS
        for btext, lists in words.items():
            word = plain.word(btext)
            union = sorted({d for p in lists if p is not None for d in p[0]})
            assert word.docs.dtype == np.int32 and word.docs.tolist() == union
            assert (plain.find(btext) is None) == (not union)
            for index, postings in enumerate(lists):
                docs, weights = word.field(index)
                assert docs.dtype == np.int32 and weights.dtype == np.float32
                expected_docs, expected_weights = postings or ([], [])
                assert docs.tolist() == expected_docs
                assert weights.tolist() == expected_weights
                assert word.stats(index) == (
                    len(expected_docs), float(np.float32(sum(expected_weights)))
                )
                assert (word.row(index) is None) == (not expected_docs)
                assert word.documents(index) == len(expected_docs)
        assert plain.word(b"\xff" * 9).docs.size == 0  # longer than any word written
        # Read together (absent words and repeats among them), each is what it is alone.
        asked = [*words, b"\xff" * 9, *list(words)[:2]]
        assert_same_words(plain.words(asked), [plain.word(btext) for btext in asked])
    finally:
        plain.close()


def assert_same_words(found: list[Word], expected: list[Word]) -> None:
    assert len(found) == len(expected)
    for one, other in zip(found, expected, strict=True):
        assert one.docs.tolist() == other.docs.tolist()
        assert one.fields == other.fields
        assert one.matrix.dtype == other.matrix.dtype
        assert one.matrix.tolist() == other.matrix.tolist()
        assert (one.counts, one.totals) == (other.counts, other.totals)


def test_words_with_the_same_hash_are_told_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(whoosh_postings, "word_hash", lambda word: 42 if word[-1] % 2 else 7)
    words: dict[bytes, Lists] = {
        bytes([65 + i]): [([i, i + 1], [1.0, 2.0]), None, None] for i in range(9)
    }
    plain = written(words, tmp_path)
    try:
        for btext, lists in words.items():
            assert lists[0] is not None
            assert plain.word(btext).docs.tolist() == lists[0][0]
        assert plain.find(b"Z") is None  # its hash is taken by others
        asked = [b"Z", *reversed(list(words)), b"A"]
        found = plain.words(asked)
        assert [word.docs.tolist() for word in found] == [
            [], *([i, i + 1] for i in reversed(range(9))), [0, 1]
        ]
    finally:
        plain.close()


def test_a_file_that_is_not_whole_is_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    write_postings_file(out, [(b"virus", [([1, 5], [1.0, 1.0])])], ("title",))
    data = out.getvalue()
    path = tmp_path / "x.spl"
    for damaged in (data[:-1], data[:20], b"X" + data[1:], data[:-8] + b"SLWORDS8", b""):
        path.write_bytes(damaged)
        with pytest.raises(ValueError):
            PostingsFile(str(path), 0, len(damaged))
    path.write_bytes(data)
    plain = PostingsFile(str(path), 0, len(data))
    assert data.startswith(MAGIC) and plain.word(b"virus").docs.tolist() == [1, 5]
    plain.close()


def test_an_empty_file_has_no_words(tmp_path: Path) -> None:
    out = io.BytesIO()
    write_postings_file(out, [], ())
    path = tmp_path / "x.spl"
    path.write_bytes(out.getvalue())
    plain = PostingsFile(str(path), 0, len(out.getvalue()))
    assert plain.fields == () and plain.find(b"a") is None
    plain.close()


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(
    st.binary(min_size=1, max_size=8), st.lists(field_postings(), min_size=3, max_size=3),
    max_size=8,
))
def test_words_of_few_postings_are_written_as_numpy_writes_them(
    words: dict[bytes, Lists],
) -> None:
    # Words of few postings take a plain-Python way: the same bytes as numpy's.
    files = []
    for small in (0, 10_000):
        out = io.BytesIO()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(whoosh_postings, "_SMALL", small)
            write_postings_file(out, list(words.items()), FIELDS)
        files.append(out.getvalue())
    assert files[0] == files[1]
