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
from itertools import repeat
from pickle import dumps
from typing import Any

from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldWriter,
    W3PerDocReader,
    W3PostingsWriter,
    W3TermInfo,
    _lenfield,
)
from whoosh.matching import ListMatcher
from whoosh.util.numeric import byte_to_length, length_to_byte

#: Posting lists this long or shorter are stored inside their term's entry.
INLINE_POSTINGS = 8
#: The pickle protocol of posting blocks and inlined postings: the first with native bytes.
PICKLE_PROTOCOL = 3


class SearchlibCodec(W3Codec):  # type: ignore[misc]
    """``W3Codec`` that inlines short posting lists and reads field lengths once."""

    def __init__(
        self, blocklimit: int = 128, compression: int = 3, inlinelimit: int = INLINE_POSTINGS
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
