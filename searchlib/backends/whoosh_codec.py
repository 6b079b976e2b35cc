"""searchlib's Whoosh codec: Whoosh 2.7.5's own ``W3Codec`` with three of its traps fixed.

Whoosh pickles each segment's codec into the index's table of contents, so this class must stay
importable under this exact module path and name (as ``whoosh_analysis.NltkAnalyzer`` must);
its on-disk format is ``W3Codec``'s, read by ``W3Codec``'s own readers.

The traps:

- **Short posting lists are never inlined.** ``W3PostingsWriter.finish_postings`` would store a
  term's postings inside its term info when there are fewer than ``inlinelimit`` of them, but
  it calls ``set_inline``, which does not exist (the method is ``set_inlined``), and the
  default limit of 1 means "never", so no one meets the error. Every term, even one that a
  single document holds (a document id, most date terms, most rare words), gets a block of
  its own in the postings file: about 100 bytes of header, pickle and zlib framing for
  one posting. Here lists of up to :data:`INLINE_POSTINGS` postings are inlined: a quarter
  smaller index.
- **Inlined postings lose their term info when copied.** ``ListMatcher.copy()`` drops the
  term and the term info, and its block-quality methods then fail. :class:`_InlineMatcher`
  keeps them.
- **Posting blocks are pickled with protocol 2**, in which every ``bytes`` value (a posting's
  positions or frequency) becomes a call to ``_codecs.encode`` on a latin-1 string: blocks
  and inlined term infos here are pickled with protocol 3 (native bytes), which Whoosh's
  readers load as they load any pickle: on a block of five positional postings, a third
  smaller once compressed, four times faster to write and three times faster to read. An
  inlined list whose weights are all 1.0 stores an empty weight tuple, which ``ListMatcher``
  reads as weights of 1.0 (as Whoosh's blocks store ``None`` for them).
- **A missing field-length column costs a ``stat`` per posting.** ``W3PerDocReader.
  _cached_reader`` remembers a column reader but not a column's absence, so for every posting
  of a field without lengths (ids, keywords, dates) ``doc_field_length`` asks the file system
  again whether the column exists; and where it exists, each length is one read of the file.
  When Whoosh merges segments it asks for a length per posting. :class:`_PerDocReader`
  remembers absent columns and reads each lengths column whole, once.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Sequence
from itertools import pairwise, repeat
from pickle import dumps
from typing import Any

from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldWriter,
    W3PerDocReader,
    W3PerDocWriter,
    W3PostingsWriter,
    W3TermInfo,
    _lenfield,
)
from whoosh.columns import CompressedBytesColumn, PickleColumn
from whoosh.matching import ListMatcher
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

#: Posting lists this long or shorter are stored inside their term's entry.
INLINE_POSTINGS = 8
#: The pickle protocol of posting blocks and inlined postings: the first with native bytes.
PICKLE_PROTOCOL = 3
#: The pickle protocol of stored fields: protocol 2 writes a datetime's state as a call to
#: ``_codecs.encode``; with 5, a document's stored fields take 15% less once compressed.
PICKLE_STORED = 5
#: Postings per block. Whoosh's 128 suits its matchers, which skip whole blocks; searchlib's
#: executor decodes every block of a term, and each block costs a header, a ``zlib`` call and
#: an unpickling whatever its size, so fewer, larger blocks are read faster.
POSTINGS_PER_BLOCK = 512


class SearchlibCodec(W3Codec):  # type: ignore[misc]
    """``W3Codec`` that inlines short posting lists and reads field lengths once."""

    def __init__(
        self,
        blocklimit: int = POSTINGS_PER_BLOCK,
        compression: int = 3,
        inlinelimit: int = INLINE_POSTINGS,
    ) -> None:
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def field_writer(self, storage: Any, segment: Any) -> W3FieldWriter:
        return _FieldWriter(self, storage, segment)

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> W3PostingsWriter:
        return _PostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def postings_reader(
        self, dbfile: Any, terminfo: Any, format_: Any, term: Any = None, scorer: Any = None
    ) -> Any:
        if terminfo.is_inlined():
            ids, weights, values = terminfo.inlined_postings()
            return _InlineMatcher(
                ids, weights, values, format_, scorer=scorer, term=term, terminfo=terminfo
            )
        return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)

    def per_document_writer(self, storage: Any, segment: Any) -> W3PerDocWriter:
        return _PerDocWriter(self, storage, segment)

    def per_document_reader(self, storage: Any, segment: Any) -> W3PerDocReader:
        return _PerDocReader(storage, segment)


class _FieldWriter(W3FieldWriter):  # type: ignore[misc]
    """Starts each term with a :class:`_TermInfo`."""

    def start_term(self, btext: bytes) -> None:
        if self._postwriter is None:
            raise Exception("Called start_term before start_field")
        self._btext = btext
        self._postwriter.start_postings(self._fieldobj.format, _TermInfo())


class _TermInfo(W3TermInfo):  # type: ignore[misc]
    """``W3TermInfo`` whose inlined postings are pickled compactly (read by ``from_bytes``)."""

    def to_bytes(self) -> bytes:
        if not self.is_inlined():
            return bytes(super().to_bytes())
        ids, weights, values = self._inlined
        return inlined_terminfo(
            ids, weights, values, self._weight, self._minlength, self._maxlength,
            self._maxweight,
        )


_TERMINFO = struct.Struct("!BfIBBfII")  # W3TermInfo._struct


def inlined_terminfo(
    ids: Sequence[int],
    weights: Sequence[float],
    values: Sequence[bytes],
    weight: float,
    minlength: int | None,
    maxlength: int,
    maxweight: float,
) -> bytes:
    """The term info entry of a term whose postings are inlined: ``W3TermInfo.to_bytes``
    with the postings pickled with protocol 3, and no weights when they are all 1.0."""
    head = _TERMINFO.pack(
        True,
        weight,
        len(ids),
        0 if minlength is None else length_to_byte(minlength),
        length_to_byte(maxlength),
        maxweight,
        ids[0],
        ids[-1],
    )
    if all(w == 1.0 for w in weights):
        weights = ()
    return head + dumps((tuple(ids), tuple(weights), tuple(values)), PICKLE_PROTOCOL)


class _PostingsWriter(W3PostingsWriter):  # type: ignore[misc]
    """Inlines a term's postings when there are at most ``inlinelimit`` of them, and pickles
    blocks with protocol 3."""

    _terminfo: Any

    def finish_postings(self) -> Any:
        if not self.written() and 0 < len(self) <= self._inlinelimit:
            terminfo = self._terminfo
            terminfo.add_block(self)
            terminfo.set_inlined(self._ids, self._weights, self._values)
            self._terminfo = None
            return terminfo
        return super().finish_postings()

    def _write_block(self, last: bool = False) -> None:
        # W3PostingsWriter._write_block, with the block data pickled with protocol 3.
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        data = (self._mini_ids(), self._mini_weights(), self._mini_values())
        databytes = dumps(data, PICKLE_PROTOCOL)
        comp = self._compression
        if comp:
            databytes = zlib.compress(databytes, comp)
        ids = self._ids
        infobytes = dumps(
            (len(ids), ids[-1], self._maxweight, comp, length_to_byte(self._minlength),
             length_to_byte(self._maxlength)),
            2,
        )
        postfile = self._postfile
        blocklength = len(infobytes) + len(databytes)
        if last:
            blocklength *= -1  # the last block of a term has a negative length
        postfile.write_int(blocklength)
        postfile.write(infobytes)
        postfile.write(databytes)
        self._blockcount += 1
        self._new_block()


class _InlineMatcher(ListMatcher):  # type: ignore[misc]
    """``ListMatcher`` over inlined postings that behaves as Whoosh's on-disk matcher does.

    Its copies keep their term and term info; past its end ``id()`` gives the last id instead
    of raising (``AndNotMatcher.skip_to`` reads the id of a matcher it has just moved past its
    end, which the on-disk matcher tolerates); and a posting without a value (a field that
    keeps none) has the value ``None``, not ``""`` (Whoosh's merge takes only bytes or None).
    """

    def id(self) -> Any:
        ids = self._ids
        return ids[self._i] if self._i < len(ids) else ids[-1]

    def value(self) -> Any:
        values = self._values
        return values[self._i] if values else None

    def all_items(self) -> Iterator[tuple[Any, Any]]:
        return zip(self._ids, self._values or repeat(None), strict=False)

    def copy(self) -> _InlineMatcher:
        return _InlineMatcher(
            self._ids, self._weights, self._values, self._format, self._scorer, self._i,
            self._all_weights, term=self._term, terminfo=self._terminfo,
        )


class _StoredColumn(PickleColumn):  # type: ignore[misc]
    """Whoosh's stored-fields column, pickling with protocol 5 (read back by ``loads``)."""

    class Writer(PickleColumn.Writer):  # type: ignore[misc]
        def add(self, docnum: int, v: Any) -> None:
            self._child.add(docnum, b"" if v is None else dumps(v, PICKLE_STORED))


class _PerDocWriter(W3PerDocWriter):  # type: ignore[misc]
    """``W3PerDocWriter`` whose stored fields are pickled with protocol 5 (when Whoosh merges
    segments; the bulk writer pickles them itself)."""

    def _create_column(self, fieldname: str, column: Any) -> None:
        if fieldname == "_stored":
            column = _StoredColumn(CompressedBytesColumn())
        super()._create_column(fieldname, column)


class _PerDocReader(W3PerDocReader):  # type: ignore[misc]
    """Remembers which columns exist, and holds each field-length column in memory."""

    def __init__(self, storage: Any, segment: Any) -> None:
        super().__init__(storage, segment)
        self._exists: dict[str, bool] = {}
        self._length_bytes: dict[str, bytes | None] = {}

    def has_column(self, fieldname: str) -> bool:
        exists = self._exists.get(fieldname)
        if exists is None:
            exists = self._exists[fieldname] = bool(super().has_column(fieldname))
        return exists

    def field_length_bytes(self, fieldname: str) -> bytes | None:
        """The length byte of every document in ``fieldname`` (None: the field has none)."""
        if fieldname not in self._length_bytes:
            lenfield = _lenfield(fieldname)
            if not self.has_column(lenfield):
                self._length_bytes[fieldname] = None
            else:
                # One byte per document, as far as the last document with a length.
                reader = self.column_reader(lenfield, LENGTHS_COLUMN)
                count = reader._count
                raw = bytes(reader._dbfile.get(reader._basepos, count)) if count else b""
                self._length_bytes[fieldname] = raw + bytes(max(0, self._doccount - count))
        return self._length_bytes[fieldname]

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> Any:
        if docnum > self._doccount:
            raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
        lengths = self.field_length_bytes(fieldname)
        if lengths is None:
            return default
        lbyte = lengths[docnum]
        # As W3PerDocReader: a zero byte (no length) gives None, not the default.
        return byte_to_length(lbyte) if lbyte else None


_ENTRY_LENGTHS = struct.Struct("!ii")  # filetables._lengths: key and value lengths
_BLOCK_LENGTH = struct.Struct("!i")


class TermWriter:
    """Writes whole terms of one field into a ``W3FieldWriter``'s files, bypassing its
    per-posting API: for the bulk writer, which has every posting of a term at hand.

    The bytes are those ``W3FieldWriter`` (with :class:`_PostingsWriter`) would write: posting
    blocks of ``blocklimit`` postings (the header tag before the first, the last one's length
    negative), then the term's entry in the ordered hash table of terms; lists of up to
    ``inlinelimit`` postings inlined in the entry. It writes with one call per entry and block
    and keeps the file positions itself; the hash table's own ``add`` costs more than the
    posting lists of most terms.
    """

    def __init__(self, fieldwriter: Any, fieldname: str, fieldobj: Any) -> None:
        fieldwriter.start_field(fieldname, fieldobj)
        self._prefix = pack_ushort(fieldwriter._fieldid)
        self._table = fieldwriter._tindex
        self._table_file = self._table.dbfile
        # Only this writer writes to the terms file while the field is written: it counts the
        # position itself instead of asking the file each time.
        self._table_position: int = self._table_file.tell()
        self._posts = fieldwriter._postfile
        codec = fieldwriter._codec
        self.blocklimit: int = codec._blocklimit
        self.inlinelimit: int = codec._inlinelimit
        self._compression: int = codec._compression
        self._fixed = fieldobj.format.fixed_value_size()

    def _add_entry(self, tbytes: bytes, value: bytes) -> None:
        # OrderedHashWriter.add and HashWriter.add, in one write.
        table = self._table
        key = self._prefix + tbytes
        if key <= table.lastkey:
            raise ValueError(f"Keys must increase: {table.lastkey!r}..{key!r}")
        position = self._table_position
        table.index.append(position)
        entry = _ENTRY_LENGTHS.pack(len(key), len(value)) + key + value
        self._table_file.write(entry)
        self._table_position = position + len(entry)
        hashed = table.hashfn(key)
        table.buckets[hashed & 255].append((hashed, position))
        table.lastkey = key

    def add_inlined(
        self, tbytes: bytes, ids: Sequence[int], weights: Sequence[float],
        values: Sequence[bytes], minlength: int | None, maxlength: int,
    ) -> None:
        """A term whose (at most ``inlinelimit``) postings go into its entry."""
        self._add_entry(tbytes, inlined_terminfo(
            ids, weights, values, sum(weights), minlength, maxlength, max(weights)
        ))

    def add_blocks(
        self, tbytes: bytes, ids: Sequence[int], weights: Sequence[float],
        values: Sequence[bytes] | None, block_lengths: Sequence[tuple[int | None, int]],
    ) -> None:
        """A term whose postings go into blocks of ``blocklimit``; ``block_lengths`` holds
        each block's shortest (None: no lengths) and longest field length; ``values`` is None
        for formats without values, else one value per posting."""
        posts = self._posts
        start = posts.tell()
        out = [WHOOSH3_HEADER_MAGIC]
        limit = self.blocklimit
        count = len(ids)
        comp = self._compression
        fixed = self._fixed
        total = 0.0
        maxweight = 0.0
        minlength: int | None = None
        maxlength = 0
        for number, begin in enumerate(range(0, count, limit)):
            end = min(count, begin + limit)
            block_ids = ids[begin:end]
            block_weights = weights[begin:end]
            # W3PostingsWriter._mini_ids, _mini_weights, _mini_values.
            deltas = [block_ids[0]]
            deltas += [b - a for a, b in pairwise(block_ids)]
            if block_weights.count(1.0) == len(block_weights):
                mini_weights: Any = None
            elif block_weights.count(block_weights[0]) == len(block_weights):
                mini_weights = block_weights[0]
            else:
                mini_weights = tuple(block_weights)
            if fixed is None or fixed < 0:
                mini_values: Any = tuple(values[begin:end]) if values is not None else ()
            elif fixed == 0:
                mini_values = None
            else:
                mini_values = b"".join(values[begin:end]) if values is not None else b""
            data = dumps((tuple(deltas), mini_weights, mini_values), PICKLE_PROTOCOL)
            if comp:
                data = zlib.compress(data, comp)
            block_max = max(block_weights)
            low, high = block_lengths[number]
            info = dumps(
                (end - begin, block_ids[-1], block_max, comp, length_to_byte(low),
                 length_to_byte(high)),
                2,
            )
            size = len(info) + len(data)
            out.append(_BLOCK_LENGTH.pack(-size if end == count else size))
            out.append(info)
            out.append(data)
            total += sum(block_weights)
            maxweight = max(maxweight, block_max)
            if low is not None:
                minlength = low if minlength is None else min(minlength, low)
            maxlength = max(maxlength, high)
        posts.write(b"".join(out))
        length = posts.tell() - start
        head = _TERMINFO.pack(
            False, total, count, 0 if minlength is None else length_to_byte(minlength),
            length_to_byte(maxlength), maxweight, ids[0], ids[-1],
        )
        self._add_entry(tbytes, head + pack_long(start) + pack_int(length))
