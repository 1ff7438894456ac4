"""Calendar periods in a budget's IANA timezone, returned as UTC instants.

A period starts at local midnight (daily), local Monday midnight (weekly) or local midnight of
the 1st (monthly); ``total`` never ends. Boundaries are computed on local *dates* and only then
converted to UTC, so a DST change shortens or lengthens the period by an hour instead of shifting
it. Where local midnight does not exist (zones that switch DST at 00:00) the first instant of the
day is used.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TOTAL_START = datetime(2000, 1, 1, tzinfo=UTC)


class Period(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    TOTAL = "total"


def zone_of(name: str) -> ZoneInfo:
    """The zone for an IANA name, or ``ValueError`` for anything unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown IANA timezone '{name}'") from exc


def _first_day(period: Period, today: date) -> date:
    if period is Period.DAILY:
        return today
    if period is Period.WEEKLY:
        return today - timedelta(days=today.weekday())
    return today.replace(day=1)


def _next_first_day(period: Period, first: date) -> date:
    if period is Period.DAILY:
        return first + timedelta(days=1)
    if period is Period.WEEKLY:
        return first + timedelta(days=7)
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone``, as UTC (DST gaps at midnight move it forward)."""
    naive = datetime.combine(day, time(0))
    candidate = naive.replace(tzinfo=zone)
    as_utc = candidate.astimezone(UTC)
    if as_utc.astimezone(zone).replace(tzinfo=None) != naive:  # midnight fell into a DST gap
        as_utc = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
        as_utc = min(as_utc, candidate.astimezone(UTC))
        while as_utc.astimezone(zone).date() < day:
            as_utc += timedelta(minutes=15)
    return as_utc


def period_bounds(period: Period | str, timezone: str, now: datetime) -> tuple[datetime, datetime | None]:
    """``(start, end)`` in UTC of the period containing ``now``; ``end`` is None for ``total``."""
    kind = Period(period)
    if kind is Period.TOTAL:
        return TOTAL_START, None
    zone = zone_of(timezone)
    today = now.astimezone(zone).date()
    first = _first_day(kind, today)
    return local_midnight(first, zone), local_midnight(_next_first_day(kind, first), zone)
