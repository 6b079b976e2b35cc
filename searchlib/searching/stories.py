"""Stories: an article and its related items are one story, shown once, as its best hit.

Membership (one story per document, decided from stored fields only):

- an article heads its own story, whatever other articles list it;
- a related item (``kind: related``) belongs to the story of the article that lists it; one
  listed by several articles belongs to the earliest published of them (undated ones last,
  then the smallest id), the first to cover it.

Links between articles are not followed: on the real corpus 2,514 articles list another
article as related coverage, and following those links transitively chains unrelated reports
(39 daily case counts from Oregon to Singapore became one "story"). A document whose URL is
both an article and an item that other articles list is that article (see DESIGN §2), and so
heads its own story.

A collapsed search ranks stories by their best hit in the search's order; ``coverage`` counts
the story's documents that match the search (with its filters), their providers, and names the
best few besides the one shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from ..records import Record
from ..results import Coverage, CoverageItem

#: Documents of a story named in its ``coverage`` besides the hit shown.
COVERAGE_TOP = 3


def story_of(record: Record, published: Callable[[str], datetime | None]) -> str:
    """The id of the story ``record`` belongs to: its own, or its article's (see above).

    ``published(id)`` gives an article's date: asked only for items with several parents.
    """
    if record.kind != "related" or not record.parents:
        return record.id
    if len(record.parents) == 1:
        return record.parents[0]

    def first(parent: str) -> tuple[bool, float, str]:
        date = published(parent)
        return (date is None, 0.0 if date is None else date.timestamp(), parent)

    return min(record.parents, key=first)


def group(
    ranked: Iterable[tuple[Record, float | None]],
    published: Callable[[str], datetime | None],
) -> dict[str, list[tuple[Record, float | None]]]:
    """Ranked matches grouped by story, stories in the order of their best hit."""
    stories: dict[str, list[tuple[Record, float | None]]] = {}
    for record, score in ranked:
        stories.setdefault(story_of(record, published), []).append((record, score))
    return stories


def coverage(story: str, members: list[tuple[Record, float | None]]) -> Coverage:
    """What covers one story among the matches: ``members`` best first (the shown one first)."""
    providers = {record.provider for record, _ in members if record.provider}
    return Coverage(
        story=story,
        documents=len(members),
        providers=len(providers),
        top=tuple(
            CoverageItem(
                id=record.id, kind=record.kind, title=record.title, url=record.url,
                provider=record.provider, published=record.published,
            )
            for record, _ in members[1 : 1 + COVERAGE_TOP]
        ),
    )
