"""Pseudo-relevance feedback (RM3) for long queries.

A long, descriptive query ("agreement by the united arab republic and saudi arabia to withdraw
their forces from yemen") names its subject in words the relevant articles may not repeat. RM3
(Abdul-Jaleel et al., 2004; Lavrenko & Croft's relevance model) takes the words that are
frequent in the best-ranked documents, weighs each by how well its documents scored, and adds
the strongest of them to the query with a smaller weight than the words typed. The query is run
again; documents that use the subject's vocabulary without the query's exact words can now be
found. ``benchmarks/RELEVANCE.md`` has the measurements behind the settings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from .. import plan as p
from .. import query as q
from ..analysis import Analyzer
from ..records import Record
from .compile import Compiler


@dataclass(frozen=True)
class FeedbackSettings:
    """How many top documents feed back, how many words are added, and the typed words' share."""

    docs: int = 10
    terms: int = 30
    original_weight: float = 0.8
    #: Words in more than this share of the documents are not added: their long postings
    #: lists cost the most time, and their low idf adds little to a score.
    max_df: float = 0.2


DEFAULT_FEEDBACK = FeedbackSettings()


def nested_negation(node: q.Node) -> bool:
    """Whether a ``NOT`` sits anywhere but at the top level of the query."""
    children = node.children if isinstance(node, q.Seq) else (node,)
    stack: list[q.Node] = [c.child if isinstance(c, q.Not) else c for c in children]
    while stack:
        current = stack.pop()
        if isinstance(current, q.Not):
            return True
        if isinstance(current, (q.Seq, q.And, q.Or)):
            stack.extend(current.children)
    return False


def typed_words(node: q.Node) -> list[str]:
    """The words a query asks for, repeats kept, from the text fields (not under ``NOT``)."""
    if isinstance(node, (q.Term, q.Prefix, q.Fuzzy)):
        return [node.text] if node.field in (None, "title", "excerpt") else []
    if isinstance(node, q.Phrase):
        return list(node.words) if node.field in (None, "title", "excerpt") else []
    if isinstance(node, (q.Seq, q.And, q.Or)):
        return [word for child in node.children for word in typed_words(child)]
    return []


@dataclass(frozen=True, slots=True)
class FeedbackWord:
    """A word of the relevance model: its index term, its weight, and how it was written in
    the top documents (case-folded, with how often)."""

    term: str
    weight: float
    forms: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def surface(self) -> str:
        """How the word is usually written: its most frequent form, the first seen among
        equals (as ``Counter.most_common``). Computed when asked: a model has hundreds of
        words, and only the few added to a query are shown."""
        return max(self.forms.items(), key=itemgetter(1))[0] if self.forms else self.term


class RelevanceModel:
    """``P(word | relevant)`` of the words of the top documents, strongest first.

    Each document contributes its words' relative frequencies in title and excerpt, weighted
    by its share of the top documents' total score. One-letter words and numbers are left out:
    they carry no subject. A model has hundreds of words and a search adds a few dozen: how
    each was written is gathered (:meth:`words`) only for those.
    """

    def __init__(self, analyzer: Analyzer, top: Sequence[tuple[Record, float]]) -> None:
        #: ``(term, P(term | relevant))``, strongest first, ties by term.
        self.ranked: list[tuple[str, float]] = []
        #: Each contributing document's ``(word as written, term)`` pairs, in text order.
        self._pairs: list[list[tuple[str, str]]] = []
        total = sum(score for _, score in top if score > 0)
        if total <= 0:
            return
        model: dict[str, float] = {}
        for record, score in top:
            if score <= 0:
                continue
            text = f"{record.title or ''} {record.excerpt or ''}"
            pairs = [
                (word, term) for word, term in analyzer.written_terms(text)
                if len(term) > 1 and not term.isdigit()
            ]
            if not pairs:
                continue
            self._pairs.append(pairs)
            for term, count in Counter([term for _, term in pairs]).items():
                model[term] = model.get(term, 0.0) + score / total * count / len(pairs)
        # By term, then (stable) by weight, strongest first: two sorts by a plain key.
        ranked = sorted(model.items(), key=itemgetter(0))
        ranked.sort(key=itemgetter(1), reverse=True)
        self.ranked = ranked

    def words(self, chosen: Sequence[tuple[str, float]]) -> list[FeedbackWord]:
        """``chosen`` (entries of :attr:`ranked`) as words, with how each was written in the
        top documents (case-folded, with how often; in order of first use)."""
        written: dict[str, dict[str, int]] = {term: {} for term, _ in chosen}
        for pairs in self._pairs:
            for word, term in pairs:
                forms = written.get(term)
                if forms is not None:
                    folded = word.casefold()
                    forms[folded] = forms.get(folded, 0) + 1
        return [FeedbackWord(term, weight, written[term]) for term, weight in chosen]


def expand(
    compiled_match: p.Plan | None,
    original: Counter[str],
    model: Sequence[FeedbackWord],
    original_weight: float,
    excluded: p.Plan | None = None,
) -> p.Plan | None:
    """The compiled query interpolated with the feedback words (RM3).

    A typed word weighs ``original_weight * count / typed``; a feedback word
    ``(1 - original_weight) * P(word | relevant) / sum of P``. The typed query keeps its
    structure (tiers, phrases), so it is scaled as a whole; weights are divided by the largest
    so that scores stay on the scale of an unexpanded query. ``excluded`` (the query's
    ``-words``) is kept out of the documents the feedback words bring in, too.
    """
    if compiled_match is None or not model or not original:
        return compiled_match
    typed = sum(original.values())
    mass = sum(word.weight for word in model) or 1.0
    feedback = [(word.term, (1 - original_weight) * word.weight / mass) for word in model]
    largest = max(
        [original_weight * count / typed for count in original.values()]
        + [weight for _, weight in feedback]
    )
    clauses: list[p.Plan] = [p.Boost(compiled_match, original_weight / typed / largest)]
    clauses += [Compiler.any_field(term, boost=weight / largest) for term, weight in feedback]
    combined = p.Any(tuple(clauses))
    return p.Exclude(combined, excluded) if excluded is not None else combined
