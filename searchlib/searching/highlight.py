"""Highlights: the words of a text that a query matched, in ``<mark>``, everything else escaped.

Engine-neutral: a token of the text is marked when its analysed term is one the plan asks for
(a word or a phrase's words), starts with one of its prefixes, or is within a fuzzy term's
edit distance. Excluded words are never marked.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from .. import plan as p
from ..analysis import Analyzer
from ..schema import FIELD_WEIGHTS
from .distance import within_distance


def highlighter(analyzer: Analyzer, plan: p.Plan | None) -> Callable[[str], str]:
    """A function marking the words of a text that ``plan``'s positive clauses match."""
    terms: set[str] = set()
    prefixes: list[str] = []
    fuzzy: list[p.Fuzzy] = []
    for leaf in p.positive_leaves(plan):
        if not any(f in FIELD_WEIGHTS for f in leaf.fields):
            continue  # facet words are not in titles and excerpts
        if isinstance(leaf, p.Words):
            terms.update(leaf.terms)
        elif isinstance(leaf, p.Prefix):
            prefixes.extend(leaf.prefixes)
        else:
            fuzzy.append(leaf)
    prefix_tuple = tuple(prefixes)

    def matches(term: str) -> bool:
        if term in terms or (prefix_tuple and term.startswith(prefix_tuple)):
            return True
        return any(
            term[: f.prefix_length] == f.term[: f.prefix_length]
            and within_distance(f.term, term, f.distance)
            for f in fuzzy
        )

    # Most plans have words only: a set's own test is then cheaper than a Python function.
    wanted: Callable[[str], bool] = matches if prefix_tuple or fuzzy else terms.__contains__
    # The first letters a wanted term can start with (None: any, for a fuzzy term whose
    # first letter may differ): words starting otherwise need no stemming.
    starts = [*terms, *prefixes, *(f.term[: f.prefix_length] for f in fuzzy)]
    initials = frozenset(t[0] for t in starts) if all(starts) else None

    def mark(text: str) -> str:
        if not terms and not prefix_tuple and not fuzzy:
            return html.escape(text)
        # Merge overlapping spans: CJK bigrams overlap by one character.
        spans: list[list[int]] = []
        for start, end in analyzer.find(text, wanted, initials):
            if spans and start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], end)
            else:
                spans.append([start, end])
        out: list[str] = []
        last = 0
        for start, end in spans:
            out.append(html.escape(text[last:start]))
            out.append(f"<mark>{html.escape(text[start:end])}</mark>")
            last = end
        out.append(html.escape(text[last:]))
        return "".join(out)

    return mark
