"""A segment's text postings as plain arrays: one ``pread`` and two ``frombuffer`` per term.

Whoosh's ``W3`` codec stores a term's postings as blocks, each a zlib-compressed pickle of the
documents, weights and positions together; reading one costs a lookup in the segment's hash
table of terms (two reads), a block header, a ``zlib`` call, an unpickling of the positions
too, and arrays built from tuples: ~40 µs per term and segment, whatever the list's length. A
query of two words reads 8 lists a segment (four text fields), a long query with feedback 150.

Searchlib's bulk writer also writes, for every scored text field, each term's document numbers
and frequencies as plain arrays in one more file of the segment, ``<segment>.spl``, which goes
into the segment's compound file like Whoosh's own files (Whoosh ignores it: the index stays a
Whoosh index, readable by Whoosh). Reading a list from it takes ~5 µs. Layout, little-endian:

- ``MAGIC``, then the lists, each: a flags byte, the key's length (2 bytes), the key
  (``field␀term``), the documents (as ``uint16`` gaps when they fit, else ``int32``), the
  weights (none when all are 1, else ``uint8`` when whole and under 256, else ``float32``);
- the directory: per key, sorted by a 64-bit BLAKE2 hash of the key, the hash, the list's
  offset and size, its number of postings and the sum of its weights;
- the fields covered (UTF-8, ``\\x00``-separated) and the footer: where the directory starts,
  how many keys, the length of the field names, ``MAGIC``.

A segment without the file (written by Whoosh's own writer, by an older searchlib, or merged
by Whoosh) is read through Whoosh's blocks as before; a file that is not what it should be is
ignored the same way. A key is found by its hash and checked byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import struct
import weakref
from collections.abc import Iterable
from typing import Any, BinaryIO, NamedTuple

import numpy as np
import numpy.typing as npt

from ..schema import FIELD_WEIGHTS

#: The file's extension in the segment (Whoosh names it ``<segment id>.spl``).
EXTENSION = ".spl"
#: The fields whose postings the file holds: the scored text fields, which every word of a
#: query reads (phrases also read positions, from Whoosh's blocks).
PLAIN_FIELDS = tuple(FIELD_WEIGHTS)
MAGIC = b"SLPOST01"
_FOOTER = struct.Struct("<QQI8s")
_HEAD = struct.Struct("<BH")
#: Flags of a list.
_GAPS16 = 1  # documents as uint16 gaps from 0 (else int32 numbers)
_WEIGHTS_U8 = 2  # weights as uint8 (else, without _WEIGHTS_F32, all 1.0)
_WEIGHTS_F32 = 4
_DIRECTORY = np.dtype([
    ("hash", "<u8"), ("offset", "<u8"), ("size", "<u4"), ("count", "<u4"), ("total", "<f8"),
])


def key_hash(key: bytes) -> int:
    """The 64-bit hash of a ``field␀term`` key (stable across processes and machines)."""
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little")


def _key(fieldname: str, btext: bytes) -> bytes:
    return fieldname.encode("utf-8") + b"\x00" + btext


class PostingsFileWriter:
    """Writes a ``.spl`` file list by list (only the directory is kept in memory)."""

    def __init__(self, out: BinaryIO, fields: Iterable[str]) -> None:
        self._out = out
        self._fields = tuple(fields)
        self._entries: list[tuple[int, int, int, int, float]] = []
        out.write(MAGIC)
        self._at = len(MAGIC)

    def add(
        self, fieldname: str, btext: bytes, docs: npt.ArrayLike, weights: npt.ArrayLike
    ) -> None:
        """One term's postings: ascending document numbers and their weights."""
        numbers = np.asarray(docs, dtype=np.int64)
        count = len(numbers)
        if not count:
            return
        gaps = np.diff(numbers, prepend=0)
        flags = 0
        if int(gaps.max()) < 65536 and int(gaps.min()) >= 0:
            flags |= _GAPS16
            doc_bytes = gaps.astype("<u2").tobytes()
        else:
            doc_bytes = numbers.astype("<i4").tobytes()
        values = np.asarray(weights, dtype=np.float32)
        if bool((values == 1.0).all()):
            weight_bytes = b""
        elif bool((values == np.round(values)).all()) and values.min() >= 0 and values.max() < 256:
            flags |= _WEIGHTS_U8
            weight_bytes = values.astype(np.uint8).tobytes()
        else:
            flags |= _WEIGHTS_F32
            weight_bytes = values.astype("<f4").tobytes()
        key = _key(fieldname, btext)
        record = _HEAD.pack(flags, len(key)) + key + doc_bytes + weight_bytes
        self._out.write(record)
        # Whoosh's term statistics: the weights' sum, added up as float32 as its writer does.
        total = float(values.sum(dtype=np.float32))
        self._entries.append((key_hash(key), self._at, len(record), count, total))
        self._at += len(record)

    def finish(self) -> None:
        """Write the directory and the footer (the caller closes the file)."""
        directory = np.array(self._entries, dtype=_DIRECTORY)
        directory.sort(order=["hash", "offset"])
        names = "\x00".join(self._fields).encode("utf-8")
        self._out.write(directory.tobytes())
        self._out.write(names)
        self._out.write(_FOOTER.pack(self._at, len(directory), len(names), MAGIC))


