"""Usage summaries: whole UTC days from the ``usage_daily`` rollup plus raw rows for partial days.

Both sources are folded into per-group ``Tally`` objects, so counts, tokens and Decimal costs are
exact sums of the usage rows in ``[start, end)``. Day/month grouping in a non-UTC timezone cannot
be read from UTC-day buckets; it aggregates raw rows over local period boundaries (exact, slower,
range capped at MAX_LOCAL_PERIODS periods).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, literal
from sqlalchemy.orm import Session, sessionmaker

from tollgate.db.repositories.usage_queries import DIMENSIONS, RAW, RAW_ONLY_DIMENSIONS, UsageQueries
from tollgate.errors import InvalidRequest
from tollgate.usage.filters import UsageFilter, split_range
from tollgate.usage.tally import Tally, none_if_blank

TIME_GROUPS = ("day", "month")
GROUPS = (*DIMENSIONS, *TIME_GROUPS)
MAX_LOCAL_PERIODS = 400

GroupKey = tuple[Any, ...]


def _bounds(f: UsageFilter) -> tuple[datetime, datetime]:
    """The filter's range; raises ``ValueError`` when it is open (the service always closes it)."""
    if f.start is None or f.end is None:
        raise ValueError("a summary needs a closed time range")
    return f.start, f.end


@dataclass(frozen=True)
class SummaryRequest:
    filter: UsageFilter  # start and end are set
    group_by: str | None = None
    tz: str = "UTC"


@dataclass
class Summary:
    group_by: str | None
    groups: dict[GroupKey, Tally]
    totals: Tally

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for key, tally in self.groups.items():
            out.append({**self._fields(key), **tally.metrics()})
        if self.group_by in TIME_GROUPS:
            out.sort(key=lambda r: str(r[self.group_by or ""]))
        else:
            out.sort(key=lambda r: (-r["cost_usd"], -r["requests"], str(r.get(self.group_by or "", ""))))
        return out

    def _fields(self, key: GroupKey) -> dict[str, Any]:
        if self.group_by is None:
            return {}
        if self.group_by == "key":
            return {"key_id": key[0], "key": key[0]}
        if self.group_by == "routing_rule":
            return {"routing_rule_id": key[0], "routing_rule": key[0]}
        if self.group_by in TIME_GROUPS:
            return {self.group_by: key[0]}
        return dict(zip(DIMENSIONS[self.group_by], key, strict=True))


def _label(day: date, group_by: str) -> str:
    return day.isoformat() if group_by == "day" else day.strftime("%Y-%m")


def _local_boundaries(start: datetime, end: datetime, group_by: str, zone: ZoneInfo) -> list[datetime]:
    """Start, every local day/month start strictly inside (start, end), as aware UTC instants."""
    boundaries = [start]
    local = start.astimezone(zone).date()
    while True:
        if group_by == "day":
            local = date.fromordinal(local.toordinal() + 1)
        else:
            local = date(local.year + (local.month == 12), local.month % 12 + 1, 1)
        instant = datetime.combine(local, time(), tzinfo=zone).astimezone(UTC)
        if instant >= end:
            return boundaries
        boundaries.append(instant)
        if len(boundaries) > MAX_LOCAL_PERIODS:
            raise InvalidRequest(
                f"query.from: grouping by {group_by} in a non-UTC timezone covers at most "
                f"{MAX_LOCAL_PERIODS} periods; narrow from/to",
                code="validation_error",
            )


def _period_expression(boundaries: list[datetime]) -> ColumnElement[int]:
    created = RAW.c.created_at
    whens = [(created < boundary, literal(i)) for i, boundary in enumerate(boundaries[1:])]
    last = literal(len(boundaries) - 1)
    return case(*whens, else_=last) if whens else last


class SummaryService:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    def summarize(self, request: SummaryRequest) -> Summary:
        """Group the filtered usage. Raises ``ValueError`` when the filter's range is open."""
        f = request.filter
        if f.start is None or f.end is None:
            raise ValueError("a summary needs a closed time range")
        groups: dict[GroupKey, Tally] = defaultdict(Tally)
        with self._sessions() as session:
            queries = UsageQueries(session)
            if request.group_by in TIME_GROUPS and request.tz != "UTC":
                self._local_time_groups(queries, request, groups)
            else:
                self._rollup_plus_raw(queries, request, groups)
        totals = Tally()
        for tally in groups.values():
            totals.merge(tally)
        return Summary(request.group_by, dict(groups), totals)

    def _rollup_plus_raw(self, queries: UsageQueries, request: SummaryRequest, groups: dict[GroupKey, Tally]) -> None:
        f, group_by = request.filter, request.group_by
        start, end = _bounds(f)
        dimension = group_by if group_by in DIMENSIONS else None
        by_time = group_by in TIME_GROUPS
        key_of = self._key_function(group_by)
        if dimension in RAW_ONLY_DIMENSIONS:  # not in the rollup: one raw aggregate over the range
            for row in queries.raw_groups(f, dimension):
                groups[key_of(row, None)].add_raw(row)
            return
        parts = split_range(start, end)
        if parts.first_day is not None and parts.end_day is not None:
            for row in queries.rollup_groups(f, parts.first_day, parts.end_day, dimension, by_day=by_time):
                groups[key_of(row, row.day if by_time else None)].add_rollup(row)
        for piece_start, piece_end in parts.partial:
            day = piece_start.astimezone(UTC).date()
            for row in queries.raw_groups(f.within(piece_start, piece_end), dimension):
                groups[key_of(row, day)].add_raw(row)

    def _local_time_groups(self, queries: UsageQueries, request: SummaryRequest, groups: dict[GroupKey, Tally]) -> None:
        f, group_by = request.filter, request.group_by or "day"
        start, end = _bounds(f)
        zone = ZoneInfo(request.tz)
        boundaries = _local_boundaries(start, end, group_by, zone)
        labels = [_label(b.astimezone(zone).date(), group_by) for b in boundaries]
        for row in queries.raw_groups(f, None, period=_period_expression(boundaries)):
            groups[(labels[int(row.period)],)].add_raw(row)

    @staticmethod
    def _key_function(group_by: str | None) -> Callable[[Any, date | None], GroupKey]:
        if group_by is None:
            return lambda row, day: ()
        if group_by in TIME_GROUPS:
            return lambda row, day: (_label(day, group_by) if day else None,)
        names = DIMENSIONS[group_by]
        return lambda row, day: tuple(none_if_blank(getattr(row, name)) for name in names)
