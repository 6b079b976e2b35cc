"""One search, start to end: plan, match mode, feedback, one backend call, facets, hits.

Match modes (``auto``, the default): a short query (up to
:data:`~searchlib.schema.SHORT_QUERY_WORDS` words) must match every word; a longer one, or a
short one that no document matches in full, is *tiered*: any word matches, and documents with
every word rank first. ``benchmarks/RELEVANCE.md`` has the numbers behind these choices.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..analysis import Analyzer, fold_value
from ..backends.base import Backend
from ..plan import Filters
from ..request import SearchRequest
from ..results import EmptyFilters, Facet, SearchResults
from ..schema import FACETS, SHORT_QUERY_WORDS
from .compile import Compiled, Compiler
from .facets import build_facet, facet_filters
from .feedback import (
    DEFAULT_FEEDBACK,
    FeedbackSettings,
    FeedbackWord,
    expand,
    nested_negation,
    relevance_model,
    typed_words,
)
from .highlight import highlighter
from .hits import hit_from_record
from .missing import missing_words
from .similar import key_terms, similar_plan
from .suggest import SUGGEST_BELOW, suggest

if TYPE_CHECKING:
    from ..synonyms import SynonymSource


class SearchPipeline:
    """Runs searches against one backend with the index's analysis."""

    def __init__(
        self, backend: Backend, language: str, feedback: FeedbackSettings = DEFAULT_FEEDBACK,
        *, synonyms: SynonymSource | None = None,
    ) -> None:
        self.backend = backend
        self.analyzer = Analyzer(language)
        self.plain = Analyzer(language, stem=False, remove_stopwords=False)
        self.compiler = Compiler(self.analyzer, self.plain, synonyms)
        #: RM3 settings for long queries (see ``feedback``).
        self.feedback_settings = feedback

    # -- searching ---------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResults:
        """Run a search: ranked page, total, disjunctive facets, highlights, suggestion.

        Only the fallback of a short query is ``relaxed`` (with the ``missing`` words): long
        queries rank by any word by design. A search that its filters emptied names them in
        ``empty_filters``.
        """
        started = time.perf_counter()
        filters = self.filters(request)
        chosen = self._choose(request, filters)

        def total_with(other: Filters) -> int:
            # The same search with other filters, its match mode and feedback decided again.
            return self.backend.count(self._choose(request, other).compiled.match, other)

        results = self._run(
            request, filters, chosen.compiled, started, fell_back=chosen.fell_back,
            added=chosen.added, total_with=total_with,
        )
        applied = self.compiler.applied(request.query)
        return replace(results, synonyms=applied) if applied else results

    def _choose(self, request: SearchRequest, filters: Filters) -> _Choice:
        """The compiled query a search runs after its match mode and feedback decisions."""
        fell_back = False
        if request.match in ("any", "all"):
            compiled = self.compiler.compile(request.query, request.match)
        else:
            compiled = self.compiler.compile(request.query, "all")
            if compiled.positive_clauses > SHORT_QUERY_WORDS:
                compiled = self.compiler.tiered(request.query)
            elif compiled.positive_clauses > 1 and not self.backend.count(compiled.match, filters):
                # Nothing has every word: rank the documents that have some of them.
                compiled = self.compiler.tiered(request.query)
                fell_back = True
        added: tuple[str, ...] = ()
        if self._feedback_applies(request, compiled):
            compiled, added = self._with_feedback(request, filters, compiled)
        return _Choice(compiled, fell_back, added)

    def similar(self, doc_id: str, request: SearchRequest) -> SearchResults:
        """Documents sharing the most distinctive terms of ``doc_id`` (never itself)."""
        started = time.perf_counter()
        record = self.backend.get(doc_id)
        terms = [] if record is None else key_terms(self.backend, self.analyzer, record)
        plan = similar_plan(terms)
        request = replace(
            request, exclude_ids=(*request.exclude_ids, doc_id), suggest=False, feedback="off"
        )
        compiled = Compiled(plan, plan, len(terms))
        return self._run(
            request, self.filters(request), compiled, started,
            total_with=lambda other: self.backend.count(plan, other),
        )

    def facet(self, name: str, request: SearchRequest, limit: int | None) -> Facet:
        """Every value of one facet (the first ``limit``) with the counts ``search`` gives."""
        filters = self.filters(request)
        chosen = self._choose(request, filters)
        execution = self.backend.execute(
            chosen.compiled.match, filters, {name: filters.without(name)}, request.sort, 0, 0
        )
        return build_facet(name, execution.facets.get(name, {}), filters.values(name), limit)

    def filters(self, request: SearchRequest) -> Filters:
        """The request's filters with facet values resolved to the values as written.

        Filter values match facet values by their folded key (case, accents and spacing
        ignored): ``reuters`` selects ``Reuters``, and ``ai`` both ``AI`` and ``Ai`` if the
        files hold both. A value that selects nothing is kept as typed (it matches nothing).
        """
        filters = request.filters
        if not (filters.topics or filters.providers or filters.kinds):
            return filters
        known = self.backend.info().facets
        resolved = {
            name: _resolve(filters.values(name), known.get(name, {})) for name in FACETS
        }
        return replace(
            filters, topics=resolved["topic"], providers=resolved["provider"],
            kinds=resolved["kind"],
        )

    # -- feedback ----------------------------------------------------------------------------

    def _feedback_applies(self, request: SearchRequest, compiled: Compiled) -> bool:
        """Whether the search is expanded by pseudo-relevance feedback (RM3).

        ``auto`` expands queries of more than :data:`SHORT_QUERY_WORDS` words ranked by
        relevance, which are tiered; short queries keep meaning "documents with my words".
        Never with ``match="all"`` or a ``NOT`` inside a group (whose scope the added words
        could not respect).
        """
        if (
            request.feedback == "off"
            or request.sort != "relevance"
            or request.match == "all"
            or compiled.match is None
            or compiled.positive_clauses == 0
            or nested_negation(request.query)
        ):
            return False
        return request.feedback == "on" or compiled.positive_clauses > SHORT_QUERY_WORDS

    def _with_feedback(
        self, request: SearchRequest, filters: Filters, compiled: Compiled
    ) -> tuple[Compiled, tuple[str, ...]]:
        """``compiled`` expanded with the words of its own top documents, and those words."""
        settings = self.feedback_settings
        first = self.backend.execute(compiled.match, filters, {}, "relevance", 0, settings.docs)
        top = [(record, float(score or 0.0)) for record, score in first.page]
        if not top:
            return compiled, ()
        model = relevance_model(self.analyzer, top, None)
        if settings.max_df < 1.0 and model:
            most = settings.max_df * self.backend.info().count
            # The strongest words first, in chunks, until enough pass: the statistics of
            # words that would be cut anyway are never asked for.
            kept: list[FeedbackWord] = []
            start = 0
            while start < len(model) and len(kept) < settings.terms:
                chunk = model[start : start + max(settings.terms, 1)]
                start += len(chunk)
                candidates = [word.term for word in chunk]
                too_common: set[str] = set()
                for field in ("title", "excerpt"):
                    stats = self.backend.term_stats(field, candidates)
                    too_common |= {t for t, s in stats.items() if s.doc_frequency > most}
                kept += [word for word in chunk if word.term not in too_common]
            model = kept
        model = model[: settings.terms]
        original = Counter(
            term for word in typed_words(request.query) for term in self.analyzer.terms(word)
        )
        match = expand(
            compiled.match, original, model, settings.original_weight,
            self.compiler.excluded(request.query),
        )
        if match is compiled.match:
            return compiled, ()
        added = tuple(word.surface for word in model if word.term not in original)
        return Compiled(match, compiled.highlight, compiled.positive_clauses), added

    # -- one backend call, then hits and facets ----------------------------------------------

    def _run(
        self,
        request: SearchRequest,
        filters: Filters,
        compiled: Compiled,
        started: float,
        *,
        fell_back: bool = False,
        added: tuple[str, ...] = (),
        total_with: Callable[[Filters], int] | None = None,
    ) -> SearchResults:
        """One backend call, then hits with highlights, facets, and what to tell the user.

        ``total_with(filters)`` counts the same search under other filters: it explains a
        search that its filters emptied.
        """
        execution = self.backend.execute(
            compiled.match, filters, facet_filters(filters), request.sort,
            request.offset, request.limit,
        )
        facets: dict[str, Facet] = {
            name: build_facet(
                name, execution.facets.get(name, {}), filters.values(name), request.facet_size
            )
            for name in FACETS
        }
        mark = highlighter(self.analyzer, compiled.highlight)
        hits = tuple(
            hit_from_record(
                record, rank, score,
                {"title": mark(record.title), "excerpt": mark(record.excerpt)},
            )
            for rank, (record, score) in enumerate(execution.page, start=request.offset + 1)
        )
        # "Relaxed" is the fallback of a short query from every word to any word, only.
        relaxed = fell_back and execution.total > 0
        missing = (
            missing_words(self.compiler, request.query, [r for r, _ in execution.page])
            if relaxed else ()
        )
        empty = None
        if execution.total == 0 and total_with is not None:
            empty = empty_filters(filters, total_with)
        suggestion = None
        if request.suggest and (fell_back or execution.total < SUGGEST_BELOW):
            suggestion = suggest(
                self.backend, self.plain, request.text, request.query,
                lambda tree: self.backend.count(self.compiler.compile(tree, "all").match, filters),
                0 if fell_back else execution.total,
            )
        return SearchResults(
            query=request.text,
            total=execution.total,
            offset=request.offset,
            limit=request.limit,
            took_ms=(time.perf_counter() - started) * 1000,
            hits=hits,
            facets=facets,
            suggestion=suggestion,
            feedback=added,
            relaxed=relaxed,
            missing=missing,
            empty_filters=empty,
        )


