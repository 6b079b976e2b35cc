"""Whoosh as its tutorials show it (the same whoosh-reloaded 2.7.5 searchlib pins).

``StemmingAnalyzer`` text fields, one ``ix.writer()`` with default settings and one commit, a
``MultifieldParser`` (AND of words, OR for long queries; the same field boosts as searchlib), a
new searcher per query
(``with ix.searcher() as s``), ``hit.highlights()`` for title and excerpt, and ``groupedby``
facets counted with ``sorting.Count`` (each facet with the other facet's filter only,
disjunctive like searchlib).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import BOOSTS, FACET_SIZE, PAGE, Outcome, Query, iter_documents
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import sorting
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.qparser import MultifieldParser, OrGroup


def build_schema() -> Schema:
    return Schema(
        doc_id=ID(stored=True, unique=True),
        kind=ID(stored=True),
        title=TEXT(analyzer=StemmingAnalyzer(), stored=True),
        excerpt=TEXT(analyzer=StemmingAnalyzer(), stored=True),
        related=TEXT(analyzer=StemmingAnalyzer()),
        provider=ID(stored=True),
        topic=KEYWORD(stored=True, commas=True),
        published=DATETIME(stored=True),
        quality=NUMERIC(int, stored=True),
        url=STORED,
    )


def _filter(topic: str | None, provider: str | None) -> wq.Query | None:
    terms = [wq.Term(name, value) for name, value in (("topic", topic), ("provider", provider))
             if value]
    return wq.And(terms) if terms else None


class Adapter:
    def __init__(self) -> None:
        self.ix: Any = None
        self.parser: MultifieldParser | None = None
        self.any_parser: MultifieldParser | None = None

    def build(self, corpus: Path, index: Path) -> dict[str, Any]:
        stats: dict[str, int] = {}
        ix = whoosh_index.create_in(str(index), build_schema())
        writer = ix.writer()
        for doc in iter_documents(corpus, stats):
            fields: dict[str, Any] = {
                "doc_id": doc.id, "kind": doc.kind, "title": doc.title, "excerpt": doc.excerpt,
                "related": doc.related, "provider": doc.provider, "topic": ",".join(doc.topics),
                "url": doc.url,
            }
            if doc.published is not None:
                fields["published"] = doc.published.replace(tzinfo=None)
            if doc.quality is not None:
                fields["quality"] = doc.quality
            writer.add_document(**{k: v for k, v in fields.items() if v != ""})
        writer.commit()
        ix.close()
        return stats

    def open(self, index: Path) -> None:
        self.ix = whoosh_index.open_dir(str(index))
        self.parser = MultifieldParser(list(BOOSTS), self.ix.schema, fieldboosts=dict(BOOSTS))
        self.any_parser = MultifieldParser(
            list(BOOSTS), self.ix.schema, fieldboosts=dict(BOOSTS), group=OrGroup
        )

    def query(self, query: Query) -> Outcome:
        assert self.parser is not None
        parser = self.any_parser if query.any_word else self.parser
        assert parser is not None
        parsed = parser.parse(query.text())
        with self.ix.searcher() as searcher:
            results = searcher.search(
                parsed, limit=PAGE, filter=_filter(query.topic, query.provider)
            )
            ids = []
            for hit in results:
                hit.highlights("title")
                hit.highlights("excerpt")
                ids.append(hit["doc_id"])
            outcome = Outcome(total=len(results), ids=ids)
            if query.topic or query.provider:
                for name, other in (("topic", (None, query.provider)),
                                    ("provider", (query.topic, None))):
                    grouped = searcher.search(
                        parsed, limit=1, filter=_filter(*other), maptype=sorting.Count,
                        groupedby={name: sorting.FieldFacet(name, allow_overlap=True)},
                    )
                    counts = grouped.groups(name)
                    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_SIZE]
                    outcome.facets[name] = dict(top)
        return outcome

    def close(self) -> None:
        if self.ix is not None:
            self.ix.close()
            self.ix = None
