"""searchlib: full-text search for news-article corpora.

>>> from searchlib import Engine
>>> engine = Engine("index")          # doctest: +SKIP
>>> engine.index(["articles/"])       # doctest: +SKIP
>>> engine.search("facial recognition", topics=["AI"]).total  # doctest: +SKIP
"""

from .engine import Engine, Stats, remove_index
from .errors import (
    DocumentError,
    IndexCorruptError,
    IndexLockedError,
    IndexNotFoundError,
    NotFoundError,
    QueryError,
    SchemaVersionError,
    SearchIndexError,
    SearchlibError,
    UsageError,
)
from .indexer import Failure, IndexReport
from .results import Facet, FacetValue, Hit, SearchResults

__all__ = [
    "DocumentError",
    "Engine",
    "Facet",
    "FacetValue",
    "Failure",
    "Hit",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexReport",
    "NotFoundError",
    "QueryError",
    "SchemaVersionError",
    "SearchIndexError",
    "SearchResults",
    "SearchlibError",
    "Stats",
    "UsageError",
    "remove_index",
]
