"""The narrow contract between searchlib's search pipeline and a search engine.

An engine stores :class:`~searchlib.records.Record` s and evaluates query plans
(:mod:`searchlib.plan`); everything else a search does (match modes, feedback, disjunctive
facets, highlights, suggestions, similar documents) is written once, in
:mod:`searchlib.searching`, above this protocol. A new engine is one module implementing
:class:`Backend`, registered by name in :mod:`searchlib.backends`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

from ..plan import Filters, Plan
from ..records import Record
from ..schema import Sort

__all__ = ["Backend", "Execution", "IndexInfo", "Record", "TermStats"]


@dataclass(frozen=True)
class Execution:
    """What one :meth:`Backend.execute` call answers.

    ``page`` holds the records of the requested window with their scores (``None`` unless the
    order is by relevance of a scored plan). ``facets`` maps each requested facet to the count
    of matching documents per value (values with no match left out).
    """

    total: int
    page: tuple[tuple[Record, float | None], ...]
    facets: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexInfo:
    """Live documents, bytes on disk, and documents per value of each facet."""

    count: int
    size_bytes: int
    facets: Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class TermStats:
    """How many live documents hold a term in a field, and how often it occurs there."""

    doc_frequency: int
    frequency: int


class Backend(Protocol):
    """What an engine implements for searchlib.

    Ordering (``execute``): ``relevance`` is score descending for a scored plan and newest
    first for :class:`~searchlib.plan.Everything`; ``newest``/``oldest`` by publication date;
    ``quality`` by quality descending, then newest. Documents without a date (or a quality)
    come last in every order, and equal keys go newer first.
    """

    #: The engine's name in ``searchlib.json`` and ``--backend``.
    name: ClassVar[str]
    #: Bumped when the engine's on-disk format changes so that old indexes cannot be read.
    format_version: ClassVar[int]
    #: Whether writing keeps the writing process's Python busy (analysis, postings built in
    #: Python): the indexer then parses in one worker process fewer than there are cores,
    #: leaving the writer one. An engine that indexes in threads of its own, outside the
    #: interpreter's lock, mostly waits for parsed documents and gets a worker a core.
    busy_writer: ClassVar[bool]
    language: str

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def exists(cls, path: Path) -> bool:
        """Whether ``path`` holds this engine's index."""
        ...

    @classmethod
    def create(cls, path: Path | None, language: str, *, lock_timeout: float = 0.0) -> Backend:
        """A new, empty index in ``path`` (``None``: in memory, where the engine can)."""
        ...

    @classmethod
    def open(cls, path: Path, language: str, *, lock_timeout: float = 0.0) -> Backend:
        """Open the index in ``path``; a damaged one raises ``IndexCorruptError``."""
        ...

    @classmethod
    def owned_files(cls, path: Path) -> list[Path]:
        """The files and folders in ``path`` that belong to this engine's index."""
        ...

    def close(self) -> None:
        """Release files, searchers and connections."""
        ...

    # -- writing -----------------------------------------------------------------------------

    def write(self, records: Iterable[Record], delete_ids: Iterable[str]) -> None:
        """Add or replace ``records`` and delete ``delete_ids`` in one atomic, durable commit.

        The last record of an id wins; deleting an unknown id is not an error; an id both
        deleted and written is kept, as written. ``records`` is read to its end before
        ``delete_ids`` is read, so a caller may stream records from a generator that fills
        the ids to delete as it goes. A write without records or ids is not a commit.
        """
        ...

    def generation(self) -> int:
        """A number that grows with every commit."""
        ...

    # -- reading -----------------------------------------------------------------------------

    def get(self, doc_id: str) -> Record | None:
        """The stored record with that id (every field but ``related_text``), or None."""
        ...

    def records(self, *, kind: str | None = None) -> Iterator[Record]:
        """Every stored record (of one kind), in no particular order."""
        ...

    def info(self) -> IndexInfo:
        """Counts, size and facet value counts of the whole index."""
        ...

    def execute(
        self,
        plan: Plan | None,
        filters: Filters,
        facets: Mapping[str, Filters],
        sort: Sort,
        offset: int,
        limit: int,
    ) -> Execution:
        """Evaluate ``plan`` (``None`` matches nothing) under ``filters``, in one call.

        ``total`` counts every match; ``page`` is the window ``[offset, offset + limit)`` in
        ``sort`` order; each facet in ``facets`` is counted over the documents matching
        ``plan`` under *that facet's* filters (the pipeline passes the filters without the
        facet's own, for disjunctive counts). Besides the facets of
        :data:`~searchlib.schema.FACETS`, ``facets`` may ask for
        :data:`~searchlib.schema.DAY_FACET`: documents per UTC day of publication
        (``YYYY-MM-DD``), undated documents left out (the days of a timeline).
        """
        ...

    def count(self, plan: Plan | None, filters: Filters) -> int:
        """How many documents match ``plan`` under ``filters``."""
        ...

    def term_stats(self, field: str, terms: Iterable[str]) -> Mapping[str, TermStats]:
        """Document frequency and total frequency of each analysed term in ``field``."""
        ...

    def similar_words(self, word: str, max_distance: int, limit: int) -> list[str]:
        """Up to ``limit`` words of titles and excerpts (case-folded, unstemmed: the ``spell``
        field) within ``max_distance`` edits of ``word`` (Levenshtein) that share its first
        letter, those in the most live documents first, then alphabetically."""
        ...

    def complete(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """Up to ``limit`` type-ahead completions of ``prefix`` (as
        :func:`~searchlib.records.completion_prefix` gives it): the words and two-word
        phrases of titles (:func:`~searchlib.records.completion_terms` of each title) that
        start with it, each with the number of live documents whose title has it,
        most first, then alphabetically. An empty prefix completes to nothing."""
        ...
