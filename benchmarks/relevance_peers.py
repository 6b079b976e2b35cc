"""Peer engines for the relevance benchmark (``relevance.py``), on the same docs and queries.

Each peer takes a :class:`relevance.Collection` and a result limit and returns a run:
query id -> document numbers, best first. Every peer indexes the title and the text of each
document (as two fields where the engine has fields) and turns a query into an OR of its
words, so none of them has a query syntax to trip over.

- ``fts5``: SQLite FTS5, ``porter unicode61`` tokenizer, ``ORDER BY bm25()``, query an OR of
  quoted terms (a word written twice is counted twice).
- ``tantivy``: tantivy-py, ``en_stem`` tokenizer, BM25, OR query of the lower-cased words.
- ``bm25s``: bm25s Lucene BM25 (k1=1.5, b=0.75) over title + text, English stop words
  (Lucene's 33) and PyStemmer's Snowball English stemmer.
- ``whoosh``: textbook Whoosh: ``StemmingAnalyzer`` on both fields, ``MultifieldParser`` with
  ``OrGroup``, default ``BM25F`` (B=0.75, K1=1.2), no field boosts.
- ``whoosh-nltk``: the same with searchlib's analyzer (Snowball + searchlib's stop list).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relevance import Collection, Run

_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def run_fts5(coll: Collection, limit: int) -> Run:
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(docno UNINDEXED, title, body, "
        "tokenize = 'porter unicode61')"
    )
    db.executemany(
        "INSERT INTO docs (docno, title, body) VALUES (?, ?, ?)",
        [(docno, title, text) for docno, (title, text) in coll.docs.items()],
    )
    run: Run = {}
    for qid, text in coll.queries.items():
        words = _words(text)
        if not words:
            run[qid] = []
            continue
        match = " OR ".join(f'"{w}"' for w in words)
        rows = db.execute(
            "SELECT docno FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?",
            (match, limit),
        ).fetchall()
        run[qid] = [row[0] for row in rows]
    db.close()
    return run


def run_tantivy(coll: Collection, limit: int) -> Run:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("docno", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=False, tokenizer_name="en_stem")
    builder.add_text_field("body", stored=False, tokenizer_name="en_stem")
    schema = builder.build()
    index = tantivy.Index(schema)
    writer = index.writer()
    for docno, (title, text) in coll.docs.items():
        writer.add_document(tantivy.Document(docno=docno, title=title, body=text))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()
    run: Run = {}
    for qid, text in coll.queries.items():
        words = _words(text)
        if not words:
            run[qid] = []
            continue
        query = index.parse_query(" OR ".join(words), ["title", "body"])
        hits = searcher.search(query, limit).hits
        run[qid] = [searcher.doc(address)["docno"][0] for _, address in hits]
    return run


def run_bm25s(coll: Collection, limit: int) -> Run:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    docnos = list(coll.docs)
    corpus = [f"{title}\n{text}" for title, text in coll.docs.values()]
    tokens = bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25(method="lucene")
    retriever.index(tokens, show_progress=False)
    vocab = tokens.vocab
    k = min(limit, len(docnos))
    run: Run = {}
    for qid, text in coll.queries.items():
        query = bm25s.tokenize(
            [text], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
        )[0]
        query = [t for t in query if t in vocab]
        if not query:
            run[qid] = []
            continue
        ids, scores = retriever.retrieve([query], k=k, show_progress=False)
        run[qid] = [docnos[int(i)] for i, s in zip(ids[0], scores[0], strict=True) if s > 0]
    return run


def _run_whoosh(coll: Collection, limit: int, analyzer: Any) -> Run:
    from whoosh import qparser
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.filedb.filestore import RamStorage
    from whoosh.scoring import BM25F

    schema = Schema(
        docno=ID(stored=True), title=TEXT(analyzer=analyzer), body=TEXT(analyzer=analyzer)
    )
    ix = RamStorage().create_index(schema)
    writer = ix.writer()
    for docno, (title, text) in coll.docs.items():
        writer.add_document(docno=docno, title=title, body=text)
    writer.commit()
    parser = qparser.MultifieldParser(["title", "body"], schema, group=qparser.OrGroup)
    run: Run = {}
    with ix.searcher(weighting=BM25F(B=0.75, K1=1.2)) as searcher:
        for qid, text in coll.queries.items():
            # Lower-cased words only: Whoosh's parser also reads AND/OR/NOT as operators.
            query = parser.parse(" ".join(_words(text)))
            hits = searcher.search(query, limit=limit)
            run[qid] = [hit["docno"] for hit in hits]
    return run


def run_whoosh(coll: Collection, limit: int) -> Run:
    from whoosh.analysis import StemmingAnalyzer

    return _run_whoosh(coll, limit, StemmingAnalyzer())


def run_whoosh_nltk(coll: Collection, limit: int) -> Run:
    from searchlib.backends.whoosh_analysis import NltkAnalyzer

    return _run_whoosh(coll, limit, NltkAnalyzer("english"))


PEERS: dict[str, Callable[[Collection, int], Run]] = {
    "fts5": run_fts5,
    "tantivy": run_tantivy,
    "bm25s": run_bm25s,
    "whoosh": run_whoosh,
    "whoosh-nltk": run_whoosh_nltk,
}
