"""Arrays read from Whoosh segments: postings, field lengths, sort keys, facet codes, deletions.

A Whoosh segment never changes after it is written (a commit adds segments, merges some into a
new one, or marks documents of old ones deleted), so everything read from it is kept as numpy
arrays keyed by its segment id and reused by every later searcher that still has the segment:
a commit costs arrays for its new segments only. Only the deleted-documents mask depends on
the commit; deletions in a segment only ever grow, so it is keyed by the segment id and its
number of deleted documents.

Postings are decoded in bulk from the stored blocks of Whoosh's ``W3`` codec
(``whoosh.codec.whoosh3``: each block of up to 512 postings, 128 when Whoosh wrote it, is a
pickled, zlib-compressed tuple of delta-encoded document numbers, weights and values); a
cumulative sum replaces Whoosh's generator ``delta_decode``. They go into
:class:`PostingsCache`, bounded by bytes.
"""

from __future__ import annotations

import bisect
import io
import os
import pickle
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.formats import Positions as PositionsFormat
from whoosh.util.numeric import byte_to_length

from .whoosh_facets import FIELD_SEP, TOPIC_SEP
from .whoosh_postings import EXTENSION, PLAIN_FIELDS, PostingsFile, write_postings_file
from .whoosh_stored import StoredFields
from .whoosh_terms import TermDictionary

IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Whoosh stores a document's field length as one byte; this table decodes it.
LENGTHS = np.array([byte_to_length(i) for i in range(256)], dtype=np.float64)
#: The default size of the postings cache, in megabytes (see ``PostingsCache``).
DEFAULT_CACHE_MB = 96.0
#: Python object overhead counted per cached posting list (arrays, tuple, dict entry).
_ENTRY_OVERHEAD = 400
_BLOCK_LENGTH = struct.Struct("!i")
_DOUBLE = struct.Struct(">d")
#: Term statistics kept per segment (about 150 bytes each); past this the table starts over.
_ENTRIES = 256
_TERM_INFOS = 50_000
_EMPTY_INTS: IntArray = np.zeros(0, dtype=np.int32)
_EMPTY_FLOATS = np.zeros(0, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class Postings:
    """One term's postings in one segment: document numbers (ascending, deleted documents
    included) and their weights (term frequencies); ``values`` holds the encoded positions
    when they were asked for."""

    docs: IntArray
    weights: npt.NDArray[np.float32]
    values: tuple[bytes, ...] | None = None

    @property
    def nbytes(self) -> int:
        """Bytes this posting list holds (arrays, and value strings if any)."""
        size = int(self.docs.nbytes + self.weights.nbytes) + _ENTRY_OVERHEAD
        if self.values is not None:
            size += sum(len(v) + 40 for v in self.values)
        return size


EMPTY_POSTINGS = Postings(_EMPTY_INTS, _EMPTY_FLOATS)


def read_postings(
    segreader: Any,
    fieldname: str,
    btext: bytes,
    values: bool = False,
    info: Any = None,
    dictionary: TermDictionary | None = None,
) -> Postings:
    """Decode every posting of ``fieldname:btext`` in one segment reader (empty if absent);
    ``info`` is the term's entry when the caller has just looked it up; ``dictionary`` the
    segment's, when it can be read directly (else Whoosh's reader is used)."""
    terms = segreader._terms  # W3TermsReader
    if info is None:
        info = lookup(segreader, dictionary, fieldname, btext)
        if info is None:
            return EMPTY_POSTINGS
    if info.is_inlined():
        ids, weights, vals = info.inlined_postings()
        if len(ids) and not len(weights):
            weights = [1.0] * len(ids)  # searchlib's codec stores all-1.0 weights as ()
        return Postings(
            np.asarray(ids, dtype=np.int32),
            np.asarray(weights, dtype=np.float32),
            tuple(vals) if values else None,
        )
    offset, length = info.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes keeps struct.unpack's tuple
        (length,) = length
    if dictionary is not None:
        raw = dictionary.postings(offset, length)
    else:
        raw = terms._postfile.get(offset, length)
    if raw[:4] != WHOOSH3_HEADER_MAGIC:
        raise pickle.UnpicklingError(f"bad postings header for {fieldname}:{btext!r}")
    stream = io.BytesIO(raw)
    position = 4
    docs_parts: list[IntArray] = []
    weight_parts: list[npt.NDArray[np.float32]] = []
    values_out: list[bytes] = []
    last_block = False
    while not last_block:
        (block_length,) = _BLOCK_LENGTH.unpack_from(raw, position)
        position += 4
        last_block = block_length < 0
        end = position + abs(block_length)
        stream.seek(position)
        count, _, _, compression, _, _ = pickle.load(stream)
        data = raw[stream.tell():end]
        if compression:
            data = zlib.decompress(data)
        parsed = None if values else _ids_and_weights(data, count)
        if parsed is None:
            ids, weights, vals = pickle.loads(data)
            deltas = np.array(ids, dtype=np.int32)
            if weights is None:
                block_weights = np.ones(count, dtype=np.float32)
            elif isinstance(weights, float):
                block_weights = np.full(count, weights, dtype=np.float32)
            else:
                block_weights = np.array(weights, dtype=np.float32)
            if values:
                values_out.extend(vals if isinstance(vals, tuple) else [b""] * count)
        else:
            deltas = parsed[0].astype(np.int32)
            block_weights = parsed[1].astype(np.float32)
        # A block's document numbers are delta-encoded from 0 (whoosh.util.delta_encode);
        # they are document numbers of one segment, so they fit in 32 bits.
        docs_parts.append(np.cumsum(deltas, out=deltas))
        weight_parts.append(block_weights)
        position = end
    if len(docs_parts) == 1:  # most terms: no copy
        docs, weights_out = docs_parts[0], weight_parts[0]
    else:
        docs, weights_out = np.concatenate(docs_parts), np.concatenate(weight_parts)
    return Postings(docs, weights_out, tuple(values_out) if values else None)


def read_positions(
    segreader: Any,
    fieldname: str,
    btext: bytes,
    wanted: IntArray,
    info: Any = None,
    dictionary: TermDictionary | None = None,
) -> list[bytes]:
    """The encoded positions of ``fieldname:btext`` in each document of ``wanted`` (ascending,
    every one holding the term), in the same order.

    Only the blocks that hold a wanted document are decompressed and unpickled: a block's
    header names its last document, so the others are skipped. A phrase asks for the few
    documents that hold all its words, and a common word's blocks are mostly elsewhere.
    """
    if not wanted.size:
        return []
    if info is None:
        info = lookup(segreader, dictionary, fieldname, btext)
        if info is None:
            raise pickle.UnpicklingError(f"no postings for {fieldname}:{btext!r}")
    if info.is_inlined():
        ids, _, vals = info.inlined_postings()
        return [vals[i] for i in _places(np.asarray(ids, dtype=np.int64), wanted, fieldname, btext)]
    offset, length = info.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes keeps struct.unpack's tuple
        (length,) = length
    if dictionary is not None:
        raw = dictionary.postings(offset, length)
    else:
        raw = segreader._terms._postfile.get(offset, length)
    if raw[:4] != WHOOSH3_HEADER_MAGIC:
        raise pickle.UnpicklingError(f"bad postings header for {fieldname}:{btext!r}")
    targets = wanted.tolist()
    stream = io.BytesIO(raw)
    position = 4
    out: list[bytes] = []
    done = 0  # wanted documents found so far
    last_block = False
    while not last_block and done < len(targets):
        (block_length,) = _BLOCK_LENGTH.unpack_from(raw, position)
        position += 4
        last_block = block_length < 0
        end = position + abs(block_length)
        stream.seek(position)
        count, last_id, _, compression, _, _ = pickle.load(stream)
        if targets[done] <= last_id:
            data = raw[stream.tell():end]
            if compression:
                data = zlib.decompress(data)
            ids, _, vals = pickle.loads(data)
            # Delta-encoded from 0 in every block (see read_postings).
            docs = np.cumsum(np.asarray(ids, dtype=np.int64))
            stop = bisect.bisect_right(targets, last_id, done)
            at = _places(docs, wanted[done:stop], fieldname, btext)
            if not isinstance(vals, tuple):
                vals = (b"",) * count
            out.extend(vals[i] for i in at)
            done = stop
        position = end
    if done < len(targets):
        raise pickle.UnpicklingError(f"the postings of {fieldname}:{btext!r} lack a document")
    return out


#: Bytes before the pickled gaps in a value of Whoosh's ``Positions`` format (the count).
_POSITIONS_COUNT = struct.calcsize("!I")


def position_decoder(fmt: Any) -> Callable[[bytes], Iterable[int]]:
    """A decoder of the encoded positions of a field's format: Whoosh's own, except for its
    ``Positions`` format (every positional field of this backend), whose gaps are unpickled
    and summed by ``itertools.accumulate`` instead of a Python loop (a phrase decodes the
    positions of every document that holds all its words)."""
    if type(fmt) is not PositionsFormat:
        return fmt.decode_positions  # type: ignore[no-any-return]

    def decode(value: bytes) -> Iterable[int]:
        gaps = value[_POSITIONS_COUNT:]
        # Whoosh's writer drops the pickle's final STOP opcode (its "minified" values).
        return accumulate(pickle.loads(gaps if gaps.endswith(b".") else gaps + b"."))

    return decode


def _places(
    docs: npt.NDArray[np.int64], wanted: IntArray, fieldname: str, btext: bytes
) -> list[int]:
    """Where each of ``wanted`` is in ``docs`` (both ascending); every one must be there."""
    at = np.minimum(np.searchsorted(docs, wanted), max(docs.size - 1, 0))
    if docs.size == 0 or not np.array_equal(docs[at], wanted):
        raise pickle.UnpicklingError(f"the postings of {fieldname}:{btext!r} lack a document")
    return at.tolist()  # type: ignore[no-any-return]


def write_postings_files(ix: Any) -> list[str]:
    """Give every segment of ``ix`` that has no postings file (see :mod:`.whoosh_postings`)
    one, as a file of its own beside it; returns the names written.

    Segments that Whoosh's own writer wrote (merges) have none; the file is built from the
    segment's blocks (~1 s per 30,000 documents), written under a temporary name and renamed,
    so that a reader never sees half of one. Whoosh deletes it with its segment (its name is
    the segment's). Indexes in memory are left as they are.
    """
    folder = getattr(ix.storage, "folder", None)
    if not isinstance(folder, str):
        return []
    written = []
    with ix.reader() as reader:
        for segreader, _ in reader.leaf_readers():
            segment = segreader.segment()
            if segment is None:
                continue
            existing = PostingsFile.of(segreader)
            if existing is not None:
                existing.close()
                continue
            schema = segreader.schema
            fields = [f for f in PLAIN_FIELDS if f in schema and schema[f].indexed]
            dictionary = TermDictionary.of(segreader)
            try:
                name = segment.make_filename(EXTENSION)
                path = os.path.join(folder, name)
                # Two processes may build it at once: each its own temporary file.
                temporary = f"{path}.{os.getpid()}_{threading.get_ident()}.tmp"
                with open(temporary, "wb") as out:
                    write_postings_file(out, _words(segreader, fields, dictionary), fields)
                os.replace(temporary, path)
                written.append(name)
            finally:
                if dictionary is not None:
                    dictionary.close()
    return written


def _words(
    segreader: Any, fields: list[str], dictionary: TermDictionary | None
) -> Iterator[tuple[bytes, list[tuple[IntArray, npt.NDArray[np.float32]] | None]]]:
    """Every word of ``fields`` in a segment with its postings in each, from the blocks."""
    lexicons = [set(segreader.lexicon(fieldname)) for fieldname in fields]
    for word in set().union(*lexicons):
        postings: list[tuple[IntArray, npt.NDArray[np.float32]] | None] = []
        for fieldname, lexicon in zip(fields, lexicons, strict=True):
            if word not in lexicon:
                postings.append(None)
                continue
            found = read_postings(segreader, fieldname, word, dictionary=dictionary)
            postings.append((found.docs, found.weights))
        yield word, postings


def _binint(data: bytes, at: int) -> tuple[int, int]:
    """The integer a ``BININT1/BININT2/BININT`` opcode at ``at`` holds, and where the next
    opcode starts; (-1, at) for anything else."""
    if at + 5 > len(data):
        return -1, at
    op = data[at]
    if op == _BININT1:
        return data[at + 1], at + 2
    if op == _BININT2:
        return data[at + 1] | data[at + 2] << 8, at + 3
    if op == _BININT:
        return int.from_bytes(data[at + 1 : at + 5], "little", signed=True), at + 5
    return -1, at


# Opcodes of the pickles (protocol 2) that hold a block: (ids, weights, values).
_MARK, _TUPLE, _BINPUT, _LONG_BINPUT = 0x28, 0x74, 0x71, 0x72
_BININT1, _BININT2, _BININT, _BINFLOAT, _NONE = 0x4B, 0x4D, 0x4A, 0x47, 0x4E


def lookup(
    segreader: Any, dictionary: TermDictionary | None, fieldname: str, btext: bytes
) -> Any:
    """The term's ``W3TermInfo`` in one segment, or None when the segment lacks it."""
    if dictionary is not None:
        entry = dictionary.entry(fieldname, btext)
        return None if entry is None else W3TermInfo.from_bytes(entry)
    try:
        return segreader._terms.term_info(fieldname, btext)
    except Exception:  # TermNotFound, or a field that this segment does not index
        return None


def _ids_and_weights(
    data: bytes, count: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] | None:
    """The delta-encoded ids and the weights of a postings block, read from its pickle
    without unpickling the values (positions) that make most of its cost; None when the
    block is not in the shape Whoosh's ``W3PostingsWriter`` gives it (then unpickle it).

    The pickle starts ``PROTO 2, MARK``, the ids as ``BININT1/BININT2/BININT``, ``TUPLE``,
    a memo put; then the weights: ``NONE`` (all 1), one ``BINFLOAT`` (all equal), or
    ``MARK``, a ``BINFLOAT`` each, ``TUPLE``.
    """
    size = len(data)
    if count < 4 or data[:3] != b"\x80\x02(":  # small tuples pickle as TUPLE1-3
        return None
    raw = np.frombuffer(data, dtype=np.uint8)
    first, at = _binint(data, 3)
    end = at + 2 * (count - 1)
    if first >= 0 and end < size and data[end] == _TUPLE and bool(
        (raw[at:end:2] == _BININT1).all()
    ):
        # The common case: the block's first document, then every gap under 256.
        deltas = np.empty(count, dtype=np.int64)
        deltas[0] = first
        deltas[1:] = raw[at + 1 : end : 2]
        at = end + 1
    else:
        found: list[int] = []
        at = 3
        for _ in range(count):
            if at >= size:
                return None
            op = data[at]
            if op == _BININT1:
                found.append(data[at + 1])
                at += 2
            elif op == _BININT2:
                found.append(data[at + 1] | data[at + 2] << 8)
                at += 3
            elif op == _BININT:
                found.append(int.from_bytes(data[at + 1 : at + 5], "little", signed=True))
                at += 5
            else:
                return None
        if at >= size or data[at] != _TUPLE:
            return None
        deltas = np.asarray(found, dtype=np.int64)
        at += 1
    if at < size and data[at] == _BINPUT:
        at += 2
    elif at < size and data[at] == _LONG_BINPUT:
        at += 5
    if at >= size:
        return None
    op = data[at]
    if op == _NONE:
        return deltas, np.ones(count)
    if op == _BINFLOAT:
        return deltas, np.full(count, _DOUBLE.unpack_from(data, at + 1)[0])
    stop = at + 1 + 9 * count
    if op != _MARK or stop >= size or data[stop] != _TUPLE:
        return None
    floats = raw[at + 1 : stop].reshape(count, 9)
    if not bool((floats[:, 0] == _BINFLOAT).all()):
        return None
    weights = np.ascontiguousarray(floats[:, 1:]).view(">f8").ravel().astype(np.float64)
    return deltas, weights


class PostingsCache:
    """Decoded posting lists (and other per-segment results) by key, least recently used
    evicted first once their bytes pass ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        """Bytes held now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Any:
        """The cached value of ``key`` (now the most recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def get_many(self, keys: Iterable[Hashable]) -> list[Any]:
        """:meth:`get` of each key, under one acquisition of the lock."""
        with self._lock:
            entries = self._entries
            out: list[Any] = []
            for key in keys:
                entry = entries.get(key)
                if entry is None:
                    out.append(None)
                else:
                    entries.move_to_end(key)
                    out.append(entry[0])
            return out

    def put(self, key: Hashable, value: Any, size: int) -> None:
        """Keep ``value`` (of ``size`` bytes) unless it alone exceeds the budget."""
        with self._lock:
            self._put(key, value, size)

    def put_many(self, items: Iterable[tuple[Hashable, Any, int]]) -> None:
        """:meth:`put` of each ``(key, value, size)``, under one acquisition of the lock."""
        with self._lock:
            for key, value, size in items:
                self._put(key, value, size)

    def _put(self, key: Hashable, value: Any, size: int) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        if size > self.max_bytes:
            return
        self._entries[key] = (value, size)
        self._bytes += size
        while self._bytes > self.max_bytes and self._entries:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._bytes -= dropped

    def resize(self, max_bytes: int) -> None:
        """Change the budget, evicting what no longer fits."""
        with self._lock:
            self.max_bytes = max_bytes
            while self._bytes > self.max_bytes and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def drop_segments(self, segids: Iterable[str]) -> None:
        """Forget every entry of these segments (keys start with the segment id)."""
        gone = set(segids)
        if not gone:
            return
        with self._lock:
            for key in [k for k in self._entries if isinstance(k, tuple) and k[0] in gone]:
                self._bytes -= self._entries.pop(key)[1]


class FacetCodes:
    """Facet value <-> integer code, one table per facet, shared by every segment.

    Codes only grow: a value whose documents are all gone keeps its code (and counts 0).
    """

    def __init__(self) -> None:
        self.codes: dict[str, dict[str, int]] = {"kind": {}, "provider": {}, "topic": {}}
        self.values: dict[str, list[str]] = {"kind": [], "provider": [], "topic": []}

    def code(self, facet: str, value: str) -> int:
        """The code of ``value`` in ``facet``, assigned on first sight."""
        table = self.codes[facet]
        found = table.get(value)
        if found is None:
            found = table[value] = len(table)
            self.values[facet].append(value)
        return found

    def lookup(self, facet: str, values: Iterable[str]) -> IntArray:
        """The codes of the known ``values`` (unknown ones match nothing)."""
        table = self.codes[facet]
        return np.array([table[v] for v in values if v in table], dtype=np.int32)


@dataclass
class SegmentData:
    """Arrays of one segment, each built the first time it is needed, kept while the segment
    is in the index."""

    segid: str
    doc_count: int
    lengths: dict[str, npt.NDArray[np.uint8] | None] = field(default_factory=dict)
    dated: npt.NDArray[np.int8] | None = None
    published: npt.NDArray[np.uint64] | None = None
    quality: npt.NDArray[np.int64] | None = None
    kind: IntArray | None = None
    provider: IntArray | None = None
    #: Topics, multi-valued: document ``d`` has ``topic_codes[topic_start[d]:topic_start[d+1]]``.
    topic_start: npt.NDArray[np.int64] | None = None
    topic_codes: IntArray | None = None
    topic_docs: IntArray | None = None
    live_key: int = -1
    live_mask: BoolArray | None = None
    #: Documents of filtered facet values, by (facet, values).
    value_masks: dict[tuple[Any, ...], BoolArray] = field(default_factory=dict)
    #: Term expansions of prefixes and fuzzy terms in this segment's dictionary.
    expansions: dict[tuple[Any, ...], tuple[bytes, ...]] = field(default_factory=dict)
    #: (field, term) -> (documents, occurrences) from the term dictionary, deleted included.
    term_infos: dict[tuple[str, bytes], tuple[int, float]] = field(default_factory=dict)
    #: The entries of the terms last looked up, until their postings are read: a term's
    #: statistics come first (for its idf), then its postings, and each lookup in Whoosh's
    #: hash table of terms costs several reads.
    entries: dict[tuple[str, bytes], Any] = field(default_factory=dict)
    #: The segment's term dictionary read directly (False: not tried yet).
    _dictionary: TermDictionary | bool | None = False
    #: The segment's postings file of its text fields (False: not tried yet; None: none).
    _postings_file: PostingsFile | bool | None = False
    _names: frozenset[str] | None = None
    _shifted: dict[str, npt.NDArray[np.intp]] = field(default_factory=dict)
    _code_masks: dict[str, list[BoolArray]] = field(default_factory=dict)
    _by_code: tuple[IntArray, IntArray, IntArray] | None = None
    #: The segment's stored fields read directly (False: not tried yet; None: through Whoosh).
    _stored: StoredFields | bool | None = False

    def dictionary(self, segreader: Any) -> TermDictionary | None:
        """The segment's :class:`TermDictionary` (None: its layout is read through Whoosh)."""
        if self._dictionary is False:
            self._dictionary = TermDictionary.of(segreader)
        return self._dictionary  # type: ignore[return-value]

    def stored_fields(self, segreader: Any, docnum: int) -> dict[str, Any]:
        """What Whoosh's ``SegmentReader.stored_fields`` gives, read with ``pread`` where the
        segment lays them out as Whoosh's codec does (see :mod:`.whoosh_stored`), without its
        copy of every document filtered by the schema (searchlib stores only its fields)."""
        if self._stored is False:
            self._stored = StoredFields.of(segreader)
        if self._stored is None:
            found = segreader._perdoc.stored_fields(docnum)
        else:
            assert isinstance(self._stored, StoredFields)
            found = self._stored.get(docnum)
        if not self.schema_names(segreader).issuperset(found):
            found = {k: v for k, v in found.items() if k in segreader.schema}
        return found  # type: ignore[no-any-return]

    def shifted(self, facet: str) -> npt.NDArray[np.intp]:
        """The codes of ``provider`` (or ``kind``) plus one, 0 for a document without a
        value: bins for ``bincount`` (after :meth:`facet_columns`)."""
        found = self._shifted.get(facet)
        if found is None:
            column = self.kind if facet == "kind" else self.provider
            assert column is not None
            found = self._shifted[facet] = (column + 1).astype(np.intp)
        return found

    def topics_by_code(self) -> tuple[IntArray, IntArray, IntArray]:
        """The segment's topic codes present (ascending), where each one's run starts, and
        the documents of the runs: ``topic_docs`` grouped by code (after
        :meth:`facet_columns`)."""
        if self._by_code is None:
            assert self.topic_codes is not None and self.topic_docs is not None
            order = np.argsort(self.topic_codes, kind="stable")
            ordered = self.topic_codes[order]
            starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
            if not ordered.size:
                starts = starts[:0]
            self._by_code = (
                ordered[starts].astype(np.int32), starts.astype(np.int32),
                self.topic_docs[order].astype(np.int32),
            )
        return self._by_code

    def value_masks_of(self, facet: str) -> list[BoolArray]:
        """For each code of a single-valued facet of few values (``kind``), up to the
        largest in this segment, the mask of its documents (after :meth:`facet_columns`)."""
        found = self._code_masks.get(facet)
        if found is None:
            column = self.kind if facet == "kind" else self.provider
            assert column is not None
            top = int(column.max()) if column.size else -1
            found = self._code_masks[facet] = [column == code for code in range(top + 1)]
        return found

    def schema_names(self, segreader: Any) -> frozenset[str]:
        """The names of the fields of the segment's schema."""
        if self._names is None:
            self._names = frozenset(segreader.schema.names())
        return self._names

    def postings_file(self, segreader: Any) -> PostingsFile | None:
        """The segment's :class:`PostingsFile` (None: its postings are read from Whoosh's
        blocks only)."""
        if self._postings_file is False:
            self._postings_file = PostingsFile.of(segreader)
        return self._postings_file  # type: ignore[return-value]

    def close(self) -> None:
        """Close the segment files this data reads directly, if any."""
        if isinstance(self._dictionary, TermDictionary):
            self._dictionary.close()
        self._dictionary = False
        if isinstance(self._postings_file, PostingsFile):
            self._postings_file.close()
        self._postings_file = False
        if isinstance(self._stored, StoredFields):
            self._stored.close()
        self._stored = False

    def term_info(self, segreader: Any, fieldname: str, btext: bytes) -> tuple[int, float]:
        """How many documents of the segment hold the term, and how often it occurs there
        (Whoosh's statistics: deleted documents count), from the term dictionary, cached."""
        key = (fieldname, btext)
        found = self.term_infos.get(key)
        if found is None:
            info = lookup(segreader, self.dictionary(segreader), fieldname, btext)
            if info is None:
                found = (0, 0.0)
            else:
                found = (int(info.doc_frequency()), float(info.weight()))
                # Kept until the postings are read (the entry has them, or where they are).
                if len(self.entries) >= _ENTRIES:
                    self.entries.clear()
                self.entries[key] = info
            if len(self.term_infos) >= _TERM_INFOS:
                self.term_infos.clear()
            self.term_infos[key] = found
        return found

    # -- per-document columns ----------------------------------------------------------------

    def field_lengths(self, segreader: Any, fieldname: str) -> npt.NDArray[np.uint8] | None:
        """Each document's length byte in ``fieldname`` (None: the field keeps no lengths)."""
        if fieldname not in self.lengths:
            perdoc = segreader._perdoc
            column = f"_{fieldname}_len"  # whoosh.codec.whoosh3._lenfield
            if not perdoc.has_column(column):
                self.lengths[fieldname] = None
            else:
                from whoosh.codec.whoosh3 import LENGTHS_COLUMN

                reader = perdoc.column_reader(column, LENGTHS_COLUMN)
                self.lengths[fieldname] = _numeric(reader, self.doc_count, np.uint8)
        return self.lengths[fieldname]

    def sort_columns(self, segreader: Any) -> None:
        """Read ``dated``, ``published`` and ``quality_rank`` (once)."""
        if self.dated is not None:
            return
        self.published = _column(segreader, "published", self.doc_count, np.uint64)
        self.quality = _column(segreader, "quality_rank", self.doc_count, np.int64)
        self.dated = _column(segreader, "dated", self.doc_count, np.int8)

    def facet_columns(self, segreader: Any, codes: FacetCodes) -> None:
        """Facet values of every document as integer codes (once), from ``facet_key``."""
        if self.kind is not None:
            return
        n = self.doc_count
        # Documents share few distinct cells (the same kind, provider and topics): each cell
        # is parsed once, and documents get its values by array indexing.
        cells: dict[bytes, int] = {b"": 0}
        cell_of = np.zeros(n, dtype=np.int64)
        if n and segreader.has_column("facet_key"):
            lookup = cells.setdefault
            cell_of[:] = [lookup(raw, len(cells)) for raw in _var_bytes(segreader, "facet_key", n)]
        # Cells are many (providers times topic sets) but their parts are few: each
        # distinct kind, provider and topic list is coded once. The cells are split as one
        # string (no list per cell: tens of thousands of small lists cost more in garbage
        # collection than in splitting).
        flat = FIELD_SEP.join(raw.decode("utf-8") for raw in cells).split(FIELD_SEP)
        # The empty first cell splits into one empty part, not three: it has no values.
        kinds, providers, topic_texts = ["", *flat[1::3]], ["", *flat[2::3]], ["", *flat[3::3]]
        kind_code = {"": -1} | {v: codes.code("kind", v) for v in dict.fromkeys(kinds) if v}
        provider_code = {"": -1} | {
            v: codes.code("provider", v) for v in dict.fromkeys(providers) if v
        }
        cell_kind = np.fromiter(map(kind_code.__getitem__, kinds), np.int32, len(kinds))
        cell_provider = np.fromiter(
            map(provider_code.__getitem__, providers), np.int32, len(providers)
        )
        # Topic lists: one row per distinct list, its sorted codes a run of list_codes.
        list_of: dict[str, int] = {}
        runs: list[int] = []
        for text in topic_texts:
            if text not in list_of:
                list_of[text] = len(list_of)
                runs.extend(
                    sorted({codes.code("topic", t) for t in text.split(TOPIC_SEP)}) if text
                    else ()
                )
                runs.append(-1)  # end of the list
        list_codes = np.array(runs, dtype=np.int32)
        ends = np.flatnonzero(list_codes == -1)
        list_first = np.concatenate(([0], ends[:-1] + 1))
        list_counts = ends - list_first
        doc_list = np.fromiter(
            map(list_of.__getitem__, topic_texts), np.int64, len(topic_texts)
        )[cell_of]
        counts = list_counts[doc_list]
        start = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=start[1:])
        # Each document's run of topics: its list's run in list_codes.
        positions = np.repeat(list_first[doc_list] - start[:-1], counts)
        self.topic_start = start
        self.topic_codes = list_codes[positions + np.arange(positions.size)]
        self.topic_docs = np.repeat(np.arange(n, dtype=np.int32), counts)
        self.kind, self.provider = cell_kind[cell_of], cell_provider[cell_of]

    def live(self, segreader: Any) -> BoolArray:
        """Which documents are not deleted (cached while the deletions stay the same)."""
        segment = segreader.segment()
        deleted = segment.deleted_count()
        if self.live_mask is None or self.live_key != deleted:
            mask = np.ones(self.doc_count, dtype=np.bool_)
            if deleted:
                gone = np.fromiter(segment.deleted_docs(), dtype=np.int64)
                mask[gone[gone < self.doc_count]] = False
            self.live_mask, self.live_key = mask, deleted
        return self.live_mask

    @property
    def nbytes(self) -> int:
        """Bytes held by this segment's columns."""
        arrays: list[Any] = [
            self.dated, self.published, self.quality, self.kind, self.provider,
            self.topic_start, self.topic_codes, self.topic_docs, self.live_mask,
            *self.lengths.values(),
        ]
        return sum(int(a.nbytes) for a in arrays if a is not None)


