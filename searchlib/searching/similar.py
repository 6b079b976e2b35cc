"""'More like this': the most distinctive words of a document, as a query.

The key terms of a document's title and excerpt are weighted with the Bo1 model of
divergence from randomness (Amati, 2003), as Whoosh's ``key_terms`` does: a term frequent in
the document but rare in the collection weighs most. The 12 strongest, OR-ed with their
weights, find the documents sharing the most of them.
"""

from __future__ import annotations

from collections import Counter
from math import log

from .. import plan as p
from ..analysis import Analyzer
from ..backends.base import Backend
from ..records import Record
from .compile import Compiler

#: Key terms taken from the document.
KEY_TERMS = 12
#: The smallest weight a key term keeps (so that each still counts).
MIN_WEIGHT = 0.01
_FIELD = "excerpt"  # whose collection frequencies weigh the terms


def key_terms(backend: Backend, analyzer: Analyzer, record: Record, number: int = KEY_TERMS
              ) -> list[tuple[str, float]]:
    """The ``number`` strongest terms of ``record`` with their normalised Bo1 weights."""
    text = f"{record.title or ''} {record.excerpt or ''}"
    if not text.strip():
        return []
    counts = Counter(analyzer.terms(text))
    if not counts:
        return []
    documents = max(backend.info().count, 1)
    stats = backend.term_stats(_FIELD, counts)
    scored: list[tuple[float, str]] = []
    best = 0.0
    for term, weight in counts.items():
        frequency = stats[term].frequency if term in stats else 0
        if frequency <= 0:
            continue
        f = frequency / documents
        score = weight * log((1.0 + f) / f, 2) + log(1.0 + f, 2)
        best = max(best, score)
        scored.append((score, term))
    if not scored:
        return []
    f = best / documents
    norm = (best * log((1.0 + f) / f) + log(1.0 + f)) / log(2.0)
    ranked = sorted(((score / norm, term) for score, term in scored), key=lambda x: (-x[0], x[1]))
    return [(term, weight) for weight, term in ranked[:number]]


def similar_plan(terms: list[tuple[str, float]]) -> p.Plan | None:
    """The query that finds documents sharing ``terms``."""
    clauses = tuple(Compiler.any_field(term, boost=max(w, MIN_WEIGHT)) for term, w in terms)
    return p.Any(clauses) if clauses else None
