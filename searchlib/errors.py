"""The exception tree of searchlib.

Every error searchlib raises on purpose derives from :class:`SearchlibError`::

    SearchlibError
    ├── UsageError              bad arguments to a public function or the CLI (exit 2, HTTP 422)
    │   └── QueryError          a query string that cannot be run (exit 2, HTTP 400)
    ├── DocumentError           one source file cannot become a document (reported, skipped)
    ├── NotFoundError           no document with that id (exit 1, HTTP 404)
    └── SearchIndexError        base of problems with an index folder (exit 1, HTTP 500)
        ├── IndexNotFoundError  no index at that folder
        ├── IndexLockedError    another writer holds the index (HTTP 409)
        ├── IndexCorruptError   the index cannot be read
        └── SchemaVersionError  the index was written by a newer searchlib

Each class carries ``exit_code`` (for the CLI) and ``http_status`` (for services),
so that callers map errors without a table of their own.
"""

from __future__ import annotations


class SearchlibError(Exception):
    """Something searchlib could not do."""

    exit_code = 1
    http_status = 500


class UsageError(SearchlibError):
    """An argument is not valid."""

    exit_code = 2
    http_status = 422


class QueryError(UsageError):
    """The query cannot be run."""

    http_status = 400

    def __init__(self, message: str, *, position: int | None = None) -> None:
        super().__init__(message)
        #: 0-based character offset of the problem in the query string, when known.
        self.position = position


class DocumentError(SearchlibError):
    """A source file cannot be turned into a document."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class NotFoundError(SearchlibError):
    """No document has that id."""

    http_status = 404


class SearchIndexError(SearchlibError):
    """The index folder cannot be used."""


class IndexNotFoundError(SearchIndexError):
    """There is no index in that folder."""


class IndexLockedError(SearchIndexError):
    """The index is locked by another writer."""

    http_status = 409


class IndexCorruptError(SearchIndexError):
    """The index cannot be read."""


class SchemaVersionError(SearchIndexError):
    """The index was written by a newer version of searchlib."""


__all__ = [
    "DocumentError",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexNotFoundError",
    "NotFoundError",
    "QueryError",
    "SchemaVersionError",
    "SearchIndexError",
    "SearchlibError",
    "UsageError",
]
