"""A segment's term dictionary and postings read straight from its file, as Whoosh lays them out.

Whoosh's ``W3TermsReader`` finds a term in the segment's hash table (``filedb.filetables.
OrderedHashReader``) with six small reads, each a ``seek`` and a ``read`` through three Python
layers (``StructFile``, the compound file's ``SubFile``, the buffered file): about 13 µs a term,
and a query of two words looks up sixteen (four fields, two segments at 20,000 articles).
:class:`TermDictionary` walks the same table with ``os.pread`` on its own descriptor of the
segment file: the slot, then the key and its entry in one read (about 4 µs), and a term's
posting blocks in one more. It reads the bytes Whoosh reads and falls back to Whoosh's reader
wherever the layout is not the one it knows (a segment that is not a compound file).
``pread`` has no file position, so concurrent readers need no lock.
"""

from __future__ import annotations

import os
import struct
import weakref
from collections.abc import Callable
from typing import Any

from whoosh.filedb.compound import SubFile

#: A hash table slot: the key's hash and the position of its entry (``filetables._pointer``).
_POINTER = struct.Struct("!Iq")
#: An entry's key and value lengths (``filetables._lengths``).
_LENGTHS = struct.Struct("!ii")
_FIELD_NUMBER = struct.Struct("!H")
#: Bytes read past a key with it: a term's entry is ~120-150 bytes unless its postings are
#: inlined; a longer one takes a second read.
_ENTRY_GUESS = 192


class TermDictionary:
    """One segment's term entries and posting bytes, read with ``pread``.

    Built by :meth:`of` from a Whoosh segment reader; the descriptor is the dictionary's own
    (closed by :meth:`close` or when it is garbage-collected), so it outlives the reader it
    was built from.
    """

    def __init__(
        self,
        path: str,
        terms_base: int,
        tables: list[tuple[int, int]],
        hashfn: Callable[[bytes], int],
        fieldmap: dict[str, int],
        postings_base: int,
    ) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        self._close = weakref.finalize(self, os.close, self._fd)
        self._terms_base = terms_base
        self._tables = tables
        self._hash = hashfn
        self._fieldmap = fieldmap
        self._postings_base = postings_base

    @classmethod
    def of(cls, segreader: Any) -> TermDictionary | None:
        """The dictionary of a segment reader, or None where its files are laid out otherwise
        than in a compound segment file (then Whoosh's reader is used)."""
        try:
            terms = segreader._terms  # W3TermsReader
            table = terms._tindex  # OrderedHashReader
            terms_file, postings_file = table.dbfile.file, terms._postfile.file
            if not (isinstance(terms_file, SubFile) and isinstance(postings_file, SubFile)):
                return None
            if terms_file._file is not postings_file._file or table.startoffset != 0:
                return None
            path = terms_file._file.name
            if not isinstance(path, str):
                return None
            return cls(
                path, terms_file._offset, list(table.tables), table.hashfn,
                dict(terms._fieldmap), postings_file._offset,
            )
        except (AttributeError, OSError, TypeError):
            return None

    def entry(self, fieldname: str, btext: bytes) -> bytes | None:
        """The stored entry of ``fieldname:btext`` (``W3TermInfo`` bytes), or None if absent.

        The walk of ``OrderedHashReader.ranges_for_key``: the key's hash picks one of 256
        tables and a slot in it; slots are probed in order (wrapping around) until the key
        or an empty slot."""
        number = self._fieldmap.get(fieldname)
        if number is None:
            return None
        key = _FIELD_NUMBER.pack(number) + btext
        keyhash = self._hash(key)
        start, slots = self._tables[keyhash & 255]
        if not slots:
            return None
        fd, base = self._fd, self._terms_base
        slot = (keyhash >> 8) % slots
        for _ in range(slots):
            slothash, at = _POINTER.unpack(os.pread(fd, _POINTER.size, base + start + slot * 12))
            if not at:
                return None
            if slothash == keyhash:
                head = os.pread(fd, _LENGTHS.size + len(key) + _ENTRY_GUESS, base + at)
                keylen, datalen = _LENGTHS.unpack_from(head)
                value_at = _LENGTHS.size + keylen
                if keylen == len(key) and head[_LENGTHS.size : value_at] == key:
                    if value_at + datalen <= len(head):
                        return head[value_at : value_at + datalen]
                    return os.pread(fd, datalen, base + at + value_at)
            slot = slot + 1 if slot + 1 < slots else 0
        return None

    def close(self) -> None:
        """Close the descriptor (once; also done when the dictionary is garbage-collected)."""
        self._close()

    def postings(self, offset: int, length: int) -> bytes:
        """``length`` bytes of the segment's postings file from ``offset``."""
        return os.pread(self._fd, length, self._postings_base + offset)
