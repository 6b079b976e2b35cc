"""Highlights: the words of a text that a query matched, in ``<mark>``, everything else escaped.

Engine-neutral: a token of the text is marked when its analysed term is one the plan asks for
(a word or a phrase's words), starts with one of its prefixes, or is within a fuzzy term's
edit distance. Excluded words are never marked.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from .. import plan as p
from ..analysis import Analyzer
from ..schema import FIELD_WEIGHTS
from .distance import within_distance

#: Characters ``html.escape`` replaces: a text without them is its own escape.
_SPECIAL = re.compile("[&<>\"']")


def _same(text: str) -> str:
    return text


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
    # What every wanted term starts with (a fuzzy term: its fixed prefix, if any): words
    # that cannot start like one of them need no stemming.
    heads = analyzer.heads([*terms, *prefixes, *(f.term[: f.prefix_length] for f in fuzzy)])

    def mark(text: str) -> str:
        if not terms and not prefix_tuple and not fuzzy:
            return html.escape(text)
        found = analyzer.find(text, wanted, heads)
        if not found:
            return html.escape(text)
        escape = html.escape if _SPECIAL.search(text) else _same
        out: list[str] = []
        last = 0
        mark_start = -1
        for start, end in found:
            if mark_start >= 0 and start <= last:
                # Overlapping or touching spans (CJK bigrams overlap by one character): one mark.
                last = max(last, end)
                out[-1] = f"<mark>{escape(text[mark_start:last])}</mark>"
                continue
            out.append(escape(text[last:start]))
            out.append(f"<mark>{escape(text[start:end])}</mark>")
            mark_start, last = start, end
        out.append(escape(text[last:]))
        return "".join(out)

    return mark
