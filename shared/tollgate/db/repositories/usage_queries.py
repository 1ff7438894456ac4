"""Read side of usage: keyset pages, streamed rows, raw and rollup aggregates, recent failures.

Aggregates return plain rows; merging and percentiles happen in ``tollgate.usage``. Every query
filters by workspace first (the leading column of every usage index).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from tollgate.db.models import UsageDaily, UsageRecord
from tollgate.usage.filters import UsageFilter
from tollgate.usage.latency import BUCKETS, LOWER_BOUNDS
from tollgate.usage.latency import COLUMNS as LATENCY_COLUMNS

RAW = UsageRecord.__table__
DAILY = UsageDaily.__table__
TOKEN_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")
EXPORT_COLUMNS = (
    "id",
    "request_id",
    "key_id",
    "provider",
    "model",
    "requested_model",
    "status",
    "error_type",
    "workflow",
    "agent",
    "tags",
    *TOKEN_COLUMNS,
    "cost_usd",
    "price_id",
    "estimated",
    "stream",
    "fallback_from",
    "routing_rule_id",
    "latency_ms",
    "created_at",
)
# Group-by dimension → columns in usage_records / usage_daily ('' in the rollup means none).
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "provider": ("provider",),
    "model": ("provider", "model"),
    "workflow": ("workflow",),
    "agent": ("agent",),
    "key": ("key_id",),
    "routing_rule": ("routing_rule_id",),
}
# Dimensions the usage_daily rollup does not carry: summaries read them from raw rows only.
RAW_ONLY_DIMENSIONS = frozenset({"routing_rule"})

Cursor = tuple[datetime, uuid.UUID]


def _raw_conditions(f: UsageFilter) -> list[ColumnElement[bool]]:
    c = RAW.c
    conditions: list[ColumnElement[bool]] = [c.workspace_id == f.workspace_id]
    if f.start is not None:
        conditions.append(c.created_at >= f.start)
    if f.end is not None:
        conditions.append(c.created_at < f.end)
    for name in ("provider", "model", "workflow", "agent", "key_id", "status"):
        value = getattr(f, name)
        if value is not None:
            conditions.append(c[name] == value)
    return conditions


def _before(cursor: Cursor | None) -> list[ColumnElement[bool]]:
    """Newest first: the next page holds rows strictly older than the cursor (created_at, id)."""
    if cursor is None:
        return []
    at, row_id = cursor
    c = RAW.c
    return [or_(c.created_at < at, and_(c.created_at == at, c.id < row_id))]


def _newest_first(query: Select[Any]) -> Select[Any]:
    return query.order_by(RAW.c.created_at.desc(), RAW.c.id.desc())


def latency_bucket_expression() -> ColumnElement[int]:
    """SQL for tollgate.usage.latency.bucket_of(latency_ms), portable across both engines."""
    latency = RAW.c.latency_ms
    whens = [(latency < LOWER_BOUNDS[k + 1], literal(k)) for k in range(BUCKETS - 1)]
    return case(*whens, else_=literal(BUCKETS - 1))


def _raw_sums() -> list[Any]:
    c = RAW.c
    ok = case((c.status == "success", 1), else_=0)
    return [
        func.count().label("requests"),
        func.coalesce(func.sum(ok), 0).label("successes"),
        *(func.coalesce(func.sum(c[name]), 0).label(name) for name in TOKEN_COLUMNS),
        func.sum(c.cost_usd).label("cost_usd"),
        func.coalesce(func.sum(c.latency_ms), 0).label("latency_ms_sum"),
    ]


class UsageQueries:
    def __init__(self, session: Session) -> None:
        self._session = session

    def page(self, f: UsageFilter, limit: int, cursor: Cursor | None) -> Sequence[UsageRecord]:
        query = select(UsageRecord).where(*_raw_conditions(f), *_before(cursor))
        return self._session.scalars(_newest_first(query).limit(limit)).all()

    def count(self, f: UsageFilter) -> int:
        return int(self._session.scalar(select(func.count()).select_from(RAW).where(*_raw_conditions(f))) or 0)

    def raw_groups(
        self, f: UsageFilter, dimension: str | None, period: ColumnElement[int] | None = None
    ) -> Sequence[Any]:
        """Sums per (dimension columns, [period index], latency bucket) over raw rows."""
        columns = [RAW.c[name] for name in DIMENSIONS[dimension]] if dimension else []
        if period is not None:
            columns.append(period.label("period"))
        bucket = latency_bucket_expression().label("bucket")
        keys = [*columns, bucket]
        query = select(*keys, *_raw_sums()).where(*_raw_conditions(f)).group_by(*keys)
        return self._session.execute(query).all()

    def rollup_groups(
        self, f: UsageFilter, first_day: date, end_day: date, dimension: str | None, by_day: bool
    ) -> Sequence[Any]:
        """Sums per (dimension columns, [day]) from usage_daily over whole UTC days."""
        c = DAILY.c
        conditions: list[ColumnElement[bool]] = [
            c.workspace_id == f.workspace_id,
            c.day >= first_day,
            c.day < end_day,
        ]
        for name in ("provider", "model", "workflow", "agent"):
            value = getattr(f, name)
            if value is not None:
                conditions.append(c[name] == value)
        if f.key_id is not None:
            conditions.append(c.key_id == str(f.key_id))
        keys = [c[name] for name in DIMENSIONS[dimension]] if dimension else []
        if by_day:
            keys.append(c.day)
        sums = [
            func.sum(c[name]).label(name)
            for name in ("requests", "successes", *TOKEN_COLUMNS, "cost_usd", "latency_ms_sum", *LATENCY_COLUMNS)
        ]
        query = select(*keys, *sums).where(*conditions)
        if keys:
            query = query.group_by(*keys)
        return self._session.execute(query).all()

    def recent_failures(self, f: UsageFilter, dimension: str, per_group: int) -> Sequence[Any]:
        """The newest ``per_group`` non-success rows of each group (window function, both engines)."""
        c = RAW.c
        group = c[dimension]
        conditions = [*_raw_conditions(f), c.status != "success"]
        rank = func.row_number().over(partition_by=group, order_by=(c.created_at.desc(), c.id.desc()))
        fields = (c.request_id, c.status, c.error_type, c.provider, c.model, c.created_at)
        inner = select(group.label("grp"), *fields, rank.label("rank")).where(*conditions).subquery()
        query = select(inner).where(inner.c.rank <= per_group).order_by(inner.c.grp, inner.c.rank)
        return self._session.execute(query).all()

    def error_type_counts(self, f: UsageFilter, dimension: str) -> Sequence[Any]:
        c = RAW.c
        query = (
            select(c[dimension].label("grp"), c.error_type, func.count().label("n"))
            .where(*_raw_conditions(f), c.status != "success")
            .group_by(c[dimension], c.error_type)
        )
        return self._session.execute(query).all()


def stream_rows(connection: Connection, f: UsageFilter, cursor: Cursor | None, batch: int = 2000) -> Iterator[Any]:
    """Rows for export through a server-side cursor, ``batch`` at a time, newest first."""
    query = _newest_first(
        select(*(RAW.c[name] for name in EXPORT_COLUMNS)).where(*_raw_conditions(f), *_before(cursor))
    )
    result = connection.execution_options(stream_results=True, yield_per=batch).execute(query)
    yield from result