def _var_bytes(segreader: Any, name: str, doc_count: int) -> list[bytes]:
    """Every cell of a ``VarBytesColumn``, from one read of its data (Whoosh's own reader
    reads the file once per cell)."""
    reader = segreader.column_reader(name, translate=False)
    offsets, lengths = getattr(reader, "_offsets", None), getattr(reader, "_lengths", None)
    if offsets is None or lengths is None or len(offsets) < doc_count:
        return list(segreader.column_reader(name))
    starts = np.asarray(offsets, dtype=np.int64)[:doc_count]
    ends = starts + np.asarray(lengths, dtype=np.int64)[:doc_count]
    data = reader._dbfile.get(reader._basepos, int(ends.max()) if doc_count else 0)
    return [data[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]


def _column(segreader: Any, name: str, doc_count: int, dtype: Any) -> Any:
    """A numeric column of one segment as an array (its default where absent)."""
    if not segreader.has_column(name):  # no document of the segment has a value
        default = segreader.schema[name].column_type.default_value()
        return np.full(doc_count, default, dtype=dtype)
    reader = segreader.column_reader(name, translate=False)
    return _numeric(reader, doc_count, dtype)


def _numeric(reader: Any, doc_count: int, dtype: Any) -> Any:
    """Decode a Whoosh ``NumericColumn`` reader in bulk: big-endian values, then defaults for
    the documents after the last value written."""
    typecode = reader._typecode
    stored = min(reader._count, doc_count)
    raw = reader._dbfile.get(reader._basepos, stored * reader._fixedlen)
    out = np.full(doc_count, reader._default, dtype=dtype)
    out[:stored] = np.frombuffer(raw, dtype=np.dtype(typecode).newbyteorder(">"))
    return out
