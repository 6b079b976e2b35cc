"""Freshness: relevance multiplied by a bounded decay on a document's age (opt-in).

``freshness="7d"`` halves the part of a document's score that can decay for every 7 days of
age; the rest, :data:`FRESHNESS_FLOOR`, never decays, so the multiplier stays in
``[FRESHNESS_FLOOR, 1]`` and an old document with more than ``1 / FRESHNESS_FLOOR`` times the
relevance of a new one still ranks above it::

    decay(age) = FLOOR + (1 - FLOOR) * 0.5 ** (age / duration)

Age is counted from an anchor: the moment of the search (``now``), the newest document of the
index (``newest``: for archives, whose "now" is long past), or a given date. Documents newer
than the anchor count as age 0; undated documents get the floor.

>>> parse_duration("36h", "freshness")
datetime.timedelta(days=1, seconds=43200)
>>> Decay(timedelta(days=7), datetime(2026, 10, 8, tzinfo=UTC))(datetime(2026, 10, 1, tzinfo=UTC))
0.75
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from .errors import UsageError

#: The share of relevance that never decays: an old exact match can still win.
FRESHNESS_FLOOR: Final = 0.5
#: Units of a duration, in seconds.
UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
#: The longest duration accepted (about 1,000 years: beyond it every age decays by nothing).
MAX_DURATION: Final = timedelta(days=365_000)
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([smhdw])\s*$")


def parse_duration(value: str | timedelta, name: str) -> timedelta:
    """A positive duration from ``7d``, ``12h``, ``2w``, ``90m``, ``30s`` (or a timedelta);
    a one-line :class:`UsageError` naming ``name`` otherwise."""
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * UNITS[match.group(2)]
        if seconds > MAX_DURATION.total_seconds():
            raise UsageError(f"{name} must be at most {MAX_DURATION.days:,}d, not {value!r}")
        duration = timedelta(seconds=seconds)
    else:
        raise UsageError(
            f"{name} must be a duration like 12h, 7d or 2w (units s, m, h, d, w), "
            f"not {value!r}"
        )
    if duration <= timedelta(0):
        raise UsageError(f"{name} must be longer than 0, not {value!r}")
    if duration > MAX_DURATION:
        raise UsageError(f"{name} must be at most {MAX_DURATION.days:,}d, not {value!r}")
    return duration


@dataclass(frozen=True)
class Decay:
    """The multiplier of a document's relevance for its date (see the module docstring)."""

    duration: timedelta
    anchor: datetime

    def __call__(self, published: datetime | None) -> float:
        """``FLOOR + (1 - FLOOR) * 0.5 ** (age / duration)``; the floor when undated."""
        if published is None:
            return FRESHNESS_FLOOR
        age = max(0.0, (self.anchor - published).total_seconds())
        half_lives = age / self.duration.total_seconds()
        return FRESHNESS_FLOOR + (1 - FRESHNESS_FLOOR) * math.pow(0.5, half_lives)


def now() -> datetime:
    """The anchor ``now``: the current moment in UTC."""
    return datetime.now(UTC)
