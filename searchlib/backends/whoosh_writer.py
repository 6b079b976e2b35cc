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

Documents are numbered as they come, but the per-document data (stored fields, lengths,
columns) is written only at the flush, so that a document left out (a later version of it came
in the same commit, or it failed half-way) leaves no gap: the others are renumbered.

Memory grows with the postings of one segment (at 10,000 generated articles, 32,000 documents
and 2.8 million postings: about 80 MB); its caller bounds the documents per commit.
"""

from __future__ import annotations

import struct
import zlib
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import pairwise
from pickle import dumps, loads
from typing import Any

from whoosh.columns import VarBytesColumn
from whoosh.fields import DATETIME, NUMERIC
from whoosh.formats import Existence, Frequency, Positions
from whoosh.util.numeric import to_sortable
from whoosh.writing import NO_MERGE, SegmentWriter

from ..analysis import Analyzer
from .whoosh_analysis import NltkAnalyzer
from .whoosh_codec import PICKLE_STORED, SearchlibCodec, TermWriter
from .whoosh_postings import EXTENSION, PLAIN_FIELDS, PostingsFileWriter

_pack_uint = struct.Struct("!I").pack
#: Values of a keyword field whose postings a writer remembers.
_MEMO_LIMIT = 4096
_ONE = _pack_uint(1)


#: Encodings of a single position, the most common posting of a positional field.
_SINGLE: dict[int, bytes] = {}


def encode_positions(positions: Sequence[int]) -> bytes:
    """``Positions.encode``: the count, then the pickled position deltas."""
    if len(positions) == 1:
        position = positions[0]
        encoded = _SINGLE.get(position)
        if encoded is None:
            encoded = _ONE + dumps([position], 2)
            if len(_SINGLE) < 4096:
                _SINGLE[position] = encoded
        return encoded
    deltas = [positions[0]]
    deltas += [b - a for a, b in pairwise(positions)]
    return _pack_uint(len(deltas)) + dumps(deltas, 2)


class _FieldPostings:
    """One field's postings, compactly: per term one array of ``docnum, frequency`` pairs
    (``docnum, frequency, start`` for positional fields, whose positions are
    ``places[start:start + frequency]``, encoded when the segment is written)."""

    __slots__ = ("boost", "docs", "fieldobj", "kind", "places", "scorable", "stride")

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
        #: term (str, or bytes from ``field.index``) -> array of docnum, frequency(, start), ...
        #: or the docnum alone for a single posting of frequency 1 (no positions).
        self.docs: dict[Any, array[int] | int] = {}
        self.stride = 3 if self.kind == "positions" else 2
        #: Every position of every posting of the field, in the order they came.
        self.places: array[int] = array("I")


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
        #: Per document, what the per-document writer takes (stored fields pickled and
        #: compressed, field lengths, column values), pickled: a few hundred bytes, where the
        #: objects would take kilobytes. None for a document that failed while being added.
        self._rows: list[bytes | None] = []
        #: Documents left out: discarded, or failed while being added.
        self._dropped: set[int] = set()
        #: Field names by number, and numbers by name: rows name fields by number.
        self._names = sorted(self.schema.names())
        self._numbers = {name: number for number, name in enumerate(self._names)}
        #: Per field: its number, the field, its postings (None: not indexed), the analyzer
        #: searchlib runs for it (None: Whoosh's own), whether it is stored, its column type.
        self._plans: dict[str, tuple[int, Any, _FieldPostings | None, Analyzer | None, bool,
                                     Any]] = {}
        for name, fieldobj in self.schema.items():
            postings = None
            if fieldobj.indexed:
                postings = self._fields[name] = _FieldPostings(fieldobj)
            self._plans[name] = (
                self._numbers[name], fieldobj, postings, self._analyzers.get(name),
                bool(fieldobj.stored), fieldobj.column_type,
            )
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
        plans = self._plans
        if any(name not in plans for name in names):
            if any(name.startswith("_") for name in names):
                raise ValueError("bulk writing takes no boosts or custom stored values")
            self._check_fields(self.schema, names)  # raises Whoosh's UnknownFieldError
        docnum = len(self._rows)
        stored: dict[str, Any] = {}
        lengths: list[tuple[int, int]] = []
        columns: list[tuple[int, Any]] = []
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                number, fieldobj, postings, analyzer, keep, column = plans[name]
                if postings is not None:
                    if analyzer is not None:
                        terms = analysed.get(name)
                        if terms is None:
                            terms = analyzer.terms(value)
                        length = self._add_terms(postings, docnum, terms)
                    else:
                        items = self._indexed_items(name, fieldobj, value)
                        length = self._add_indexed(postings, docnum, items)
                    # As Whoosh: lengths only for scorable fields (not ids, keywords, dates).
                    if length and postings.scorable:
                        self._add_length(name, docnum, length)
                        lengths.append((number, length))
                if keep:
                    stored[name] = value
                if column:
                    columns.append((number, fieldobj.to_column_value(value)))
        except BaseException:
            self._rows.append(None)  # its postings so far are dropped with it
            self._dropped.add(docnum)
            raise
        # What the per-document writer needs, written when the segment is flushed (so that a
        # discarded document leaves no gap); the stored fields as Whoosh's stored column
        # writes them (pickled, compressed), which is also their most compact form.
        packed = zlib.compress(dumps(stored, PICKLE_STORED), 3) if stored else None
        self._rows.append(dumps((packed, tuple(lengths), tuple(columns)), 5))
        self._added = True
        self.docnum += 1
        return docnum

    def discard(self, docnum: int) -> None:
        """Leave out a document this writer added (a later version of it came in the same
        commit): the segment is written without it."""
        if self._rows[docnum] is not None and docnum not in self._dropped:
            self._dropped.add(docnum)
            self.docnum -= 1

    def _add_length(self, name: str, docnum: int, length: int) -> None:
        """Remember a document's length in a scorable field, for the blocks' statistics."""
        lengths = self._lengths.get(name)
        if lengths is None:
            lengths = self._lengths[name] = array("I")
        if len(lengths) < docnum:  # zeros for the documents without the field
            lengths.frombytes(bytes(lengths.itemsize * (docnum - len(lengths))))
        lengths.append(length)

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
            places = postings.places
            for term, found in where.items():
                start = len(places)
                places.extend(found)
                entry = docs.get(term)
                if entry is None:
                    docs[term] = array("I", (docnum, len(found), start))
                else:
                    assert not isinstance(entry, int)  # positional entries are arrays
                    entry.append(docnum)
                    entry.append(len(found))
                    entry.append(start)
        else:
            counts = Counter(terms) if postings.kind == "frequency" else dict.fromkeys(terms, 1)
            for term, count in counts.items():
                entry = docs.get(term)
                if entry is None:
                    # A term's first posting with frequency 1 (most of them) is its docnum
                    # alone: an int takes a third of the memory of an array.
                    docs[term] = docnum if count == 1 else array("I", (docnum, count))
                elif isinstance(entry, int):
                    docs[term] = array("I", (entry, 1, docnum, count))
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
            if postings.kind != "positions":
                if entry is None:
                    docs[tbytes] = docnum if freq == 1 else array("I", (docnum, freq))
                elif isinstance(entry, int):
                    docs[tbytes] = array("I", (entry, 1, docnum, freq))
                else:
                    entry.append(docnum)
                    entry.append(freq)
                continue
            if entry is None:
                docs[tbytes] = entry = array("I")
            assert not isinstance(entry, int)  # positional entries are arrays
            entry.append(docnum)
            entry.append(freq)
            entry.append(len(postings.places))
            postings.places.extend(postings.fieldobj.format.decode_positions(vbytes))
        return length

    def _merge_segments(self, mergetype: Any, optimize: Any, merge: Any) -> Any:
        if optimize or (mergetype is not None and mergetype is not NO_MERGE):
            raise ValueError("a bulk writer does not merge segments: commit another writer")
        return NO_MERGE(self, self.segments)

    def _flush_segment(self) -> None:
        numbers = self._write_rows()
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        # The text fields' postings also as plain arrays (whoosh_postings), in a file that the
        # commit puts into the compound segment file with Whoosh's own.
        out = self.newsegment.create_file(self.storage, EXTENSION)
        words = PostingsFileWriter(out, [name for name in PLAIN_FIELDS if name in self._fields])
        self._write_words(words, numbers)
        words.finish()
        out.close()
        for name in sorted(self._fields):
            postings = self._fields.pop(name)
            if postings.docs:  # as Whoosh, a field without terms is not started
                self._write_field(fieldwriter, name, postings, numbers)
        fieldwriter.close()

    def _write_words(self, words: PostingsFileWriter, numbers: array[int] | None) -> None:
        """Every word of the text fields with its postings in each (see whoosh_postings)."""
        fields = [self._fields[name] for name in words.fields]
        for term in set().union(*(f.docs.keys() for f in fields)):
            postings: list[tuple[Any, Any] | None] = []
            for field in fields:
                entry = field.docs.get(term)
                if entry is None:
                    postings.append(None)
                    continue
                if isinstance(entry, int):
                    entry = array("I", (entry, 1))
                ids, freqs = entry[0 :: field.stride], entry[1 :: field.stride]
                if numbers is not None:
                    _, ids, freqs, _ = self._renumber(ids, freqs, None, numbers)
                weights = freqs if field.boost == 1.0 else [f * field.boost for f in freqs]
                postings.append((ids, weights) if ids else None)
            words.add(term.encode("utf-8") if isinstance(term, str) else term, postings)

    def _write_rows(self) -> array[int] | None:
        """Write every kept document's row through the per-document writer; returns each
        added document's number in the segment (None: all were kept, numbers unchanged)."""
        perdoc = self.perdocwriter
        schema = self.schema
        names = self._names
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
            packed, lengths, columns = loads(row)
            perdoc.start_doc(docnum)
            for number, length in lengths:
                name = names[number]
                perdoc.add_field(name, schema[name], None, length)
            for number, value in columns:
                name = names[number]
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
        """Every term of one field, in byte order, through a :class:`TermWriter`: the bytes
        Whoosh's postings writer writes, from whole lists rather than posting by posting."""
        terms = TermWriter(fieldwriter, name, postings.fieldobj)
        blocklimit, inlinelimit = terms.blocklimit, terms.inlinelimit
        lengths = self._lengths.get(name) if postings.scorable else None
        known = len(lengths) if lengths is not None else 0
        boost = postings.boost
        kind = postings.kind
        stride = postings.stride
        places = postings.places
        docs = postings.docs
        # str terms sort by code point, as their UTF-8 bytes do.
        for term in sorted(docs):
            entry = docs.pop(term)
            tbytes = term.encode("utf-8") if isinstance(term, str) else term
            if isinstance(entry, int):
                entry = array("I", (entry, 1))
            ids = entry[0::stride]
            freqs = entry[1::stride]
            encoded: list[bytes] | None = None
            if stride == 3:
                encoded = [
                    encode_positions(places[begin : begin + freq])
                    for freq, begin in zip(freqs, entry[2::3], strict=True)
                ]
            old_ids = ids
            if numbers is not None:
                old_ids, ids, freqs, encoded = self._renumber(ids, freqs, encoded, numbers)
                if not ids:
                    continue  # only documents left out held the term
            count = len(ids)
            weights = array("f", freqs if boost == 1.0 else [f * boost for f in freqs])
            values: Sequence[bytes] | None = encoded
            if kind == "frequency":
                values = [_pack_uint(f) for f in freqs]
            if count <= inlinelimit:
                minlength, maxlength = None, 0
                if lengths is not None:
                    found = [lengths[d] for d in old_ids if d < known and lengths[d]]
                    if found:
                        minlength, maxlength = min(found), max(found)
                terms.add_inlined(tbytes, ids, weights, values or (), minlength, maxlength)
                continue
            spans: list[tuple[int | None, int]] = []
            for begin in range(0, count, blocklimit):
                found = []
                if lengths is not None:
                    block = old_ids[begin : begin + blocklimit]
                    found = [lengths[d] for d in block if d < known and lengths[d]]
                spans.append((min(found), max(found)) if found else (None, 0))
            terms.add_blocks(tbytes, ids, weights, values, spans)
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
