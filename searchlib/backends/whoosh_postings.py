"""A segment's text postings word by word, as plain arrays: one ``pread`` per word.

Whoosh's ``W3`` codec stores each (field, term) pair's postings as blocks, each a
zlib-compressed pickle of the documents, weights and positions together: reading one costs a
lookup in the segment's hash table of terms, a block header, a ``zlib`` call, an unpickling of
the positions too, and arrays built from tuples (~40 µs whatever the list's length). A word of
a query is searched in four text fields: four such lists per segment, then four sets of array
operations to add up its BM25F frequencies.

Searchlib's bulk writer also writes, per segment, every word of the scored text fields
(:data:`PLAIN_FIELDS`) once, with the documents holding it in any of them and its frequency in
each (zero where a field lacks it): ``<segment>.spl``, which the commit puts into the
segment's compound file with Whoosh's own files (Whoosh ignores it: the index stays a Whoosh
index, readable by Whoosh). A word is then one read and a few ``frombuffer`` calls, and its
BM25F frequencies a few operations on its columns. Layout, little-endian:

- ``MAGIC``, then the words, each: a flags byte, a byte with a bit per field that has the
  word, the word's length (2 bytes), the word (UTF-8), for each field that has it the number
  of documents with it there (4 bytes), then the sum of its weights there (``float32``),
  the documents (``uint16`` gaps when they fit, else
  ``int32``), then for each field that has it a row of frequencies (``uint8`` when all are
  whole and under 256, else ``float32``);
- the directory: per word, sorted by a 64-bit BLAKE2 hash of it, the hash, where its record
  is, the record's size and its number of documents;
- the fields (UTF-8, ``\\x00``-separated) and the footer: where the directory starts, how many
  words, the length of the field names, ``MAGIC``.

A segment without the file (written by an older searchlib; merged segments get one beside
them) is read through Whoosh's blocks as before; a file that is not whole is ignored the same
way. A word is found by its hash and checked byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import struct
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, NamedTuple

import numpy as np
import numpy.typing as npt

from ..schema import FIELD_WEIGHTS

#: The file's extension in the segment (Whoosh names it ``<segment id>.spl``).
EXTENSION = ".spl"
#: The fields whose postings the file holds: the scored text fields, which every word of a
#: query reads (phrases also read positions, from Whoosh's blocks).
PLAIN_FIELDS = tuple(FIELD_WEIGHTS)
MAGIC = b"SLWORDS3"
_FOOTER = struct.Struct("<QQI8s")
_HEAD = struct.Struct("<BBH")
#: Flags of a record.
_GAPS16 = 1  # documents as uint16 gaps from 0 (else int32 numbers)
_FLOAT32 = 2  # frequencies as float32 (else uint8)
_DIRECTORY = np.dtype([("hash", "<u8"), ("offset", "<u8"), ("size", "<u4"), ("count", "<u4")])
_MAX_FIELDS = 8
#: Words with at most this many postings are written without numpy.
_SMALL = 32
#: The fields (indexes) of each mask byte, and the counts' layout for each number of fields.
_MASK_FIELDS = tuple(tuple(i for i in range(_MAX_FIELDS) if mask >> i & 1) for mask in range(256))
_COUNTS = tuple(struct.Struct(f"<{n}I") for n in range(_MAX_FIELDS + 1))
_TOTALS = tuple(struct.Struct(f"<{n}f") for n in range(_MAX_FIELDS + 1))

Ints = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float32]
#: A word's frequencies: bytes where all are whole and under 256 (as stored), else float32.
Frequencies = npt.NDArray[np.float32] | npt.NDArray[np.uint8]
_NO_DOCS: Ints = np.zeros(0, dtype=np.int32)
_NO_WEIGHTS: Floats = np.zeros(0, dtype=np.float32)
#: A word's documents and weights in one field: arrays, or sequences of numbers.
FieldPostings = tuple[Any, Any]


def word_hash(word: bytes) -> int:
    """The 64-bit hash of a word (stable across processes and machines)."""
    return int.from_bytes(hashlib.blake2b(word, digest_size=8).digest(), "little")


@dataclass(frozen=True, slots=True)
class Word:
    """One word's postings in one segment: the documents holding it in any field of the
    file (ascending, deleted ones included); which of the file's fields have it (their
    indexes, ascending); per such field, a row of ``matrix`` with the word's frequency in
    each document (its Whoosh weight; 0 where the field lacks it), in ``counts`` the number
    of documents with the word in that field and in ``totals`` the sum of its weights there
    (Whoosh's term statistics, deleted documents included)."""

    docs: Ints
    fields: tuple[int, ...]
    matrix: Frequencies
    counts: tuple[int, ...]
    totals: tuple[float, ...]

    def row(self, index: int) -> int | None:
        """The row of the file's field ``index`` (None: no document has the word there)."""
        try:
            return self.fields.index(index)
        except ValueError:
            return None

    def field(self, index: int) -> tuple[Ints, Floats]:
        """The postings of the word in one field: documents and weights."""
        row = self.row(index)
        if row is None:
            return _NO_DOCS, _NO_WEIGHTS
        column = self.matrix[row].astype(np.float32, copy=False)
        if self.counts[row] == self.docs.size:
            return self.docs, column  # every document of the word has it in this field
        present = np.flatnonzero(column)
        return self.docs[present], column[present]

    def documents(self, index: int) -> int:
        """Documents holding the word in one field (deleted ones included)."""
        row = self.row(index)
        return 0 if row is None else self.counts[row]

    def stats(self, index: int) -> tuple[int, float]:
        """Documents holding the word in one field and the sum of its weights there (Whoosh's
        term statistics: deleted documents count; the sum in float32, as Whoosh keeps it)."""
        row = self.row(index)
        if row is None:
            return 0, 0.0
        return self.counts[row], self.totals[row]

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays (for the postings cache's budget)."""
        return int(self.docs.nbytes + self.matrix.nbytes)


class PostingsFileWriter:
    """Writes a ``.spl`` file word by word (only the directory is kept in memory)."""

    def __init__(self, out: BinaryIO, fields: Sequence[str]) -> None:
        if len(fields) > _MAX_FIELDS:
            raise ValueError(f"at most {_MAX_FIELDS} fields, not {len(fields)}")
        self._out = out
        self._fields = tuple(fields)
        self._entries: list[tuple[int, int, int, int]] = []
        out.write(MAGIC)
        self._at = len(MAGIC)

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields, in the order of a word's columns."""
        return self._fields

    def add(self, word: bytes, postings: Sequence[FieldPostings | None]) -> None:
        """One word: per field (in :attr:`fields` order) its documents (ascending) and
        weights, or None where the field lacks it. Words may come in any order."""
        small = sum(len(p[0]) for p in postings if p is not None) <= _SMALL
        if small and self._add_small(word, postings):
            return
        present = []
        for index, field_postings in enumerate(postings):
            if field_postings is not None:
                docs = np.asarray(field_postings[0], dtype=np.int64)
                if docs.size:
                    weights = np.asarray(field_postings[1], dtype=np.float32)
                    present.append((index, docs, weights))
        if not present:
            return
        if len(present) == 1:
            index, docs, weights = present[0]
            columns = [(index, weights)]
        else:
            docs, inverse = np.unique(
                np.concatenate([d for _, d, _ in present]), return_inverse=True
            )
            columns = []
            start = 0
            for index, field_docs, weights in present:
                column = np.zeros(docs.size, dtype=np.float32)
                column[inverse[start : start + field_docs.size]] = weights
                start += field_docs.size
                columns.append((index, column))
        gaps = np.diff(docs, prepend=0)
        flags = 0
        if gaps.size and int(gaps.max()) < 65536 and int(gaps.min()) >= 0:
            flags |= _GAPS16
            doc_bytes = gaps.astype("<u2").tobytes()
        else:
            doc_bytes = docs.astype("<i4").tobytes()
        values = np.concatenate([c for _, c in columns])
        if bool((values == np.round(values)).all()) and values.min() >= 0 and values.max() < 256:
            column_bytes = values.astype(np.uint8).tobytes()
        else:
            flags |= _FLOAT32
            column_bytes = values.astype("<f4").tobytes()
        mask = 0
        counts, totals = [], []
        for index, column in columns:
            mask |= 1 << index
            counts.append(int(np.count_nonzero(column)))
            # Whoosh's term statistics keep the sum of the weights in float32.
            totals.append(float(column.sum(dtype=np.float32)))
        record = (
            _HEAD.pack(flags, mask, len(word)) + word + _COUNTS[len(counts)].pack(*counts)
            + _TOTALS[len(totals)].pack(*totals) + doc_bytes + column_bytes
        )
        self._out.write(record)
        self._entries.append((word_hash(word), self._at, len(record), int(docs.size)))
        self._at += len(record)

    def _add_small(self, word: bytes, postings: Sequence[FieldPostings | None]) -> bool:
        """:meth:`add` in plain Python, for the few postings of most words (numpy costs more
        per call than such a word has postings); False where a weight is not a whole number
        (the float32 sums are then left to numpy)."""
        present = [(i, list(p[0]), list(p[1])) for i, p in enumerate(postings)
                   if p is not None and len(p[0])]
        if not present:
            return True
        values = [w for _, _, weights in present for w in weights]
        if not all(w == int(w) and w >= 0 for w in values):
            return False
        if len(present) == 1:
            index, docs, weights = present[0]
            columns = [(index, weights)]
        else:
            docs = sorted({d for _, ids, _ in present for d in ids})
            at = {d: i for i, d in enumerate(docs)}
            columns = []
            for index, ids, weights in present:
                column = [0] * len(docs)
                for d, w in zip(ids, weights, strict=True):
                    column[at[d]] = w
                columns.append((index, column))
        count = len(docs)
        gaps = [b - a for a, b in zip([0, *docs], docs, strict=False)]
        flags = 0
        if max(gaps) < 65536 and min(gaps) >= 0:
            flags |= _GAPS16
            doc_bytes = struct.pack(f"<{count}H", *gaps)
        else:
            doc_bytes = struct.pack(f"<{count}i", *docs)
        cells = [int(w) for _, column in columns for w in column]
        if max(cells) < 256:
            column_bytes = bytes(cells)
        else:
            flags |= _FLOAT32
            column_bytes = struct.pack(f"<{len(cells)}f", *cells)
        mask = 0
        counts, totals = [], []
        for index, column in columns:
            mask |= 1 << index
            counts.append(sum(1 for w in column if w))
            totals.append(float(sum(int(w) for w in column)))  # whole: exact in float32 too
        record = (
            _HEAD.pack(flags, mask, len(word)) + word + _COUNTS[len(counts)].pack(*counts)
            + _TOTALS[len(totals)].pack(*totals) + doc_bytes + column_bytes
        )
        self._out.write(record)
        self._entries.append((word_hash(word), self._at, len(record), count))
        self._at += len(record)
        return True

    def finish(self) -> None:
        """Write the directory and the footer (the caller closes the file)."""
        directory = np.array(self._entries, dtype=_DIRECTORY)
        directory.sort(order=["hash", "offset"])
        names = "\x00".join(self._fields).encode("utf-8")
        self._out.write(directory.tobytes())
        self._out.write(names)
        self._out.write(_FOOTER.pack(self._at, len(directory), len(names), MAGIC))


#: A word the file does not hold.
_ABSENT = Word(_NO_DOCS, (), np.zeros((0, 0), dtype=np.float32), (), ())


class Found(NamedTuple):
    """A word's record as stored, with its number of documents."""

    documents: int
    fields: int
    raw: bytes

    def decode(self) -> Word:
        """The word's documents and per-field frequencies."""
        raw, count = self.raw, self.documents
        flags, mask, length = _HEAD.unpack_from(raw)
        fields = _MASK_FIELDS[mask]
        counts_at = _HEAD.size + length
        counts = _COUNTS[len(fields)].unpack_from(raw, counts_at)
        totals = _TOTALS[len(fields)].unpack_from(raw, counts_at + 4 * len(fields))
        start = counts_at + 8 * len(fields)
        docs: Ints
        if flags & _GAPS16:
            docs = np.frombuffer(raw, "<u2", count, start).cumsum(dtype=np.int32)
            start += 2 * count
        else:
            docs = np.frombuffer(raw, "<i4", count, start).astype(np.int32)
            start += 4 * count
        matrix: Frequencies
        if flags & _FLOAT32:
            matrix = np.frombuffer(raw, "<f4", count * len(fields), start).astype(np.float32)
        else:
            # Kept as bytes: a quarter of the cache's room, and arithmetic reads them as the
            # same numbers (a byte and a float32 widen to the same double).
            matrix = np.frombuffer(raw, np.uint8, count * len(fields), start).copy()
        return Word(docs, fields, matrix.reshape(len(fields), count), counts, totals)


class PostingsFile:
    """One segment's ``.spl`` file, read with ``pread`` on its own descriptor (closed by
    :meth:`close` or when the object is garbage-collected)."""

    def __init__(self, path: str, base: int, length: int) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        self._close = weakref.finalize(self, os.close, self._fd)
        self._base = base
        try:
            if length < len(MAGIC) + _FOOTER.size:
                raise ValueError("too short for a postings file")
            footer = os.pread(self._fd, _FOOTER.size, base + length - _FOOTER.size)
            if os.pread(self._fd, len(MAGIC), base) != MAGIC or len(footer) != _FOOTER.size:
                raise ValueError("not a postings file")
            at, count, names_length, magic = _FOOTER.unpack(footer)
            size = count * _DIRECTORY.itemsize
            if magic != MAGIC or at + size + names_length + _FOOTER.size != length:
                raise ValueError("a damaged postings file")
            raw = os.pread(self._fd, size + names_length, base + at)
            if len(raw) != size + names_length:
                raise ValueError("a truncated postings file")
        except BaseException:
            self.close()
            raise
        directory = np.frombuffer(raw, dtype=_DIRECTORY, count=count)
        self._hashes = np.ascontiguousarray(directory["hash"])
        self._offsets = directory["offset"].tolist()
        self._sizes = directory["size"].tolist()
        self._counts = directory["count"].tolist()
        names = raw[size:].decode("utf-8")
        #: The fields, in the order of a word's columns; every word of theirs is in the file.
        self.fields: tuple[str, ...] = tuple(names.split("\x00")) if names else ()
        #: Field -> its column.
        self.index = {name: i for i, name in enumerate(self.fields)}

    @classmethod
    def of(cls, segreader: Any) -> PostingsFile | None:
        """The postings file of a Whoosh segment reader, or None if the segment has none (or
        one that cannot be read: then Whoosh's blocks are read instead)."""
        try:
            name = segreader.segment().make_filename(EXTENSION)
            storage = segreader._storage
            inner = getattr(storage, "a", None)  # a compound segment: OverlayStorage(a, b)
            if inner is not None and name in getattr(inner, "_dir", {}):
                entry = inner._dir[name]
                path = inner._file.file.name
                return cls(path, int(entry["offset"]), int(entry["length"]))
            outer = getattr(storage, "b", storage)
            folder = getattr(outer, "folder", None)
            if not isinstance(folder, str):
                return None
            path = os.path.join(folder, name)
            if not os.path.exists(path):
                return None
            return cls(path, 0, os.path.getsize(path))
        except (AttributeError, KeyError, OSError, TypeError, ValueError):
            return None

    def close(self) -> None:
        """Close the descriptor (once)."""
        self._close()

    def find(self, word: bytes) -> Found | None:
        """The word's record (None: no field of the file has it)."""
        wanted = word_hash(word)
        return self._found(word, wanted, int(self._hashes.searchsorted(np.uint64(wanted))))

    def _found(self, word: bytes, wanted: int, at: int) -> Found | None:
        """The record of ``word`` (hash ``wanted``), looked for from directory entry ``at``
        (the first with a hash not below it)."""
        hashes = self._hashes
        while at < hashes.size and int(hashes[at]) == wanted:
            raw = os.pread(self._fd, self._sizes[at], self._base + self._offsets[at])
            length = _HEAD.unpack_from(raw)[2]
            if raw[_HEAD.size : _HEAD.size + length] == word:
                return Found(self._counts[at], len(self.fields), raw)
            at += 1  # another word with the same hash
        return None

    def word(self, word: bytes) -> Word:
        """The word's postings (no documents if absent)."""
        found = self.find(word)
        return _ABSENT if found is None else found.decode()

    def words(self, words: Sequence[bytes]) -> list[Word]:
        """:meth:`word` of each of ``words``, their hashes looked up together (a query with
        feedback reads thirty words in every segment)."""
        wanted = np.array([word_hash(word) for word in words], dtype=np.uint64)
        out = []
        for word, key, at in zip(
            words, wanted.tolist(), self._hashes.searchsorted(wanted).tolist(), strict=True
        ):
            found = self._found(word, key, at)
            out.append(_ABSENT if found is None else found.decode())
        return out


def write_postings_file(
    out: BinaryIO,
    words: Iterable[tuple[bytes, Sequence[FieldPostings | None]]],
    fields: Sequence[str],
) -> None:
    """Write a whole ``.spl`` file from ``(word, per-field postings)``, in any order."""
    writer = PostingsFileWriter(out, fields)
    for word, postings in words:
        writer.add(word, postings)
    writer.finish()
