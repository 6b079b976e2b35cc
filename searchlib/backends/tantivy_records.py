"""The tantivy backend's stored records: JSON, compressed with a dictionary of the index's own.

A record is stored whole, as JSON, in one bytes field of tantivy's document store. tantivy
compresses that store with LZ4 in 16 kB blocks, which finds the keys and the URL prefixes
repeated from record to record but codes no entropy: about 400 bytes a record at 100k
generated articles. zstd with a dictionary trained on the index's first records codes each
record alone in about 60% of that (measured on the same records: 293 bytes against LZ4's
463, compressing in 4.6 µs and decompressing in 1.5 µs a record). The store is the file a
searching process maps the most of (each page shown reads records all over it), so a smaller
store is a smaller resident set, not only a smaller index.

How records are kept:

- A record written before the index had a dictionary is plain JSON (it starts with ``{``).
- The dictionary is trained, once, by the first write that can give it
  :data:`TRAINING_RECORDS` samples (its own first records, then records already stored), and
  written as ``records-ID.zdict`` in tantivy's folder (synced, before any record that uses
  it is added; tantivy's clean-up only removes files it wrote itself). ``ID`` is zstd's own
  dictionary id, which every frame compressed with it carries: a record names the
  dictionary that reads it, so a dictionary left by a writer that died before its commit,
  or trained by two writers at once, is never a problem, only a spare file.
- Every later record is a zstd frame with that dictionary. A rebuild (which removes the
  folder) trains a new one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import zstandard

from ..durable import fsync_path
from ..errors import IndexCorruptError

#: Samples a dictionary is trained on; no dictionary until an index can give this many.
TRAINING_RECORDS = 1_000
#: The dictionary's size: 64 kB (measured: 16 kB compresses 6% worse, 110 kB 1% better).
DICTIONARY_BYTES = 65_536
#: zstd's level for records (3, zstd's default: level 6 saves 2% more at three times the
#: time a record).
LEVEL = 3
_NAME = "records-{}.zdict"
_PLAIN = b"{"

T = TypeVar("T")


class RecordCodec:
    """Compresses stored records with the index's dictionary, and reads them back.

    ``folder`` is tantivy's folder (None for an index in memory, whose dictionary lives in
    memory only); ``location`` names the index in error messages. Safe to share between
    threads: reading decompresses with a decompressor per thread, and writing (one thread at
    a time, under the backend's write lock) with its own compressor.
    """

    def __init__(self, folder: Path | None, location: str) -> None:
        self._folder = folder
        self._location = location
        #: Dictionary id -> dictionary, loaded the first time a record names it.
        self._dictionaries: dict[int, zstandard.ZstdCompressionDict] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        #: Dictionary id -> a compressor with it (for writing).
        self._compressors: dict[int, zstandard.ZstdCompressor] = {}

    # -- reading -----------------------------------------------------------------------------

    def decode(self, stored: bytes) -> bytes:
        """The JSON of a stored record."""
        if stored[:1] == _PLAIN:
            return stored
        try:
            dictionary_id = zstandard.get_frame_parameters(stored).dict_id
            return self._decompressor(dictionary_id).decompress(stored)
        except zstandard.ZstdError as exc:
            raise IndexCorruptError(
                f"the index in {self._location} is damaged (a stored record cannot be "
                f"decompressed: {exc})"
            ) from exc

    def _decompressor(self, dictionary_id: int) -> zstandard.ZstdDecompressor:
        # A decompressor serves one thread at a time: each thread keeps its own.
        decompressors: dict[int, zstandard.ZstdDecompressor] | None = getattr(
            self._local, "decompressors", None
        )
        if decompressors is None:
            decompressors = self._local.decompressors = {}
        found = decompressors.get(dictionary_id)
        if found is None:
            found = decompressors[dictionary_id] = zstandard.ZstdDecompressor(
                dict_data=self._dictionary(dictionary_id)
            )
        return found

    def _dictionary(self, dictionary_id: int) -> zstandard.ZstdCompressionDict:
        with self._lock:
            found = self._dictionaries.get(dictionary_id)
            if found is not None:
                return found
            if self._folder is None:
                raise IndexCorruptError(
                    f"the index in {self._location} is damaged (no dictionary {dictionary_id} "
                    "for its stored records)"
                )
            path = self._folder / _NAME.format(dictionary_id)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise IndexCorruptError(
                    f"the index in {self._location} is damaged (cannot read the dictionary "
                    f"of its stored records, {path.name}: {exc.strerror or exc})"
                ) from exc
            found = zstandard.ZstdCompressionDict(data)
            if found.dict_id() != dictionary_id:
                raise IndexCorruptError(
                    f"the index in {self._location} is damaged ({path.name} is not "
                    f"dictionary {dictionary_id})"
                )
            self._dictionaries[dictionary_id] = found
            return found

    # -- writing -----------------------------------------------------------------------------

    def encoded(
        self, records: Iterable[tuple[T, bytes]], stored_samples: Callable[[int], list[bytes]]
    ) -> Iterator[tuple[T, bytes]]:
        """``records`` (each with its JSON) with the bytes to store, in order.

        Without a dictionary yet, the first :data:`TRAINING_RECORDS` records are held back to
        train one (with up to as many of ``stored_samples(n)``, records already in the index,
        when these are fewer); an index that cannot give that many samples stays plain JSON.
        """
        # Looked for at every write: another process may have rebuilt the index meanwhile
        # (a new folder, without the dictionary this one wrote with before).
        compressor = self._writing_compressor()
        if compressor is None:
            iterator = iter(records)
            held: list[tuple[T, bytes]] = []
            for record in iterator:
                held.append(record)
                if len(held) == TRAINING_RECORDS:
                    break
            samples = [data for _, data in held]
            if len(samples) < TRAINING_RECORDS:
                samples += stored_samples(TRAINING_RECORDS - len(samples))
            if len(samples) >= TRAINING_RECORDS:
                compressor = self._train(samples)
            yield from _compress_all(held, compressor)
            records = iterator
        yield from _compress_all(records, compressor)

    def _writing_compressor(self) -> zstandard.ZstdCompressor | None:
        """A compressor with the index's dictionary (the newest file of the folder, or for an
        index in memory the last trained), or None when it has none yet."""
        if self._folder is None:
            with self._lock:
                trained = list(self._dictionaries)
            return self._compressor_for(trained[-1]) if trained else None
        newest: tuple[int, int] | None = None  # (modified, dictionary id)
        for path in self._folder.glob(_NAME.format("*")):
            dictionary_id = _dictionary_id(path)
            try:
                modified = path.stat().st_mtime_ns
            except FileNotFoundError:
                continue
            if dictionary_id is not None and (newest is None or modified > newest[0]):
                newest = (modified, dictionary_id)
        return None if newest is None else self._compressor_for(newest[1])

    def _compressor_for(self, dictionary_id: int) -> zstandard.ZstdCompressor:
        found = self._compressors.get(dictionary_id)
        if found is None:
            found = self._compressors[dictionary_id] = zstandard.ZstdCompressor(
                level=LEVEL, dict_data=self._dictionary(dictionary_id), write_checksum=False,
                write_content_size=True, write_dict_id=True,
            )
        return found

    def _train(self, samples: list[bytes]) -> zstandard.ZstdCompressor | None:
        """A dictionary trained on ``samples``, written (and synced) to the folder; None
        when zstd cannot learn one from them."""
        try:
            dictionary = zstandard.train_dictionary(
                DICTIONARY_BYTES, list[bytes | bytearray | memoryview](samples), level=LEVEL
            )
        except zstandard.ZstdError:
            return None  # samples too alike or too small to learn from: stay plain
        if self._folder is not None:
            path = self._folder / _NAME.format(dictionary.dict_id())
            temporary = path.with_name(f".{path.name}.tmp")
            with open(temporary, "wb") as handle:
                handle.write(dictionary.as_bytes())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
            # Before any record that needs it can be committed.
            fsync_path(self._folder)
        with self._lock:
            self._dictionaries[dictionary.dict_id()] = dictionary
        return self._compressor_for(dictionary.dict_id())


def _compress_all(
    records: Iterable[tuple[T, bytes]], compressor: zstandard.ZstdCompressor | None
) -> Iterator[tuple[T, bytes]]:
    """``records`` with their JSON compressed (as they are without a compressor)."""
    if compressor is None:
        yield from records
        return
    for key, data in records:
        yield key, compressor.compress(data)


def _dictionary_id(path: Path) -> int | None:
    """The id in a dictionary file's name (None for a name that holds none)."""
    stem = path.name.removeprefix("records-").removesuffix(".zdict")
    return int(stem) if stem.isdigit() else None
