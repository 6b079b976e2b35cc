"""Records: one document as every backend stores it, and which text feeds which field.

An article file gives one :class:`Record` of kind ``article`` and one of kind ``related`` for
each distinct related item it lists (built by the indexer). Backends store records whole and
index the texts :func:`field_texts` names, so a term means the same thing in every engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from .analysis import Analyzer
from .schema import FIELD_WEIGHTS


@dataclass(frozen=True)
class AnalysedTerms:
    """The terms of some of a record's fields, analysed ahead of writing (by a parse worker).

    ``terms`` maps a field of :func:`field_texts` to ``Analyzer(language).terms(text)`` of its
    text (``Analyzer(language, stem=False, remove_stopwords=False)`` for
    :data:`PLAIN_FIELDS`): what a backend analysing that field itself in ``language`` gets. A
    backend may use them instead of analysing again, for the fields they name.
    """

    language: str
    terms: Mapping[str, list[str]]


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
    #: Terms of its fields analysed ahead (see :class:`AnalysedTerms`); never stored, and not
    #: part of a record's value (two records that differ only here are equal).
    analysed: AnalysedTerms | None = field(default=None, compare=False, repr=False)


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


@cache
def _analyzers(language: str) -> tuple[Analyzer, Analyzer]:
    """The stemming and the plain analyzer of ``language``, one pair per process."""
    return Analyzer(language), Analyzer(language, stem=False, remove_stopwords=False)


def analyse_texts(texts: Mapping[str, str], language: str) -> AnalysedTerms:
    """The terms of ``texts`` (field -> text, fields of :func:`field_texts`) in ``language``."""
    stemmed, plain = _analyzers(language)
    return AnalysedTerms(language, {
        name: (plain if name in PLAIN_FIELDS else stemmed).terms(text)
        for name, text in texts.items()
    })
