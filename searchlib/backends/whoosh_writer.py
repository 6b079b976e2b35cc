"""A Whoosh segment writer for bulk loads: postings gathered in memory, written term by term.

Whoosh's ``SegmentWriter`` sends every posting through a pipeline that costs far more than the
index it produces: the analyzer yields a ``Token`` per word, each posting becomes a tuple in a
``PostingPool`` that pickles runs of them to temporary files, merges the runs back with
``heapq``, and (the trap of ``whoosh_codec``) asks the file system, per posting, for the
field's length. Profiled on 5,000 generated articles (1.4 million postings), that pipeline was
three quarters of indexing time.

:class:`BulkSegmentWriter` is a ``SegmentWriter`` (same lock, per-document writer, stored
fields, columns, commit and table of contents) that keeps each field's postings in memory as
``term -> (document numbers and frequencies, positions)`` and writes them, sorted, straight
to Whoosh's own postings writer when the segment is flushed. Fields analysed by searchlib's
analyzer take their terms from :meth:`Analyzer.terms` (or from terms analysed beforehand, in
a worker process); other fields (ids, keywords, dates) from Whoosh's own ``field.index()``.
The segment it writes is the one ``SegmentWriter`` would write (a test reads both and compares
every term, posting, length, stored field and column).

Memory grows with the postings of one segment: its caller bounds the documents per commit.
"""

from __future__ import annotations

import struct
import zlib
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import pairwise
from pickle import dumps
from typing import Any

from whoosh.columns import VarBytesColumn
from whoosh.fields import DATETIME, NUMERIC
from whoosh.formats import Existence, Frequency, Positions
from whoosh.system import pack_ushort
from whoosh.util.numeric import to_sortable
from whoosh.writing import NO_MERGE, SegmentWriter

from ..analysis import Analyzer
from .whoosh_analysis import NltkAnalyzer
from .whoosh_codec import SearchlibCodec, inlined_terminfo

_pack_uint = struct.Struct("!I").pack
#: Values of a keyword field whose postings a writer remembers.
_MEMO_LIMIT = 4096
_ONE = _pack_uint(1)


def encode_positions(positions: Sequence[int]) -> bytes:
    """``Positions.encode``: the count, then the pickled position deltas."""
    if len(positions) == 1:
        return _ONE + dumps(list(positions), 2)
    deltas = [positions[0]]
    deltas += [b - a for a, b in pairwise(positions)]
    return _pack_uint(len(deltas)) + dumps(deltas, 2)


class _FieldPostings:
    """One field's postings: per term, document numbers and frequencies (interleaved), and
    for positional fields the encoded positions of each posting."""

    __slots__ = ("boost", "docs", "fieldobj", "kind", "positions", "scorable")

    def __init__(self, fieldobj: Any) -> None:
        self.fieldobj = fieldobj
        fmt = fieldobj.format
        if type(fmt) is Positions:
            self.kind = "positions"
        elif type(fmt) is Frequency:
            self.kind = "frequency"
        elif type(fmt) is Existence:
            self.kind = "existence"
        else:
            raise TypeError(f"no bulk writing for the posting format {type(fmt).__name__}")
        self.boost = float(fmt.field_boost)
        self.scorable = bool(fieldobj.scorable)
        #: term (str, or bytes from ``field.index``) -> array of docnum, frequency, docnum, ...
        self.docs: dict[Any, array[int]] = {}
        #: term -> encoded positions per posting (positional fields only).
        self.positions: dict[Any, list[bytes]] = {}