class PostingsFile:
    """One segment's ``.spl`` file, read with ``pread`` on its own descriptor (closed by
    :meth:`close` or when the object is garbage-collected)."""

    def __init__(self, path: str, base: int, length: int) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        self._close = weakref.finalize(self, os.close, self._fd)
        self._base = base
        try:
            if length < len(MAGIC) + _FOOTER.size:
                raise ValueError("too short")
            footer = os.pread(self._fd, _FOOTER.size, base + length - _FOOTER.size)
            if os.pread(self._fd, len(MAGIC), base) != MAGIC or len(footer) != _FOOTER.size:
                raise ValueError("no postings file")
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
        self._totals = directory["total"].tolist()
        names = raw[size:].decode("utf-8")
        #: The fields whose every term is in the file.
        self.fields = frozenset(names.split("\x00")) if names else frozenset()

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

    def find(self, fieldname: str, btext: bytes) -> Found | None:
        """The term's list as stored (None: the field has no such term)."""
        key = _key(fieldname, btext)
        wanted = key_hash(key)
        hashes = self._hashes
        at = int(hashes.searchsorted(np.uint64(wanted)))
        while at < hashes.size and int(hashes[at]) == wanted:
            raw = os.pread(self._fd, self._sizes[at], self._base + self._offsets[at])
            _, length = _HEAD.unpack_from(raw)
            if raw[_HEAD.size : _HEAD.size + length] == key:
                return Found(self._counts[at], self._totals[at], raw)
            at += 1  # another key with the same hash
        return None


class Found(NamedTuple):
    """A term's list as stored in a postings file, with its statistics (Whoosh's term info:
    documents holding it and the sum of its weights, deleted documents included)."""

    documents: int
    total: float
    raw: bytes

    def decode(self) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
        """The document numbers (ascending, deleted ones included) and their weights."""
        raw, count = self.raw, self.documents
        flags, length = _HEAD.unpack_from(raw)
        start = _HEAD.size + length
        docs: npt.NDArray[np.int32]
        if flags & _GAPS16:
            docs = np.frombuffer(raw, "<u2", count, start).cumsum(dtype=np.int32)
            start += 2 * count
        else:
            docs = np.frombuffer(raw, "<i4", count, start).astype(np.int32)
            start += 4 * count
        if flags & _WEIGHTS_U8:
            weights = np.frombuffer(raw, np.uint8, count, start).astype(np.float32)
        elif flags & _WEIGHTS_F32:
            weights = np.frombuffer(raw, "<f4", count, start).astype(np.float32)
        else:
            weights = np.ones(count, dtype=np.float32)
        return docs, weights


def write_postings_file(
    out: BinaryIO, lists: Iterable[tuple[str, bytes, npt.ArrayLike, npt.ArrayLike]],
    fields: Iterable[str],
) -> None:
    """Write a whole ``.spl`` file from ``(field, term, documents, weights)`` in any order."""
    writer = PostingsFileWriter(out, fields)
    for fieldname, btext, docs, weights in lists:
        writer.add(fieldname, btext, docs, weights)
    writer.finish()
