"""One search, start to end: plan, match mode, feedback, one backend call, facets, hits.

Match modes (``auto``, the default): a short query (up to
:data:`~searchlib.schema.SHORT_QUERY_WORDS` words) must match every word; a longer one, or a
short one that no document matches in full, is *tiered*: any word matches, and documents with
every word rank first. ``benchmarks/RELEVANCE.md`` has the numbers behind these choices.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from ..analysis import Analyzer, fold_value
from ..backends.base import Backend, Execution
from ..freshness import Decay, now
from ..plan import Everything, Filters, Plan
from ..records import Record
from ..request import SearchRequest
from ..results import Coverage, EmptyFilters, Facet, SearchResults
from ..schema import DAY_FACET, FACETS, SHORT_QUERY_WORDS
from .compile import Compiled, Compiler
from .facets import build_facet, facet_filters
from .feedback import (
    DEFAULT_FEEDBACK,
    FeedbackSettings,
    RelevanceModel,
    expand,
    nested_negation,
    typed_words,
)
from .highlight import highlighter
from .hits import hit_from_record
from .missing import missing_words
from .similar import key_terms, similar_plan
from .stories import coverage, group
from .suggest import SUGGEST_BELOW, suggest
from .timeline import TIMELINE_FACET, build_timeline

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
        #: Candidates a search under freshness fetches first, at least (see ``_fresh_page``).
        self.fresh_first = 100
        #: Per facet: the engine's counts last seen, and their values by folded key.
        self._folded: dict[str, tuple[Mapping[str, int], dict[str, list[str]]]] = {}

    # -- searching ---------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResults:
        """Run a search: ranked page, total, disjunctive facets, highlights, suggestion.

        Only the fallback of a short query is ``relaxed`` (with the ``missing`` words): long
        queries rank by any word by design. A search that its filters emptied names them in
        ``empty_filters``.
        """
        started = time.perf_counter()
        with self.compiler.pinned():
            filters = self.filters(request)
            chosen, fetched = self._choose_and_fetch(request, filters)

            def total_with(other: Filters) -> int:
                # The same search with other filters, its match mode and feedback decided
                # again.
                return self.backend.count(self._choose(request, other).compiled.match, other)

            results = self._present(
                request, filters, chosen.compiled, started, fetched,
                fell_back=chosen.fell_back, added=chosen.added, total_with=total_with,
            )
            applied = self.compiler.applied(request.query)
        return replace(results, synonyms=applied) if applied else results

    def _choose_and_fetch(
        self, request: SearchRequest, filters: Filters
    ) -> tuple[_Choice, _Fetched]:
        """:meth:`_choose` and the page of its query. A short query of several words is run
        for every word at once rather than counted first: only when nothing has them all is
        it chosen again (tiered), so the common case costs one backend call, not two."""
        if request.match == "auto":
            compiled = self.compiler.compile(request.query, "all")
            if 1 < compiled.positive_clauses <= SHORT_QUERY_WORDS and not (
                self._feedback_applies(request, compiled)
            ):
                fetched = self._fetch(request, filters, compiled)
                if fetched.execution.total:
                    return _Choice(compiled, False, ()), fetched
        chosen = self._choose(request, filters)
        return chosen, self._fetch(request, filters, chosen.compiled)

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
        filters = self.filters(request)
        return self._present(
            request, filters, compiled, started, self._fetch(request, filters, compiled),
            total_with=lambda other: self.backend.count(plan, other),
        )

    def facet(self, name: str, request: SearchRequest, limit: int | None) -> Facet:
        """Every value of one facet (the first ``limit``) with the counts ``search`` gives."""
        filters = self.filters(request)
        with self.compiler.pinned():
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
            name: _resolve(typed, self._forms(name, known.get(name, {}))) if typed else ()
            for name in FACETS
            for typed in (filters.values(name),)
        }
        return replace(
            filters, topics=resolved["topic"], providers=resolved["provider"],
            kinds=resolved["kind"],
        )

    def _forms(self, name: str, known: Mapping[str, int]) -> Mapping[str, list[str]]:
        """Folded key -> the values of facet ``name`` as written, kept while ``known`` (the
        engine's facet counts, the same object until its next commit) stays: folding every
        provider of an index again took a third of a millisecond a filtered search."""
        cached = self._folded.get(name)
        if cached is not None and cached[0] is known:
            return cached[1]
        forms: dict[str, list[str]] = {}
        for value in sorted(known):
            forms.setdefault(fold_value(value), []).append(value)
        self._folded[name] = (known, forms)
        return forms

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
        model = RelevanceModel(self.analyzer, top)
        ranked = model.ranked
        if settings.max_df < 1.0 and ranked:
            most = settings.max_df * self.backend.info().count
            # The strongest words first, in chunks of as many as are still wanted, until
            # enough pass: the statistics of words that would not be added are never asked
            # for (each costs a read of the word in every segment).
            kept: list[tuple[str, float]] = []
            start = 0
            while start < len(ranked) and len(kept) < settings.terms:
                chunk = ranked[start : start + max(settings.terms - len(kept), 1)]
                start += len(chunk)
                candidates = [term for term, _ in chunk]
                too_common: set[str] = set()
                for field in ("title", "excerpt"):
                    if not candidates:
                        break
                    stats = self.backend.term_stats(field, candidates)
                    too_common |= {t for t, s in stats.items() if s.doc_frequency > most}
                    candidates = [term for term in candidates if term not in too_common]
                kept += [entry for entry in chunk if entry[0] not in too_common]
            ranked = kept
        words = model.words(ranked[: settings.terms])
        original = Counter(
            term for word in typed_words(request.query) for term in self.analyzer.terms(word)
        )
        match = expand(
            compiled.match, original, words, settings.original_weight,
            self.compiler.excluded(request.query),
        )
        if match is compiled.match:
            return compiled, ()
        added = tuple(word.surface for word in words if word.term not in original)
        return Compiled(match, compiled.highlight, compiled.positive_clauses), added

    # -- one backend call, then hits and facets ----------------------------------------------

    def _fetch(self, request: SearchRequest, filters: Filters, compiled: Compiled) -> _Fetched:
        """One backend call: the page of ``compiled`` (stories, under freshness) with the
        total and the facet counts."""
        counted: dict[str, Filters] = facet_filters(filters)
        if request.timeline is not None:
            counted[DAY_FACET] = filters.without("date")
        total_stories: int | None = None
        window: list[tuple[Record, float | None, Coverage | None]]
        decay = self._decay(request)
        if request.collapse == "story":
            # Every match, to group them: a story's rank is its best hit's, its coverage
            # counts all of its matches, and total_stories is exact.
            execution = self.backend.execute(
                compiled.match, filters, counted, request.sort, 0, self._every(),
            )
            ranked = execution.page if decay is None else rerank(execution.page, decay)
            stories = list(group(ranked, self._dates()).items())
            total_stories = len(stories)
            window = [
                (members[0][0], members[0][1], coverage(story, members))
                for story, members in stories[request.offset : request.offset + request.limit]
            ]
        elif decay is not None:
            execution, page = self._fresh_page(compiled.match, filters, counted, request, decay)
            window = [(record, score, None) for record, score in page]
        else:
            execution = self.backend.execute(
                compiled.match, filters, counted, request.sort, request.offset, request.limit,
            )
            window = [(record, score, None) for record, score in execution.page]
        return _Fetched(execution, window, total_stories)

    def _present(
        self,
        request: SearchRequest,
        filters: Filters,
        compiled: Compiled,
        started: float,
        fetched: _Fetched,
        *,
        fell_back: bool = False,
        added: tuple[str, ...] = (),
        total_with: Callable[[Filters], int] | None = None,
    ) -> SearchResults:
        """Hits with highlights, facets, and what to tell the user, from a fetched page.

        ``total_with(filters)`` counts the same search under other filters: it explains a
        search that its filters emptied.
        """
        execution, window = fetched.execution, fetched.window
        facets: dict[str, Facet] = {
            name: build_facet(
                name, execution.facets.get(name, {}), filters.values(name), request.facet_size
            )
            for name in FACETS
        }
        if request.timeline is not None:
            facets[TIMELINE_FACET] = build_timeline(
                execution.facets.get(DAY_FACET, {}), request.timeline, filters.since,
                filters.until,
            )
        mark = highlighter(self.analyzer, compiled.highlight)
        hits = tuple(
            hit_from_record(
                record, rank, score,
                {"title": mark(record.title), "excerpt": mark(record.excerpt)},
                story,
            )
            for rank, (record, score, story) in enumerate(window, start=request.offset + 1)
        )
        # "Relaxed" is the fallback of a short query from every word to any word, only.
        relaxed = fell_back and execution.total > 0
        missing = (
            missing_words(self.compiler, request.query, [r for r, _, _ in window])
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
            total_stories=fetched.total_stories,
        )

    # -- freshness ---------------------------------------------------------------------------

    def _decay(self, request: SearchRequest) -> Decay | None:
        """The request's decay on age, its anchor resolved; None without freshness."""
        if request.freshness is None:
            return None
        anchor = request.freshness_from
        if isinstance(anchor, datetime):
            return Decay(request.freshness, anchor)
        moment = None
        if anchor == "newest":
            newest = self.backend.execute(Everything(), Filters(), {}, "newest", 0, 1).page
            moment = newest[0][0].published if newest else None
        return Decay(request.freshness, moment or now())

    def _fresh_page(
        self,
        plan: Plan | None,
        filters: Filters,
        counted: Mapping[str, Filters],
        request: SearchRequest,
        decay: Decay,
    ) -> tuple[Execution, list[tuple[Record, float | None]]]:
        """The exact window of the matches ranked by relevance x decay, and the first
        execution (total and facets).

        Candidates come by relevance, best first. The decay is at most 1, so a match not yet
        fetched scores at most the last fetched relevance: once that is no more than the
        window's last decayed score, nothing unfetched can enter the window (on a tie the
        fetched one ranks first, by relevance order). Until then, twice as many are fetched.
        """
        window = request.offset + request.limit
        size = 0 if window == 0 else max(window, self.fresh_first)
        first = self.backend.execute(plan, filters, counted, "relevance", 0, size)
        fetched = list(first.page)
        if not fetched or fetched[0][1] is None:
            return first, fetched[request.offset : window]  # not scored: newest first
        while True:
            ranked = rerank(fetched, decay)
            if len(fetched) >= first.total:
                break
            last_relevance = float(fetched[-1][1] or 0.0)
            if len(ranked) >= window and last_relevance <= float(ranked[window - 1][1] or 0.0):
                break
            more = self.backend.execute(plan, filters, {}, "relevance", len(fetched), len(fetched))
            if not more.page:
                break
            fetched += more.page
        return first, ranked[request.offset : window]

    def _every(self) -> int:
        """A page size that holds every match."""
        return max(1, self.backend.info().count)

    def _dates(self) -> Callable[[str], datetime | None]:
        """An article's date by id, each looked up once per search (stories ask for the
        parents of related items listed by several articles)."""
        known: dict[str, datetime | None] = {}

        def published(doc_id: str) -> datetime | None:
            if doc_id not in known:
                record = self.backend.get(doc_id)
                known[doc_id] = None if record is None else record.published
            return known[doc_id]

        return published


def rerank(
    ranked: Sequence[tuple[Record, float | None]], decay: Decay
) -> list[tuple[Record, float | None]]:
    """Matches by relevance x decay, best first (stable: ties keep their relevance order);
    unscored matches keep their order."""
    if not ranked or ranked[0][1] is None:
        return list(ranked)
    decayed: list[tuple[Record, float | None]] = [
        (record, float(score or 0.0) * decay(record.published)) for record, score in ranked
    ]
    decayed.sort(key=lambda pair: -float(pair[1] or 0.0))
    return decayed


@dataclass(frozen=True)
class _Choice:
    """A search's compiled query, and how it was chosen."""

    compiled: Compiled
    fell_back: bool
    added: tuple[str, ...]


@dataclass(frozen=True)
class _Fetched:
    """What one backend call gave a search: the execution and the window of the page (each
    record with its score and, collapsed, its story's coverage)."""

    execution: Execution
    window: list[tuple[Record, float | None, Coverage | None]]
    total_stories: int | None


def _resolve(typed: tuple[str, ...], forms: Mapping[str, list[str]]) -> tuple[str, ...]:
    """The written values that ``typed`` filter values select (see ``filters``); ``forms``
    maps each folded key to the facet's values as written."""
    if not typed:
        return ()
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

