"""Records: one document as every backend stores it, and which text feeds which field.

An article file gives one :class:`Record` of kind ``article`` and one of kind ``related`` for
each distinct related item it lists (built by the indexer). Backends store records whole and
index the texts :func:`field_texts` names, so a term means the same thing in every engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .schema import FIELD_WEIGHTS


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
    #: Indexed, not stored: ``get`` and ``records`` give it back empty (it is rebuilt from the
    #: source files whenever the article is indexed again).
    related_text: str = ""
    provider_domain: str = ""
    path: str = ""
    content_hash: str = ""
    related_ids: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


#: Fields analysed like text but without stemming or stopwords: facet words and the spelling
#: vocabulary ("did you mean" draws from the words of titles and excerpts as written).
PLAIN_FIELDS = ("provider_text", "topic_text", "spell")


def field_texts(record: Record) -> dict[str, str]:
    """The text each searchable field of ``record`` is analysed from.

    Stemmed text fields (:data:`searchlib.schema.TEXT_FIELDS`), then the plain fields
    (:data:`PLAIN_FIELDS`). ``kind`` is a keyword (matched exactly, lower case), not text.
    """
    texts = {
        "title": record.title,
        "excerpt": record.excerpt,
        "body": record.body,
        "related": record.related_text,
        "provider_text": record.provider,
        "topic_text": "\n".join(record.topics),
        "spell": f"{record.title}\n{record.excerpt}",
    }
    assert set(FIELD_WEIGHTS) <= set(texts)
    return texts
