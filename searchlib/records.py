"""Records: one document as every backend stores it, and which text feeds which field.

An article file gives one :class:`Record` of kind ``article`` and one of kind ``related`` for
each distinct related item it lists (built by the indexer). Backends store records whole and
index the texts :func:`field_texts` names, so a term means the same thing in every engine.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from .analysis import Analyzer, fold_accents, stopwords
from .schema import FIELD_WEIGHTS

#: Separates the terms of a field in :attr:`AnalysedTerms.joined`: never part of a term
#: (terms are made of word characters; even compatibility folding, which can put a space into
#: one, never gives a control character).
TERM_SEPARATOR = "\x00"


@dataclass(frozen=True)
class AnalysedTerms:
    """The terms of some of a record's fields, analysed ahead of writing (by a parse worker).

    For a field of :func:`field_texts`, its terms are ``Analyzer(language).terms(text)``
    (``Analyzer(language, stem=False, remove_stopwords=False)`` for :data:`PLAIN_FIELDS`):
    what a backend analysing that field itself in ``language`` gets. A backend may use them
    instead of analysing again, for the fields they name. They travel joined into one string
    per field (:data:`TERM_SEPARATOR`): a third of the time to unpickle of a list of strings.
    """

    language: str
    joined: Mapping[str, str]

    @property
    def terms(self) -> dict[str, list[str]]:
        """Field -> its terms."""
        return {
            name: text.split(TERM_SEPARATOR) if text else []
            for name, text in self.joined.items()
        }


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
#: Fields that hold each of a document's terms once, without frequencies: the spelling
#: vocabulary only asks which words occur and in how many documents.
DISTINCT_FIELDS = ("spell",)


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


#: The memory backend's field of type-ahead completions: the words and two-word phrases of
#: titles (an engine may derive them from the stored titles instead, as the Whoosh one does).
COMPLETION_FIELD = "complete"
# A word as shown in a completion: letters and digits, joined inside by a hyphen, an
# apostrophe or a dot ("covid-19", "china's", "u.s"), so that it reads as typed.
_DISPLAY_WORD = re.compile(r"\w+(?:[-'\u2019.]\w+)*")


def _display(text: str) -> str:
    """Text as completions hold it: case and accents folded, curly apostrophes straight."""
    text = text.replace("\u2019", "'").casefold()
    if not text.isascii():
        text = fold_accents(unicodedata.normalize("NFC", text)).casefold()
    return text


def completion_terms(title: str, language: str) -> list[str]:
    """The type-ahead completions a title gives, each once: its words, and each two words
    side by side (separated by spaces only, neither a stopword), case and accents folded.

    ``completion_terms("Coronavirus vaccine trial: the WHO's update", "english")`` is
    ``["coronavirus", "vaccine", "coronavirus vaccine", "trial", "vaccine trial", "who's",
    "update", "who's update"]``. Words of one character and stopwords are no completions
    (``th`` should not complete to ``the``), and no phrase starts or ends with one.
    """
    stops = stopwords(language)
    text = _display(title)  # folded whole: one call a title, not one a word
    out: dict[str, None] = {}
    previous = ""  # the last word, if it may start a phrase
    previous_end = 0
    for match in _DISPLAY_WORD.finditer(text):
        word = match.group()
        if len(word) < 2 or word in stops:
            previous = ""
            continue
        out[word] = None
        if previous and text[previous_end : match.start()].isspace():
            out[f"{previous} {word}"] = None
        previous, previous_end = word, match.end()
    return list(out)


def completion_prefix(text: str) -> str:
    """What a typed prefix is matched as: folded like :func:`completion_terms`, spaces
    collapsed, and one trailing space kept (``"coronavirus "`` completes to phrases only)."""
    words = [_display(w) for w in text.split()]
    typed = " ".join(words)
    return typed + " " if typed and text[-1:].isspace() else typed


@cache
def _analyzers(language: str) -> tuple[Analyzer, Analyzer]:
    """The stemming and the plain analyzer of ``language``, one pair per process."""
    return Analyzer(language), Analyzer(language, stem=False, remove_stopwords=False)


def analyse_texts(texts: Mapping[str, str], language: str) -> AnalysedTerms:
    """The terms of ``texts`` (field -> text, fields of :func:`field_texts`) in ``language``."""
    stemmed, plain = _analyzers(language)
    return AnalysedTerms(language, {
        name: TERM_SEPARATOR.join((plain if name in PLAIN_FIELDS else stemmed).terms(text))
        for name, text in texts.items()
    })
