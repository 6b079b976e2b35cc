"""The timeline: a date histogram of a search's matches, by day, week or month.

Backends count documents per UTC publication day (the ``day`` facet of ``execute``); the
pipeline folds the days into buckets here, so every engine gives the same timeline and a new
engine only counts days. Like the other facets it is disjunctive: counted under every filter
but its own (the dates), so that choosing a bar still shows the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, cast

from ..results import Facet, FacetValue
from ..schema import Interval

#: ``auto`` counts by day up to this many days from the first match to the last, by week up
#: to this many weeks, else by month: a chart of at most ~60 bars for spans up to five years.
AUTO_MAX_BARS: Final = 60
#: The facet name a timeline has in ``SearchResults.facets``.
TIMELINE_FACET: Final = "published"


def choose_interval(first: date, last: date) -> Interval:
    """``day`` for spans of up to 60 days, ``week`` up to 60 weeks, else ``month``."""
    days = (last - first).days + 1
    if days <= AUTO_MAX_BARS:
        return "day"
    if days <= AUTO_MAX_BARS * 7:
        return "week"
    return "month"


def bucket_start(day: date, interval: Interval) -> date:
    """The first day of the bucket holding ``day`` (weeks start on Monday, as in ISO 8601)."""
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def next_bucket(start: date, interval: Interval) -> date:
    """The first day of the bucket after the one starting on ``start``."""
    if interval == "day":
        return start + timedelta(days=1)
    if interval == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def label(start: date, interval: Interval) -> str:
    """A bucket's value: ``2020-05`` for a month, its first day ``2020-05-04`` otherwise."""
    return start.strftime("%Y-%m") if interval == "month" else start.isoformat()


def build_timeline(
    days: Mapping[str, int],
    mode: str,
    since: datetime | None,
    until: datetime | None,
) -> Facet:
    """The ``published`` facet: one value per bucket from the first match's to the last's
    (empty buckets between them included, with count 0), oldest first.

    ``days`` maps ``YYYY-MM-DD`` to documents (undated ones are not on a timeline). A bucket
    is ``selected`` when a date filter is set and the bucket lies wholly inside it, so a bar
    that was clicked (its ``since``..``until``) shows as chosen.
    """
    counted = {date.fromisoformat(day): count for day, count in days.items() if count > 0}
    if not counted:
        return Facet(TIMELINE_FACET, (), interval=None if mode == "auto" else mode)
    first, last = min(counted), max(counted)
    interval = choose_interval(first, last) if mode == "auto" else cast(Interval, mode)
    totals: dict[date, int] = {}
    for day, count in counted.items():
        start = bucket_start(day, interval)
        totals[start] = totals.get(start, 0) + count
    values: list[FacetValue] = []
    start = bucket_start(first, interval)
    while start <= last:
        after = next_bucket(start, interval)
        end = after - timedelta(days=1)
        values.append(FacetValue(
            label(start, interval), totals.get(start, 0),
            _inside(start, end, since, until), since=start.isoformat(), until=end.isoformat(),
        ))
        start = after
    return Facet(TIMELINE_FACET, tuple(values), interval=interval)


def _inside(start: date, end: date, since: datetime | None, until: datetime | None) -> bool:
    """Whether the days ``start``..``end`` lie inside a date filter (False without one)."""
    if since is None and until is None:
        return False
    begins = datetime.combine(start, time.min, UTC)
    ends = datetime.combine(end, time.max, UTC)
    return (since is None or since <= begins) and (until is None or ends <= until)
