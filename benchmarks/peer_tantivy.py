"""tantivy (``pip install tantivy``), set up as its Python docs show.

Title, excerpt and related titles are ``en_stem`` text fields (positions, for phrases);
topic and provider are ``raw``-tokenized fast text fields, so facet counts come from
``Searcher.aggregate`` terms aggregations (each facet with the other facet's filter only,
disjunctive like searchlib). One writer with the default heap and threads, one commit; one
searcher reused for every query. Queries go through ``Index.parse_query`` with the same field
boosts as searchlib and ``conjunction_by_default=True``; hits get ``SnippetGenerator``
highlights of title and excerpt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tantivy
from harness import BOOSTS, FACET_SIZE, PAGE, Outcome, Query, iter_documents

TEXT_FIELDS = ["title", "excerpt", "related"]


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("doc_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("kind", stored=True, fast=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("excerpt", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("related", tokenizer_name="en_stem")
    builder.add_text_field("provider", stored=True, fast=True, tokenizer_name="raw")
    builder.add_text_field("topic", stored=True, fast=True, tokenizer_name="raw")
    builder.add_date_field("published", stored=True, fast=True)
    builder.add_integer_field("quality", stored=True, fast=True)
    builder.add_text_field("url", stored=True, tokenizer_name="raw")
    return builder.build()


class Adapter:
    def __init__(self) -> None:
        self.schema = build_schema()
        self.index: tantivy.Index | None = None
        self.searcher: tantivy.Searcher | None = None

    def build(self, corpus: Path, index: Path) -> dict[str, Any]:
        stats: dict[str, int] = {}
        ix = tantivy.Index(self.schema, path=str(index))
        writer = ix.writer()
        for doc in iter_documents(corpus, stats):
            fields: dict[str, Any] = {
                "doc_id": doc.id, "kind": doc.kind, "title": doc.title, "excerpt": doc.excerpt,
                "related": doc.related, "provider": doc.provider, "topic": list(doc.topics),
                "url": doc.url,
            }
            if doc.published is not None:
                fields["published"] = doc.published
            if doc.quality is not None:
                fields["quality"] = doc.quality
            writer.add_document(tantivy.Document(**fields))
        writer.commit()
        writer.wait_merging_threads()
        return stats

    def open(self, index: Path) -> None:
        self.index = tantivy.Index.open(str(index))
        self.index.reload()
        self.searcher = self.index.searcher()

    def _filtered(self, text: tantivy.Query, topic: str | None, provider: str | None) -> Any:
        clauses = [(tantivy.Occur.Must, text)]
        if topic:
            clauses.append((tantivy.Occur.Must,
                            tantivy.Query.term_set_query(self.schema, "topic", [topic])))
        if provider:
            clauses.append((tantivy.Occur.Must,
                            tantivy.Query.term_set_query(self.schema, "provider", [provider])))
        return text if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)

    def query(self, query: Query) -> Outcome:
        assert self.index is not None and self.searcher is not None
        searcher = self.searcher
        text = self.index.parse_query(
            query.text(), TEXT_FIELDS, field_boosts=BOOSTS,
            conjunction_by_default=not query.any_word,
        )
        full = self._filtered(text, query.topic, query.provider)
        result = searcher.search(full, PAGE, count=True)
        titles = tantivy.SnippetGenerator.create(searcher, text, self.schema, "title")
        excerpts = tantivy.SnippetGenerator.create(searcher, text, self.schema, "excerpt")
        ids = []
        for _, address in result.hits:
            doc = searcher.doc(address)
            titles.snippet_from_doc(doc).to_html()
            excerpts.snippet_from_doc(doc).to_html()
            ids.append(doc["doc_id"][0])
        outcome = Outcome(total=result.count or 0, ids=ids)
        if query.topic or query.provider:
            for name, other in (("topic", (None, query.provider)),
                                ("provider", (query.topic, None))):
                agg = searcher.aggregate(
                    self._filtered(text, *other),
                    {name: {"terms": {"field": name, "size": FACET_SIZE}}},
                )
                outcome.facets[name] = {b["key"]: b["doc_count"] for b in agg[name]["buckets"]}
        return outcome

    def close(self) -> None:
        self.searcher = None
        self.index = None
