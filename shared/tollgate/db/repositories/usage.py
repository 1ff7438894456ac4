"""Usage rows and their daily rollup, written in the caller's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tollgate.clock import ensure_utc
from tollgate.db.models import UsageDaily, UsageRecord
from tollgate.usage.latency import COLUMNS as LATENCY_COLUMNS
from tollgate.usage.latency import bucket_of

_ROLLUP_SUMS = (
    "requests",
    "successes",
    "failures",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cost_usd",
    "latency_ms_sum",
)


def _dialect_insert(session: Session, table: Any) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_update`` on both PostgreSQL and SQLite."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect: {name}")


class UsageRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, record: UsageRecord) -> None:
        """Insert the record and fold it into ``usage_daily`` (UTC day) in the same transaction.

        The rollup counts the request in its latency bucket; the upsert touches only that bucket.
        """
        if record.id is None:
            record.id = uuid.uuid4()
        self._session.add(record)
        self._session.flush()
        ok = record.status == "success"
        values = {
            "workspace_id": record.workspace_id,
            "day": ensure_utc(record.created_at).date(),
            "provider": record.provider,
            "model": record.model,
            "workflow": record.workflow or "",
            "agent": record.agent or "",
            "key_id": str(record.key_id) if record.key_id else "",
            "requests": 1,
            "successes": 1 if ok else 0,
            "failures": 0 if ok else 1,
            "input_tokens": record.input_tokens,
            "cache_read_tokens": record.cache_read_tokens,
            "cache_write_tokens": record.cache_write_tokens,
            "output_tokens": record.output_tokens,
            "reasoning_tokens": record.reasoning_tokens,
            "cost_usd": record.cost_usd,
            "latency_ms_sum": record.latency_ms,
            "updated_at": record.created_at,
        }
        bucket = LATENCY_COLUMNS[bucket_of(record.latency_ms)]
        values[bucket] = 1
        table = UsageDaily.__table__
        statement = _dialect_insert(self._session, table).values(**values)
        updates = {name: table.c[name] + statement.excluded[name] for name in (*_ROLLUP_SUMS, bucket)}
        updates["updated_at"] = statement.excluded.updated_at
        keys = [c.name for c in UsageDaily.__table__.primary_key]
        self._session.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates))
