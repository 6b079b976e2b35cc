"""Date bounds for filters: ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ISO 8601, in UTC.

A partial date covers its whole period: ``until="2026-09"`` includes every moment of September,
``since="2026-09"`` starts at its first second.

>>> parse_bound("2026-02", "until", end=True).isoformat()
'2026-02-28T23:59:59.999999+00:00'
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

from .errors import UsageError

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")
_TICK = timedelta(microseconds=1)


def parse_bound(value: str | datetime | None, name: str, *, end: bool) -> datetime | None:
    """An aware UTC datetime for a ``since`` (``end=False``) or ``until`` (``end=True``) bound."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not isinstance(value, str):
        raise UsageError(f"{name} must be a date string, not {value!r}")
    text = value.strip()
    match = _PARTIAL.match(text)
    try:
        if match:
            year = int(match.group(1))
            month = int(match.group(2) or 0)
            day = int(match.group(3) or 0)
            if year < 1:
                raise ValueError("year out of range")
            if not match.group(2):
                start = datetime(year, 1, 1, tzinfo=UTC)
                return _end(start.replace(year=year + 1) if year < 9999 else None) if end else start
            if not match.group(3):
                start = datetime(year, month, 1, tzinfo=UTC)
                days = calendar.monthrange(year, month)[1]
                return start + timedelta(days=days) - _TICK if end else start
            start = datetime(year, month, day, tzinfo=UTC)
            return start + timedelta(days=1) - _TICK if end else start
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
    except (ValueError, OverflowError):
        raise UsageError(
            f"{name} must be a date like 2026, 2026-09, 2026-09-30 or 2026-09-30T12:00:00Z, "
            f"not {value!r}"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _end(next_start: datetime | None) -> datetime:
    if next_start is None:
        return datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    return next_start - _TICK
