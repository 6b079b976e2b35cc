"""What a searchlib index holds and what a search may ask for: the one table every layer reads.

The CLI, the HTTP API, the engine, the search pipeline and every backend take their field
names, weights and enumerations from here, so a new field or sort is added in one place.

Text fields are searched with BM25F: each field's weight multiplies its (length-normalised)
term frequency before one saturation per word (see ``searching`` and each backend).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

#: How BM25F saturates term frequency (k1) and normalises field length (b).
BM25_K1: Final = 1.2
BM25_B: Final = 0.75


@dataclass(frozen=True)
class TextField:
    """A searchable text field: its BM25F weight, and whether it keeps word positions."""

    name: str
    weight: float
    #: Phrases and multi-token words ("covid-19") are matched only in positional fields.
    positions: bool


#: The searchable text of a document. A title match counts most, a related item's title least
#: (an article's ``related`` field holds the titles of the items it lists).
TEXT_FIELDS: Final[tuple[TextField, ...]] = (
    TextField("title", 1.5, positions=True),
    TextField("excerpt", 1.0, positions=True),
    TextField("body", 1.0, positions=True),
    TextField("related", 0.3, positions=False),
)
#: Text field name -> BM25F weight.
FIELD_WEIGHTS: Final[Mapping[str, float]] = {f.name: f.weight for f in TEXT_FIELDS}
#: Text fields in which phrases can match.
POSITIONAL_FIELDS: Final[tuple[str, ...]] = tuple(f.name for f in TEXT_FIELDS if f.positions)
#: Text fields whose stored text feeds highlights, feedback and "more like this".
DISPLAY_FIELDS: Final[tuple[str, ...]] = ("title", "excerpt")

#: Facets: counted per search, filterable, and searchable as words with ``field:value``.
Facet = Literal["topic", "provider", "kind"]
FACETS: Final[tuple[Facet, ...]] = ("topic", "provider", "kind")
#: The publication-day facet: a backend counts it when ``execute`` asks (documents per UTC
#: day of publication, ``YYYY-MM-DD``, undated documents left out). The pipeline folds the days
#: into a timeline's days, weeks or months; dates are filtered with ``since``/``until``, so it
#: is counted, never selected like the facets above.
DAY_FACET: Final = "day"
#: A timeline's bucket sizes, and what ``timeline`` accepts (``auto`` chooses from the span of
#: the matches).
Interval = Literal["day", "week", "month"]
INTERVALS: Final[tuple[Interval, ...]] = ("day", "week", "month")
TIMELINE_MODES: Final[tuple[str, ...]] = ("auto", *INTERVALS)
#: How a search may collapse its hits: ``story`` shows an article and its related items once.
COLLAPSE_MODES: Final[tuple[str, ...]] = ("story",)
#: Every facet ``Backend.execute`` counts.
COUNTED_FACETS: Final[tuple[str, ...]] = (*FACETS, DAY_FACET)
#: Word fields that hold a facet's values as plain (unstemmed, folded) words.
FACET_WORD_FIELDS: Final[Mapping[str, str]] = {
    "topic": "topic_text", "provider": "provider_text", "kind": "kind",
}

Kind = Literal["article", "related"]
KINDS: Final[tuple[Kind, ...]] = ("article", "related")

Sort = Literal["relevance", "newest", "oldest", "quality"]
SORTS: Final[tuple[Sort, ...]] = ("relevance", "newest", "oldest", "quality")

#: ``all``: every word; ``any``: any word; ``auto``: every word for short queries, falling back
#: to any word when none has them all, and any word (every word first) for long ones.
MatchMode = Literal["auto", "all", "any"]
MATCH_MODES: Final[tuple[MatchMode, ...]] = ("auto", "all", "any")

#: Pseudo-relevance feedback: ``auto`` expands long queries, ``on`` every ranked query.
FeedbackMode = Literal["auto", "on", "off"]
FEEDBACK_MODES: Final[tuple[FeedbackMode, ...]] = ("auto", "on", "off")

#: Queries with more words than this rank documents with any word (those with all first).
SHORT_QUERY_WORDS: Final = 3