@dataclass(frozen=True)
class _Choice:
    """A search's compiled query, and how it was chosen."""

    compiled: Compiled
    fell_back: bool
    added: tuple[str, ...]


def _resolve(typed: tuple[str, ...], known: Mapping[str, int]) -> tuple[str, ...]:
    """The written values that ``typed`` filter values select (see ``filters``)."""
    if not typed:
        return ()
    forms: dict[str, list[str]] = {}
    for value in sorted(known):
        forms.setdefault(fold_value(value), []).append(value)
    out: dict[str, None] = {}
    for value in typed:
        for written in forms.get(fold_value(value)) or [value]:
            out.setdefault(written, None)
    return tuple(out)


def empty_filters(filters: Filters, total_with: Callable[[Filters], int]) -> EmptyFilters | None:
    """Which filters emptied a search with no results, and the total without them.

    None unless the search has active filters and finds something without any of them. The
    filter whose removal alone finds the most is named (the first of topic, provider, kind,
    date on a tie); when removing any one alone still finds nothing, all of them are.
    """
    active = filters.active()
    if not active:
        return None
    unfiltered = total_with(filters.without(*active))
    if unfiltered == 0:
        return None
    if len(active) == 1:
        return EmptyFilters(active, unfiltered)
    best, best_total = "", 0
    for name in active:
        found = total_with(filters.without(name))
        if found > best_total:
            best, best_total = name, found
    if not best:
        return EmptyFilters(active, unfiltered)
    return EmptyFilters((best,), best_total)

