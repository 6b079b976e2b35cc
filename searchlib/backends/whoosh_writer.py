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
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import pairwise
from pickle import dumps
from typing import Any

from whoosh.formats import Existence, Frequency, Positions
from whoosh.writing import NO_MERGE, SegmentWriter

from ..analysis import Analyzer
from .whoosh_analysis import NltkAnalyzer
from .whoosh_codec import SearchlibCodec

_pack_uint = struct.Struct("!I").pack
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

    def add_document(self, **fields: Any) -> None:
        """Add one document; ``_terms`` may map text fields to their terms, analysed already.

        Boosts (``_boost``, ``_<field>_boost``) and custom stored values are not supported.
        """
        self._check_state()
        analysed: Mapping[str, list[str]] = fields.pop("_terms", None) or {}
        names = sorted(fields)
        if any(name.startswith("_") for name in names):
            raise ValueError("bulk writing takes no boosts or custom stored values")
        schema = self.schema
        self._check_fields(schema, names)
        docnum = self.docnum
        perdoc = self.perdocwriter
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                fieldobj = schema[name]
                length = 0
                if fieldobj.indexed:
                    postings = self._fields.get(name)
                    if postings is None:
                        postings = self._fields[name] = _FieldPostings(fieldobj)
                    analyzer = self._analyzers.get(name)
                    if analyzer is not None:
                        terms = analysed.get(name)
                        if terms is None:
                            terms = analyzer.terms(value)
                        length = self._add_terms(postings, docnum, terms)
                    else:
                        length = self._add_indexed(postings, docnum, fieldobj.index(value))
                    if not postings.scorable:
                        length = 0  # as Whoosh: no lengths for ids, keywords and dates
                    elif length:
                        lengths = self._lengths.get(name)
                        if lengths is None:
                            lengths = self._lengths[name] = array("I")
                        if len(lengths) < docnum:  # zeros for the documents without the field
                            lengths.frombytes(bytes(lengths.itemsize * (docnum - len(lengths))))
                        lengths.append(length)
                perdoc.add_field(name, fieldobj, value if fieldobj.stored else None, length)
                column = fieldobj.column_type
                if column:
                    perdoc.add_column_value(name, column, fieldobj.to_column_value(value))
        except BaseException:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

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
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        for name in sorted(self._fields):
            self._write_field(fieldwriter, name, self._fields.pop(name))
        fieldwriter.close()

    def _write_field(self, fieldwriter: Any, name: str, postings: _FieldPostings) -> None:
        """Every term of one field, in byte order, through Whoosh's postings writer."""
        fieldwriter.start_field(name, postings.fieldobj)
        lengths = self._lengths.get(name) if postings.scorable else None
        nolengths = len(lengths) if lengths is not None else 0
        boost = postings.boost
        kind = postings.kind
        encoded = postings.positions
        # str terms sort by code point, as their UTF-8 bytes do.
        for term in sorted(postings.docs):
            entry = postings.docs[term]
            tbytes = term.encode("utf-8") if isinstance(term, str) else term
            fieldwriter.start_term(tbytes)
            add = fieldwriter._postwriter.add_posting
            values = encoded[term] if kind == "positions" else None
            for i in range(0, len(entry), 2):
                docnum, freq = entry[i], entry[i + 1]
                if kind == "positions":
                    assert values is not None
                    vbytes = values[i >> 1]
                elif kind == "frequency":
                    vbytes = _pack_uint(freq)
                else:
                    vbytes = b""
                length = lengths[docnum] if lengths is not None and docnum < nolengths else 0
                add(docnum, freq * boost, vbytes, length)
            fieldwriter.finish_term()
        fieldwriter.finish_field()