class BulkSegmentWriter(SegmentWriter):  # type: ignore[misc]
    """A ``SegmentWriter`` whose postings stay in memory until the segment is flushed.

    It never merges other segments into its own (``SegmentWriter`` would feed theirs through
    the slow pool): its commit keeps the existing segments as they are, and merging is left to
    a separate commit (:meth:`searchlib.backends.whoosh.WhooshBackend.write` does one when
    small segments pile up).
    """

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        kwargs.setdefault("codec", SearchlibCodec())
        super().__init__(ix, **kwargs)
        self.mergetype = NO_MERGE
        self._fields: dict[str, _FieldPostings] = {}
        #: Field -> the analyzer searchlib runs for it (the fields it can analyse itself).
        self._analyzers: dict[str, Analyzer] = {}
        for name, fieldobj in self.schema.items():
            analyzer = getattr(fieldobj, "analyzer", None)
            if fieldobj.indexed and isinstance(analyzer, NltkAnalyzer):
                self._analyzers[name] = analyzer.analyzer
        #: Field -> length of each document (scorable fields), for the postings' block stats.
        self._lengths: dict[str, array[int]] = {}
        #: Per document: stored fields (pickled and compressed), field lengths, column values;
        #: None for a document that failed while being added.
        self._rows: list[tuple[bytes | None, tuple[tuple[str, int], ...],
                               tuple[tuple[str, Any], ...]] | None] = []
        #: Documents left out: discarded, or failed while being added.
        self._dropped: set[int] = set()
        #: Field -> value -> its postings from ``field.index`` (keyword fields).
        self._memos: dict[str, dict[str, list[Any]]] = {}

    def add_document(self, **fields: Any) -> int:
        """Add one document; ``_terms`` may map text fields to their terms, analysed already.

        Returns the document's number in this writer, for :meth:`discard`. Boosts
        (``_boost``, ``_<field>_boost``) and custom stored values are not supported.
        """
        self._check_state()
        analysed: Mapping[str, list[str]] = fields.pop("_terms", None) or {}
        names = sorted(fields)
        if any(name.startswith("_") for name in names):
            raise ValueError("bulk writing takes no boosts or custom stored values")
        schema = self.schema
        self._check_fields(schema, names)
        docnum = len(self._rows)
        stored: dict[str, Any] = {}
        lengths: list[tuple[str, int]] = []
        columns: list[tuple[str, Any]] = []
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                fieldobj = schema[name]
                if fieldobj.indexed:
                    length = self._index(name, fieldobj, docnum, value, analysed.get(name))
                    if length:
                        lengths.append((name, length))
                if fieldobj.stored:
                    stored[name] = value
                if fieldobj.column_type:
                    columns.append((name, fieldobj.to_column_value(value)))
        except BaseException:
            self._rows.append(None)  # its postings so far are dropped with it
            self._dropped.add(docnum)
            raise
        # What the per-document writer needs, written when the segment is flushed (so that a
        # discarded document leaves no gap); the stored fields as Whoosh's stored column
        # writes them (pickled, compressed), which is also their most compact form.
        packed = zlib.compress(dumps(stored, 2), 3) if stored else None
        self._rows.append((packed, tuple(lengths), tuple(columns)))
        self._added = True
        self.docnum += 1
        return docnum

    def discard(self, docnum: int) -> None:
        """Leave out a document this writer added (a later version of it came in the same
        commit): the segment is written without it."""
        if self._rows[docnum] is not None and docnum not in self._dropped:
            self._dropped.add(docnum)
            self.docnum -= 1

    def _index(
        self, name: str, fieldobj: Any, docnum: int, value: Any, terms: list[str] | None
    ) -> int:
        """File the postings of one field of one document; returns its length (0 for fields
        that keep none: ids, keywords and dates, as in Whoosh)."""
        postings = self._fields.get(name)
        if postings is None:
            postings = self._fields[name] = _FieldPostings(fieldobj)
        analyzer = self._analyzers.get(name)
        if analyzer is not None:
            if terms is None:
                terms = analyzer.terms(value)
            length = self._add_terms(postings, docnum, terms)
        else:
            length = self._add_indexed(postings, docnum, self._indexed_items(name, fieldobj, value))
        if not postings.scorable or not length:
            return 0
        lengths = self._lengths.get(name)
        if lengths is None:
            lengths = self._lengths[name] = array("I")
        if len(lengths) < docnum:  # zeros for the documents without the field
            lengths.frombytes(bytes(lengths.itemsize * (docnum - len(lengths))))
        lengths.append(length)
        return length

    @staticmethod
    def _add_terms(postings: _FieldPostings, docnum: int, terms: list[str]) -> int:
        """Postings of a field searchlib analysed; returns the field's length (as Whoosh
        counts it: the terms, or the distinct terms where the format keeps no frequency)."""
        docs = postings.docs
        if postings.kind == "positions":
            where: dict[str, list[int]] = {}
            for position, term in enumerate(terms):
                found = where.get(term)
                if found is None:
                    where[term] = [position]
                else:
                    found.append(position)
            encoded = postings.positions
            for term, places in where.items():
                entry = docs.get(term)
                if entry is None:
                    docs[term] = array("I", (docnum, len(places)))
                    encoded[term] = [encode_positions(places)]
                else:
                    entry.append(docnum)
                    entry.append(len(places))
                    encoded[term].append(encode_positions(places))
        else:
            counts = Counter(terms) if postings.kind == "frequency" else dict.fromkeys(terms, 1)
            for term, count in counts.items():
                entry = docs.get(term)
                if entry is None:
                    docs[term] = array("I", (docnum, count))
                else:
                    entry.append(docnum)
                    entry.append(count)
            if postings.kind == "existence":
                return len(counts)
        return len(terms)

    def _indexed_items(self, name: str, fieldobj: Any, value: Any) -> Any:
        """``fieldobj.index(value)``: remembered for the values of keyword fields (kinds,
        providers, topics repeat), each trie term of a number or date from one conversion."""
        if isinstance(fieldobj, NUMERIC):
            if fieldobj.shift_step and isinstance(value, (int, float, datetime)):
                # NUMERIC.index converts the value once per shift; once is enough.
                number = fieldobj.prepare_datetime(value) if isinstance(fieldobj, DATETIME) \
                    else value
                sortable = to_sortable(
                    fieldobj.numtype, fieldobj.bits, fieldobj.signed,
                    NUMERIC.prepare_number(fieldobj, number),
                )
                return [
                    (fieldobj.sortable_to_bytes(sortable, shift), 1, 1.0, b"")
                    for shift in range(0, fieldobj.bits, fieldobj.shift_step)
                ]
            return fieldobj.index(value)
        if fieldobj.unique or not isinstance(value, str):
            return fieldobj.index(value)
        memo = self._memos.setdefault(name, {})
        items = memo.get(value)
        if items is None:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            items = memo[value] = list(fieldobj.index(value))
        return items

    @staticmethod
    def _add_indexed(postings: _FieldPostings, docnum: int, items: Any) -> int:
        """Postings from Whoosh's own ``field.index()``; returns the field's length."""
        docs = postings.docs
        length = 0
        for tbytes, freq, weight, vbytes in items:
            if weight != freq * postings.boost:
                raise ValueError("bulk writing takes no token boosts")
            length += freq
            entry = docs.get(tbytes)
            if entry is None:
                docs[tbytes] = entry = array("I")
                if postings.kind == "positions":
                    postings.positions[tbytes] = []
            entry.append(docnum)
            entry.append(freq)
            if postings.kind == "positions":
                postings.positions[tbytes].append(vbytes)
        return length

    def _merge_segments(self, mergetype: Any, optimize: Any, merge: Any) -> Any:
        if optimize or (mergetype is not None and mergetype is not NO_MERGE):
            raise ValueError("a bulk writer does not merge segments: commit another writer")
        return NO_MERGE(self, self.segments)

    def _flush_segment(self) -> None:
        numbers = self._write_rows()
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        for name in sorted(self._fields):
            self._write_field(fieldwriter, name, self._fields.pop(name), numbers)
        fieldwriter.close()

    def _write_rows(self) -> array[int] | None:
        """Write every kept document's row through the per-document writer; returns each
        added document's number in the segment (None: all were kept, numbers unchanged)."""
        perdoc = self.perdocwriter
        schema = self.schema
        # The stored column's inner writer takes the bytes as compressed already.
        stored_writer = perdoc._colwriters["_stored"]._child
        numbers = None
        if self._dropped:
            numbers = array("I", range(len(self._rows)))
        docnum = 0
        for old, row in enumerate(self._rows):
            if old in self._dropped:
                continue
            assert row is not None
            if numbers is not None:
                numbers[old] = docnum
            packed, lengths, columns = row
            perdoc.start_doc(docnum)
            for name, length in lengths:
                perdoc.add_field(name, schema[name], None, length)
            for name, value in columns:
                perdoc.add_column_value(name, schema[name].column_type, value)
            if packed is not None:
                VarBytesColumn.Writer.add(stored_writer, docnum, packed)
            perdoc.finish_doc()
            docnum += 1
        self._rows = []
        self.docnum = docnum
        return numbers

    def _write_field(
        self, fieldwriter: Any, name: str, postings: _FieldPostings, numbers: array[int] | None
    ) -> None:
        """Every term of one field, in byte order, through Whoosh's postings writer.

        Each block of postings is handed to the postings writer whole (its id, weight and
        value lists and block statistics, as ``add_posting`` would have built them one posting
        at a time); the writer pickles, compresses and writes it, or inlines a short list.
        """
        fieldwriter.start_field(name, postings.fieldobj)
        lengths = self._lengths.get(name) if postings.scorable else None
        boost = postings.boost
        kind = postings.kind
        fieldid = pack_ushort(fieldwriter._fieldid)
        inlinelimit = fieldwriter._postwriter._inlinelimit
        # str terms sort by code point, as their UTF-8 bytes do.
        for term in sorted(postings.docs):
            entry = postings.docs.pop(term)
            tbytes = term.encode("utf-8") if isinstance(term, str) else term
            writer = fieldwriter._postwriter
            blocklimit = writer._blocklimit
            ids = entry[0::2]
            freqs = entry[1::2]
            encoded = postings.positions.pop(term) if kind == "positions" else None
            old_ids = ids
            if numbers is not None:
                old_ids, ids, freqs, encoded = self._renumber(ids, freqs, encoded, numbers)
                if not ids:
                    continue  # only documents left out held the term
            count = len(ids)
            if count <= inlinelimit:
                # Short lists go straight into the term's entry (what finish_term would write).
                weights = array("f", freqs if boost == 1.0 else [f * boost for f in freqs])
                if encoded is not None:
                    values: Sequence[bytes] = encoded
                elif kind == "frequency":
                    values = [_pack_uint(f) for f in freqs]
                else:
                    values = ()
                minlength, maxlength = None, 0
                if lengths is not None:
                    known = len(lengths)
                    found = [lengths[d] for d in old_ids if d < known and lengths[d]]
                    if found:
                        minlength, maxlength = min(found), max(found)
                fieldwriter._tindex.add(
                    fieldid + tbytes,
                    inlined_terminfo(ids, weights, values, sum(weights), minlength, maxlength,
                                     max(weights)),
                )
                continue
            fieldwriter.start_term(tbytes)
            for start in range(0, count, blocklimit):
                stop = min(count, start + blocklimit)
                block_ids = ids[start:stop]
                block_freqs = freqs[start:stop]
                writer._ids = block_ids
                if boost == 1.0:
                    writer._weights = array("f", block_freqs)
                    writer._maxweight = float(max(block_freqs))
                else:
                    writer._weights = array("f", [f * boost for f in block_freqs])
                    writer._maxweight = max(f * boost for f in block_freqs)
                if encoded is not None:
                    writer._values = encoded[start:stop]
                elif kind == "frequency":
                    if count <= writer._inlinelimit:  # inlined: one value per posting
                        writer._values = [_pack_uint(f) for f in block_freqs]
                    else:  # a block joins its fixed-size values: one string does
                        writer._values = [struct.pack(f"!{len(block_freqs)}I", *block_freqs)]
                if lengths is not None:
                    known = len(lengths)
                    olds = block_ids if numbers is None else old_ids[start:stop]
                    found = [lengths[d] for d in olds if d < known and lengths[d]]
                    if found:
                        writer._minlength = min(found)
                        writer._maxlength = max(found)
                if stop < count:
                    writer._write_block()
            fieldwriter.finish_term()
        fieldwriter.finish_field()

    def _renumber(
        self, ids: array[int], freqs: array[int], encoded: list[bytes] | None,
        numbers: array[int],
    ) -> tuple[array[int], array[int], array[int], list[bytes] | None]:
        """The postings of kept documents: their numbers before and after, frequencies,
        positions."""
        dropped = self._dropped
        keep = [i for i, d in enumerate(ids) if d not in dropped]
        if len(keep) == len(ids):
            return ids, array("I", (numbers[d] for d in ids)), freqs, encoded
        old_ids = array("I", (ids[i] for i in keep))
        return (
            old_ids,
            array("I", (numbers[d] for d in old_ids)),
            array("I", (freqs[i] for i in keep)),
            None if encoded is None else [encoded[i] for i in keep],
        )
