"""The postings file of a segment (``whoosh_postings``): what is written is read back, every
key is found by its bytes (hash collisions included), and a file that is not whole is refused."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib.backends import whoosh_postings
from searchlib.backends.whoosh_postings import MAGIC, PostingsFile, write_postings_file


def postings_lists() -> st.SearchStrategy[tuple[list[int], list[float]]]:
    """Ascending document numbers (small gaps, and gaps past 65,535 that need int32) with
    weights: all 1, whole numbers under 256, whole numbers past it, or fractions."""

    def weights(docs: list[int]) -> st.SearchStrategy[tuple[list[int], list[float]]]:
        n = len(docs)
        kinds = st.sampled_from(["ones", "small", "large", "fraction"])
        return kinds.flatmap(lambda kind: st.just((docs, [
            1.0 if kind == "ones" else
            float((i * 7) % 200 + 1) if kind == "small" else
            float(300 + i) if kind == "large" else
            0.5 + i for i in range(n)
        ])))

    docs = st.sets(st.one_of(st.integers(0, 300), st.integers(0, 3_000_000)),
                   min_size=1, max_size=60).map(sorted)
    return docs.flatmap(weights)


def written(lists: dict[tuple[str, bytes], tuple[list[int], list[float]]],
            fields: tuple[str, ...], tmp: Path) -> PostingsFile:
    out = io.BytesIO()
    write_postings_file(out, [(f, b, d, w) for (f, b), (d, w) in lists.items()], fields)
    path = tmp / "x.spl"
    path.write_bytes(b"head" + out.getvalue() + b"tail")  # as inside a compound file
    return PostingsFile(str(path), 4, len(out.getvalue()))


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(
    st.tuples(st.sampled_from(["title", "excerpt"]), st.binary(min_size=1, max_size=8)),
    postings_lists(), max_size=12,
))
def test_lists_read_back_as_written(
    tmp_path_factory: pytest.TempPathFactory,
    lists: dict[tuple[str, bytes], tuple[list[int], list[float]]],
) -> None:
    plain = written(lists, ("title", "excerpt"), tmp_path_factory.mktemp("spl"))
    try:
        assert plain.fields == {"title", "excerpt"}
        for (field, btext), (docs, weights) in lists.items():
            found = plain.find(field, btext)
            assert found is not None
            got_docs, got_weights = found.decode()
            assert got_docs.dtype == np.int32 and got_weights.dtype == np.float32
            assert got_docs.tolist() == docs
            assert got_weights.tolist() == weights
            assert found.documents == len(docs)
            assert found.total == float(np.float32(sum(weights)))
            assert plain.find(field, btext + b"\xff") is None or (field, btext + b"\xff") in lists
        assert plain.find("body", b"x") is None
    finally:
        plain.close()


def test_keys_with_the_same_hash_are_told_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(whoosh_postings, "key_hash", lambda key: 42 if key[-1] % 2 else 7)
    lists = {("title", bytes([65 + i])): ([i, i + 1], [1.0, 2.0]) for i in range(9)}
    plain = written(lists, ("title",), tmp_path)
    try:
        for (field, btext), (docs, _) in lists.items():
            found = plain.find(field, btext)
            assert found is not None and found.decode()[0].tolist() == docs
        assert plain.find("title", b"Z") is None  # its hash is taken by others
    finally:
        plain.close()


def test_a_file_that_is_not_whole_is_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    write_postings_file(out, [("title", b"virus", [1, 5], [1.0, 1.0])], ("title",))
    data = out.getvalue()
    path = tmp_path / "x.spl"
    for damaged in (data[:-1], data[:20], b"X" + data[1:], data[:-8] + b"SLPOST99", b""):
        path.write_bytes(damaged)
        with pytest.raises(ValueError):
            PostingsFile(str(path), 0, len(damaged))
    path.write_bytes(data)
    plain = PostingsFile(str(path), 0, len(data))
    assert data.startswith(MAGIC) and plain.find("title", b"virus") is not None
    plain.close()


def test_an_empty_file_has_no_terms(tmp_path: Path) -> None:
    out = io.BytesIO()
    write_postings_file(out, [], ())
    path = tmp_path / "x.spl"
    path.write_bytes(out.getvalue())
    plain = PostingsFile(str(path), 0, len(out.getvalue()))
    assert plain.fields == frozenset() and plain.find("title", b"a") is None
    plain.close()
