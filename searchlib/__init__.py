"""searchlib: full-text search for news-article corpora.

>>> from searchlib import Engine
>>> engine = Engine("index")          # doctest: +SKIP
>>> engine.index(["articles/"])       # doctest: +SKIP
>>> engine.search("facial recognition", topics=["AI"]).total  # doctest: +SKIP
"""

from typing import TYPE_CHECKING, Any

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
from .results import (
    Completion,
    Coverage,
    CoverageItem,
    Facet,
    FacetValue,
    Hit,
    SearchResults,
)

if TYPE_CHECKING:
    from .indexer import Failure, IndexReport


def __getattr__(name: str) -> Any:
    # The indexer (and the front-matter parser and worker pool it brings) loads on first use:
    # a process that only searches starts without them.
    if name in ("Failure", "IndexReport"):
        from . import indexer

        return getattr(indexer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "Completion",
    "Coverage",
    "CoverageItem",
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
