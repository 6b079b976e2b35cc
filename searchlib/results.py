"""Plain, frozen, detached result data: what every search returns.

Nothing here holds a searcher or a file open, so results can be cached, pickled, and passed
between threads. ``to_dict()`` gives the JSON shape of DESIGN §5, which the CLI's ``--json`` and
the HTTP API emit unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def format_datetime(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``: ``2021-08-01T03:08:00Z``."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CoverageItem:
    """Another document of a hit's story (see :class:`Coverage`)."""

    id: str
    kind: str
    title: str
    url: str
    provider: str
    published: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """``{"id", "kind", "title", "url", "provider", "published"}``."""
        return {
            "id": self.id, "kind": self.kind, "title": self.title, "url": self.url,
            "provider": self.provider, "published": format_datetime(self.published),
        }


@dataclass(frozen=True)
class Coverage:
    """Who covers a hit's story, in a search collapsed by story: the story's id (its article's),
    how many of its documents match the search and from how many providers, and the best few
    of them besides the hit itself."""

    story: str
    documents: int
    providers: int
    top: tuple[CoverageItem, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """``{"story", "documents", "providers", "top": [...]}``."""
        return {
            "story": self.story, "documents": self.documents, "providers": self.providers,
            "top": [item.to_dict() for item in self.top],
        }


@dataclass(frozen=True)
class Hit:
    """One document in a result list (or on its own, from ``Engine.get``)."""

    id: str
    kind: str
    title: str
    excerpt: str
    url: str
    provider: str
    published: datetime | None
    topics: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    rank: int = 0
    score: float | None = None
    quality: int | None = None
    highlights: Mapping[str, str] = field(default_factory=dict)
    #: Fields only ``Engine.get`` fills: body, source path, provider domain, kept front matter.
    details: Mapping[str, Any] = field(default_factory=dict)
    #: In a search collapsed by story: the hit's story and what covers it.
    coverage: Coverage | None = None

    def to_dict(self) -> dict[str, Any]:
        """The hit shape of DESIGN §5 (plus ``quality`` and, from ``get``, the details)."""
        data: dict[str, Any] = {
            "rank": self.rank,
            "id": self.id,
            "kind": self.kind,
            "score": None if self.score is None else round(self.score, 4),
            "title": self.title,
            "excerpt": self.excerpt,
            "url": self.url,
            "provider": self.provider,
            "published": format_datetime(self.published),
            "topics": list(self.topics),
            "parents": list(self.parents),
            "quality": self.quality,
            "highlights": dict(self.highlights),
        }
        if self.coverage is not None:
            data["coverage"] = self.coverage.to_dict()
        data.update(self.details)
        return data


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet with the number of matches that have it."""

    value: str
    count: int
    selected: bool = False
    #: A timeline bucket's first and last day (``YYYY-MM-DD``), the date filter that picks it.
    since: str | None = None
    until: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"value", "count", "selected"}`` (and ``since``, ``until`` for a timeline bucket)."""
        data: dict[str, Any] = {"value": self.value, "count": self.count, "selected": self.selected}
        if self.since is not None or self.until is not None:
            data.update(since=self.since, until=self.until)
        return data


@dataclass(frozen=True)
class Facet:
    """The top values of one facet; ``truncated`` when more values exist than were returned."""

    name: str
    values: tuple[FacetValue, ...]
    truncated: bool = False
    #: A timeline's bucket size (``day``, ``week``, ``month``); None for the other facets.
    interval: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"values": [...], "truncated": bool}`` (and ``interval`` for a timeline)."""
        data: dict[str, Any] = {
            "values": [v.to_dict() for v in self.values], "truncated": self.truncated,
        }
        if self.name == "published":
            data["interval"] = self.interval
        return data


@dataclass(frozen=True)
class Notice:
    """Something searchlib changed in the query to run it, in words a user can read.

    ``code`` is stable for programs: ``syntax`` (text that could not be parsed was read as
    plain words) or ``truncated`` (a long text was searched by its first words).
    """

    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """``{"code", "message"}``."""
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class EmptyFilters:
    """Why a search found nothing: these filters (facet names or ``date``) emptied it.

    ``total_without`` is how many results the same query finds with these filters removed
    (and every other filter kept).
    """

    filters: tuple[str, ...]
    total_without: int

    def to_dict(self) -> dict[str, Any]:
        """``{"filters": [...], "total_without": n}``."""
        return {"filters": list(self.filters), "total_without": self.total_without}


@dataclass(frozen=True)
class SearchResults:
    """A page of ranked hits, the total number of matches, and facet counts over all matches."""

    query: str
    total: int
    offset: int
    limit: int
    took_ms: float
    hits: tuple[Hit, ...]
    facets: Mapping[str, Facet]
    suggestion: str | None = None
    #: Words that pseudo-relevance feedback added to a long query (as most often written in
    #: the top documents; the typed words left out); empty when the query was not expanded.
    feedback: tuple[str, ...] = ()
    #: True when a query that needed every word found nothing and was run again with any word.
    relaxed: bool = False
    #: With ``relaxed``: the typed words that no hit on the page contains.
    missing: tuple[str, ...] = ()
    #: When the filters emptied a search that matches without them: which filters, and how many
    #: results the query has without them (see :class:`EmptyFilters`).
    empty_filters: EmptyFilters | None = None
    #: What was reinterpreted to run the query (lenient parsing): see :class:`Notice`.
    notices: tuple[Notice, ...] = ()
    #: In a search collapsed by story: how many stories the matches make (``total`` still
    #: counts documents, and so do the facets).
    total_stories: int | None = None
    #: The typed words and phrases that the index's synonyms expanded, each with the
    #: synonyms it was searched as (itself included unless a one-way rule replaced it).
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of DESIGN §5, plus ``feedback``, ``relaxed``, ``missing``,
        ``empty_filters``, ``notices`` and ``synonyms`` (and ``total_stories`` when
        collapsed by story)."""
        return {
            "query": self.query,
            "total": self.total,
            **({} if self.total_stories is None else {"total_stories": self.total_stories}),
            "offset": self.offset,
            "limit": self.limit,
            "took_ms": round(self.took_ms, 2),
            "hits": [h.to_dict() for h in self.hits],
            "facets": {name: facet.to_dict() for name, facet in self.facets.items()},
            "suggestion": self.suggestion,
            "feedback": list(self.feedback),
            "relaxed": self.relaxed,
            "missing": list(self.missing),
            "empty_filters": None if self.empty_filters is None else self.empty_filters.to_dict(),
            "notices": [n.to_dict() for n in self.notices],
            "synonyms": {word: list(found) for word, found in self.synonyms.items()},
        }


@dataclass(frozen=True)
class Completion:
    """A type-ahead completion: a word or phrase of titles, and how many documents'
    titles have it."""

    text: str
    documents: int

    def to_dict(self) -> dict[str, Any]:
        """``{"text", "documents"}``: one item of ``GET /suggest`` and ``search suggest``."""
        return {"text": self.text, "documents": self.documents}


@dataclass(frozen=True)
class Stats:
    """What an index holds. ``to_dict()`` is ``search stats --json``."""

    path: str
    documents: int
    articles: int
    related: int
    files: int
    topics: int
    providers: int
    size_bytes: int
    language: str
    schema_version: int
    #: The engine the index is stored with (``whoosh``, ``tantivy``, ``memory``).
    backend: str = "whoosh"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "path": self.path, "documents": self.documents,
            "by_kind": {"article": self.articles, "related": self.related},
            "files": self.files, "topics": self.topics, "providers": self.providers,
            "size_bytes": self.size_bytes, "language": self.language,
            "schema_version": self.schema_version, "backend": self.backend,
        }
