"""The public search request: what ``Engine.search`` accepts, validated once, frozen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import query as q
from .analysis import fold_value
from .dates import parse_bound
from .errors import UsageError
from .freshness import parse_duration
from .plan import Filters
from .results import Notice
from .schema import (
    COLLAPSE_MODES,
    FACETS,
    FEEDBACK_MODES,
    KINDS,
    MATCH_MODES,
    SORTS,
    TIMELINE_MODES,
    FeedbackMode,
    MatchMode,
    Sort,
)

MAX_LIMIT = 1000
MAX_OFFSET = 100_000
#: Facet values a search returns at most per facet (``Engine.facet`` lists them all).
MAX_FACET_SIZE = 1000


@dataclass(frozen=True)
class SearchRequest:
    """Everything a search asks for, validated before it reaches the pipeline."""

    text: str
    query: q.Node
    topics: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    sort: Sort = "relevance"
    limit: int = 10
    offset: int = 0
    facet_size: int = 10
    match: MatchMode = "auto"
    #: Pseudo-relevance feedback: ``auto`` expands long queries, ``on`` any ranked query.
    feedback: FeedbackMode = "auto"
    exclude_ids: tuple[str, ...] = ()
    suggest: bool = True
    #: A date histogram of the matches (``facets["published"]``): ``auto``, ``day``, ``week``
    #: or ``month``; None for none.
    timeline: str | None = None
    #: ``story``: one hit per story, with its coverage (see ``searching.stories``); None: every
    #: document.
    collapse: str | None = None
    #: Relevance times a bounded decay on age with this half-life (see :mod:`.freshness`);
    #: None: relevance alone.
    freshness: timedelta | None = None
    #: Where ages count from: ``now``, ``newest`` (the index's newest document) or a moment.
    freshness_from: str | datetime = "now"
    #: What lenient parsing reinterpreted (``text`` is then the canonical string of what
    #: was read, which "did you mean" corrects).
    notices: tuple[Notice, ...] = ()

    @property
    def filters(self) -> Filters:
        """The structured filters, as typed (the pipeline resolves facet values)."""
        return Filters(
            topics=self.topics, providers=self.providers, kinds=self.kinds,
            since=self.since, until=self.until, exclude_ids=self.exclude_ids,
        )


def build_request(
    text: str,
    *,
    topics: Sequence[str],
    providers: Sequence[str],
    kind: str | None,
    since: str | datetime | None,
    until: str | datetime | None,
    sort: str,
    limit: int,
    offset: int,
    facet_size: int,
    match: str,
    feedback: str = "auto",
    strict: bool = False,
    timeline: str | None = None,
    collapse: str | None = None,
    freshness: str | timedelta | None = None,
    freshness_from: str | datetime | None = None,
) -> SearchRequest:
    """A validated request; :class:`UsageError` (or, ``strict``, ``QueryError``) names the bad
    argument. Without ``strict`` any text is searched (:func:`~searchlib.query.parse_lenient`).
    """
    if not isinstance(text, str):
        raise UsageError("the query must be a string")
    if not isinstance(strict, bool):
        raise UsageError(f"strict must be True or False, not {strict!r}")
    notices: tuple[Notice, ...] = ()
    if strict:
        parsed = q.parse(text)
    else:
        parsed, notices = q.parse_lenient(text)
        if notices:
            # Searched as its canonical string: what "did you mean" corrects, so that a
            # suggestion is a query that runs as it reads.
            text = q.to_string(parsed)
    if sort not in SORTS:
        raise UsageError(f"unknown sort {sort!r}: choose one of {', '.join(SORTS)}")
    if match not in MATCH_MODES:
        raise UsageError(f"unknown match mode {match!r}: choose one of auto, all, any")
    if feedback not in FEEDBACK_MODES:
        raise UsageError(f"unknown feedback mode {feedback!r}: choose one of auto, on, off")
    if feedback == "on" and match == "all":
        raise UsageError(
            "feedback 'on' adds documents without every word: not with match 'all'"
        )
    if feedback == "on" and sort != "relevance":
        raise UsageError(f"feedback 'on' changes the ranking: not with sort {sort!r}")
    if kind is not None and fold_value(kind) in KINDS:
        kind = fold_value(kind)  # "Article" is "article", like every facet filter value
    if kind is not None and kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")
    if timeline is not None and timeline not in TIMELINE_MODES:
        raise UsageError(
            f"unknown timeline {timeline!r}: choose one of {', '.join(TIMELINE_MODES)}"
        )
    if collapse is not None and collapse not in COLLAPSE_MODES:
        raise UsageError(
            f"unknown collapse {collapse!r}: choose {', '.join(COLLAPSE_MODES)} (or none)"
        )
    half_life = None if freshness is None or freshness == "" else parse_duration(
        freshness, "freshness"
    )
    anchor = freshness_anchor(freshness_from)
    if half_life is None and anchor != "now":
        raise UsageError("freshness_from needs freshness (a duration like 7d)")
    if half_life is not None and sort != "relevance":
        raise UsageError(f"freshness changes the ranking by relevance: not with sort {sort!r}")
    check_int("limit", limit, 0, MAX_LIMIT)
    check_int("offset", offset, 0, MAX_OFFSET)
    check_int("facet_size", facet_size, 1, MAX_FACET_SIZE)
    since_dt = parse_bound(since, "since", end=False)
    until_dt = parse_bound(until, "until", end=True)
    if since_dt is not None and until_dt is not None and since_dt > until_dt:
        raise UsageError("since must not be later than until")
    return SearchRequest(
        text=text,
        query=parsed,
        topics=filter_values("topic", topics),
        providers=filter_values("provider", providers),
        kinds=(kind,) if kind else (),
        since=since_dt,
        until=until_dt,
        sort=sort,
        limit=limit,
        offset=offset,
        facet_size=facet_size,
        match=match,
        feedback=feedback,
        notices=notices,
        timeline=timeline,
        collapse=collapse,
        freshness=half_life,
        freshness_from=anchor,
    )


def freshness_anchor(value: str | datetime | None) -> str | datetime:
    """``now`` (also for None or ""), ``newest``, or the moment a date names (UTC)."""
    if value is None or value == "" or value == "now":
        return "now"
    if value == "newest":
        return value
    try:
        moment = parse_bound(value, "freshness_from", end=False)
    except UsageError:
        moment = None
    if moment is None:
        raise UsageError(
            "freshness_from must be now, newest or a date like 2026-09-30 or "
            f"2026-09-30T12:00:00Z, not {value!r}"
        )
    return moment


def check_int(name: str, value: object, low: int, high: int) -> None:
    """A ``UsageError`` unless ``value`` is a whole number from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{name} must be a whole number from {low} to {high}, not {value!r}")


def filter_values(name: str, values: Sequence[str]) -> tuple[str, ...]:
    """Filter values as given, without blank ones and without repeats of one folded key
    (they select the same facet values: ``ai`` and ``AI``); one string counts as one value."""
    if isinstance(values, str):
        values = [values]
    out: dict[str, str] = {}
    for value in values:
        if not isinstance(value, str):
            raise UsageError(f"{name} filter values must be strings, not {value!r}")
        key = fold_value(value)
        if key:
            out.setdefault(key, value)
    return tuple(out.values())


def check_facet(name: object, limit: object) -> None:
    """A ``UsageError`` for an unknown facet name or a bad ``limit`` of ``Engine.facet``."""
    if not isinstance(name, str) or name not in FACETS:
        raise UsageError(f"unknown facet {name!r}: choose one of {', '.join(FACETS)}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise UsageError(f"limit must be a whole number of at least 1, not {limit!r}")
