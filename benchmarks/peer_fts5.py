"""SQLite FTS5 (stdlib ``sqlite3``), set up as its documentation recommends.

An FTS5 table with ``tokenize='porter unicode61'`` holds title, excerpt and related titles;
ranking is ``bm25()`` with the same column weights as searchlib. Provider and the other display
columns live in a plain ``docs`` table sharing the rowid, topics in a ``doc_topics`` side table.
The whole load is one transaction, followed by the ``'optimize'`` command. Facet counts are
``GROUP BY`` over the matching rowids, each facet with the other facet's filter only
(disjunctive, like searchlib).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from harness import BOOSTS, FACET_SIZE, PAGE, Outcome, Query, iter_documents

DB_NAME = "fts5.sqlite"
SCHEMA = """
CREATE TABLE docs(
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    provider TEXT, published TEXT, quality INTEGER, url TEXT
);
CREATE TABLE doc_topics(doc INTEGER NOT NULL, topic TEXT NOT NULL);
CREATE VIRTUAL TABLE fts USING fts5(title, excerpt, related, tokenize='porter unicode61');
"""
INDEXES = """
CREATE INDEX doc_topics_topic ON doc_topics(topic, doc);
CREATE INDEX doc_topics_doc ON doc_topics(doc, topic);
CREATE INDEX docs_provider ON docs(provider);
INSERT INTO fts(fts) VALUES('optimize');
"""
RANK = f"bm25(fts, {BOOSTS['title']}, {BOOSTS['excerpt']}, {BOOSTS['related']})"


def match_expression(query: Query) -> str:
    """FTS5 query syntax: each word quoted (so no word is read as an operator), AND-ed (OR-ed
    for a long query)."""
    if query.phrase:
        return '"' + " ".join(query.words) + '"'
    return (" OR " if query.any_word else " ").join(f'"{w}"' for w in query.words)


class Adapter:
    def __init__(self) -> None:
        self.con: sqlite3.Connection | None = None

    def build(self, corpus: Path, index: Path) -> dict[str, Any]:
        stats: dict[str, int] = {}
        con = sqlite3.connect(index / DB_NAME)
        con.executescript(SCHEMA)
        with con:
            for rowid, doc in enumerate(iter_documents(corpus, stats), start=1):
                con.execute(
                    "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (rowid, doc.id, doc.kind, doc.provider,
                     doc.published.isoformat() if doc.published else None, doc.quality, doc.url),
                )
                con.execute(
                    "INSERT INTO fts(rowid, title, excerpt, related) VALUES (?, ?, ?, ?)",
                    (rowid, doc.title, doc.excerpt, doc.related),
                )
                con.executemany(
                    "INSERT INTO doc_topics VALUES (?, ?)", [(rowid, t) for t in doc.topics]
                )
        con.executescript(INDEXES)
        con.close()
        return stats

    def open(self, index: Path) -> None:
        self.con = sqlite3.connect(index / DB_NAME)

    def query(self, query: Query) -> Outcome:
        assert self.con is not None
        con = self.con
        match = match_expression(query)
        topic_sql = "AND EXISTS (SELECT 1 FROM doc_topics t WHERE t.doc = f.rowid AND t.topic = ?)"
        provider_sql = "AND d.provider = ?"
        where, args = "fts MATCH ?", [match]
        if query.topic:
            where += f" {topic_sql}"
            args.append(query.topic)
        if query.provider:
            where += f" {provider_sql}"
            args.append(query.provider)
        rows = con.execute(
            f"SELECT d.doc_id, highlight(fts, 0, '<mark>', '</mark>'), "
            f"highlight(fts, 1, '<mark>', '</mark>') "
            f"FROM fts f JOIN docs d ON d.id = f.rowid WHERE {where} "
            f"ORDER BY {RANK} LIMIT {PAGE}",
            args,
        ).fetchall()
        total = con.execute(
            f"SELECT count(*) FROM fts f JOIN docs d ON d.id = f.rowid WHERE {where}", args
        ).fetchone()[0]
        outcome = Outcome(total=total, ids=[r[0] for r in rows])
        if query.topic or query.provider:
            # Topic counts: filtered by provider only; provider counts: by topic only.
            t_where, t_args = "fts MATCH ?", [match]
            if query.provider:
                t_where += f" {provider_sql}"
                t_args.append(query.provider)
            outcome.facets["topic"] = dict(con.execute(
                f"SELECT dt.topic, count(*) AS n FROM fts f JOIN docs d ON d.id = f.rowid "
                f"JOIN doc_topics dt ON dt.doc = f.rowid WHERE {t_where} "
                f"GROUP BY dt.topic ORDER BY n DESC, dt.topic LIMIT {FACET_SIZE}",
                t_args,
            ).fetchall())
            p_where, p_args = "fts MATCH ?", [match]
            if query.topic:
                p_where += f" {topic_sql}"
                p_args.append(query.topic)
            outcome.facets["provider"] = dict(con.execute(
                f"SELECT d.provider, count(*) AS n FROM fts f JOIN docs d ON d.id = f.rowid "
                f"WHERE {p_where} GROUP BY d.provider ORDER BY n DESC, d.provider "
                f"LIMIT {FACET_SIZE}",
                p_args,
            ).fetchall())
        return outcome

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None
