"""The contract between searchlib and a search engine.

A backend stores :class:`Record` s, answers :class:`SearchRequest` s with
:class:`~searchlib.results.SearchResults`, and hides every engine type: a second engine
(tantivy, OpenSearch) is one new module implementing :class:`Backend`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from ..query import Node
from ..results import Hit, SearchResults

Sort = Literal["relevance", "newest", "oldest", "quality"]
SORTS: tuple[Sort, ...] = ("relevance", "newest", "oldest", "quality")
MatchMode = Literal["all", "any", "auto"]
FeedbackMode = Literal["auto", "on", "off"]
FACETS = ("topic", "provider", "kind")


@dataclass(frozen=True)
class Record:
    """One document as the backend stores it: an article or a related item."""

    id: str
    kind: str
    title: str
    excerpt: str
    url: str
    provider: str
    published: datetime | None
    quality: int | None
    topics: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    body: str = ""
    #: Titles of an article's related items: they count towards its match, with a low weight.
    related_text: str = ""
    provider_domain: str = ""
    path: str = ""
    content_hash: str = ""
    related_ids: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchRequest:
    """Everything a search asks for, validated by the engine before it reaches a backend."""

    text: str
    query: Node
    topics: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    sort: Sort = "relevance"
    limit: int = 10
    offset: int = 0
    facet_size: int = 10
    match: MatchMode = "auto"
    #: Pseudo-relevance feedback: ``auto`` expands long queries, ``on`` any ranked query.
    feedback: FeedbackMode = "auto"
    exclude_ids: tuple[str, ...] = ()
    suggest: bool = True


class Backend(Protocol):
    """What an engine must do for searchlib."""

    language: str

    def write(self, records: Iterable[Record], delete_ids: Iterable[str]) -> None:
        """Add or replace ``records`` and delete ``delete_ids`` in one atomic commit."""

    def get(self, doc_id: str) -> Record | None:
        """The stored record with that id, or None."""

    def records(self, *, kind: str | None = None) -> Iterator[Record]:
        """Every stored record (of one kind), in no particular order."""

    def search(self, request: SearchRequest) -> SearchResults:
        """Run a search."""

    def similar(self, doc_id: str, request: SearchRequest) -> SearchResults:
        """Documents like ``doc_id`` (never itself), filtered and paged as ``request`` says."""

    def to_hit(self, record: Record) -> Hit:
        """A detached hit for a stored record."""

    def generation(self) -> int:
        """A number that grows with every commit."""

    def doc_count(self) -> int:
        """Documents in the index (not counting deleted ones)."""

    def counts(self) -> Mapping[str, Mapping[str, int]]:
        """Documents per value of each facet (``kind``, ``topic``, ``provider``)."""

    def size_bytes(self) -> int:
        """Size of the index files on disk."""

    def close(self) -> None:
        """Release files and searchers."""
