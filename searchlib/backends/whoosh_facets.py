"""The ``facet_key`` column: every facet value of a document in one cell.

Searches count facets from it as per-segment integer codes (:mod:`.whoosh_segments`).
:class:`FacetCache` (facet value -> set of live docnums per searcher) serves the reference
path that runs Whoosh's own matchers (``WhooshBackend._execute_with_matchers``).
"""

from __future__ import annotations

from whoosh.searching import Searcher

#: Separators inside the ``facet_key`` column: kind, provider, topics; and between topics.
FIELD_SEP = "\x1e"
TOPIC_SEP = "\x1f"


def facet_key(kind: str, provider: str, topics: tuple[str, ...]) -> bytes:
    """The ``facet_key`` column value of a document: all its facet values in one cell."""
    return FIELD_SEP.join((kind, provider, TOPIC_SEP.join(topics))).encode("utf-8")


class FacetCache:
    """Per-searcher maps of facet value -> set of live docnums, built on first use.

    Built in one pass over the ``facet_key`` column (one cell per document), which is about 4x
    faster than walking the postings of every value. Tied to one searcher, so it can never serve
    counts from before the latest commit.
    """

    def __init__(self, searcher: Searcher) -> None:
        self._searcher = searcher
        self._values: dict[str, dict[str, frozenset[int]]] | None = None
        self._all: frozenset[int] | None = None

    @property
    def all_docs(self) -> frozenset[int]:
        """Every live docnum of the searcher."""
        if self._all is None:
            self._all = frozenset(self._searcher.reader().all_doc_ids())
        return self._all

    def values(self, field: str) -> dict[str, frozenset[int]]:
        """Value -> docnums for one facet (``kind``, ``provider`` or ``topic``)."""
        if self._values is None:
            self._values = self._build()
        return self._values[field]

    def _build(self) -> dict[str, dict[str, frozenset[int]]]:
        kinds: dict[str, list[int]] = {}
        providers: dict[str, list[int]] = {}
        topics: dict[str, list[int]] = {}
        live = self.all_docs
        reader = self._searcher.reader()
        if live and reader.has_column("facet_key"):
            for docnum, raw in enumerate(reader.column_reader("facet_key")):
                if docnum not in live or not raw:
                    continue
                kind, provider, topic_text = raw.decode("utf-8").split(FIELD_SEP)
                kinds.setdefault(kind, []).append(docnum)
                if provider:
                    providers.setdefault(provider, []).append(docnum)
                if topic_text:
                    for topic in topic_text.split(TOPIC_SEP):
                        topics.setdefault(topic, []).append(docnum)
        return {
            name: {value: frozenset(docs) for value, docs in table.items()}
            for name, table in (("kind", kinds), ("provider", providers), ("topic", topics))
        }
