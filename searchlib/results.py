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
        data.update(self.details)
        return data


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet with the number of matches that have it."""

    value: str
    count: int
    selected: bool = False

    def to_dict(self) -> dict[str, Any]:
        """``{"value", "count", "selected"}``."""
        return {"value": self.value, "count": self.count, "selected": self.selected}


@dataclass(frozen=True)
class Facet:
    """The top values of one facet; ``truncated`` when more values exist than were returned."""

    name: str
    values: tuple[FacetValue, ...]
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """``{"values": [...], "truncated": bool}``."""
        return {"values": [v.to_dict() for v in self.values], "truncated": self.truncated}


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

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of DESIGN §5, plus ``feedback``."""
        return {
            "query": self.query,
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "took_ms": round(self.took_ms, 2),
            "hits": [h.to_dict() for h in self.hits],
            "facets": {name: facet.to_dict() for name, facet in self.facets.items()},
            "suggestion": self.suggestion,
            "feedback": list(self.feedback),
        }
