"""Records to hits: what a result shows of a stored document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..records import Record
from ..results import Coverage, Hit


def hit_from_record(
    record: Record, rank: int, score: float | None, highlights: Mapping[str, str],
    coverage: Coverage | None = None,
) -> Hit:
    """A ranked hit for a result page (with its story's coverage, when collapsed)."""
    return Hit(
        id=record.id, kind=record.kind, title=record.title, excerpt=record.excerpt,
        url=record.url, provider=record.provider, published=record.published,
        topics=record.topics, parents=record.parents, rank=rank,
        score=None if score is None else float(score), quality=record.quality,
        highlights=highlights, coverage=coverage,
    )


def detailed_hit(record: Record) -> Hit:
    """A hit with every stored field (``Engine.get``, ``search show``)."""
    details: dict[str, Any] = {
        "body": record.body,
        "path": record.path,
        "provider_domain": record.provider_domain,
        "related": list(record.related_ids),
        "extra": dict(record.extra),
    }
    return Hit(
        id=record.id, kind=record.kind, title=record.title, excerpt=record.excerpt,
        url=record.url, provider=record.provider, published=record.published,
        topics=record.topics, parents=record.parents, quality=record.quality,
        details=details,
    )
