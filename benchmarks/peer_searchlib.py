"""searchlib through its public API: ``Engine(path).index([folder])`` and ``engine.search()``.

searchlib does its own walking and parsing (``Engine.index``), so its indexing time includes
them, as the peers' does through ``harness.iter_documents``. Every search returns what the API
always returns: a page of hits with highlights, the total, and topic, provider and kind facets.
The re-run phase calls ``Engine(path).index([folder])`` again on the unchanged corpus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import PAGE, Outcome, Query

from searchlib import Engine


class Adapter:
    #: The engine of the index (None: searchlib's default, the Whoosh backend).
    backend: str | None = None
    #: Long queries get pseudo-relevance feedback: ``long-nofeedback`` measures them without.
    feedback = True

    def __init__(self) -> None:
        self.engine: Engine | None = None

    def build(self, corpus: Path, index: Path) -> dict[str, Any]:
        with Engine(index, backend=self.backend) as engine:
            report = engine.index([corpus])
        return {
            "files": report.added + report.updated + report.unchanged + len(report.failed),
            "failed": len(report.failed),
            "documents": report.documents,
            "added": report.added,
            "unchanged": report.unchanged,
        }

    def open(self, index: Path) -> None:
        self.engine = Engine(index, create=False)

    def query(self, query: Query) -> Outcome:
        assert self.engine is not None
        results = self.engine.search(
            query.text(),
            topics=[query.topic] if query.topic else (),
            providers=[query.provider] if query.provider else (),
            feedback="off" if query.category == "long-nofeedback" else "auto",
            limit=PAGE,
        )
        facets = {
            name: {v.value: v.count for v in facet.values}
            for name, facet in results.facets.items()
            if name in ("topic", "provider")
        }
        return Outcome(total=results.total, ids=[h.id for h in results.hits], facets=facets)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None
