"""Usage rows and their daily rollup, written in the caller's transaction."""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from tollgate.clock import ensure_utc
from tollgate.db.dialects import dialect_insert
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
_RECORDS: Table = UsageRecord.__table__  # type: ignore[assignment]
_RECORD_COLUMNS = tuple(c.key for c in _RECORDS.columns)


@lru_cache(maxsize=256)
def _rollup_upsert(dialect: str, bucket: str) -> Any:
    """The rollup upsert for one latency bucket, built once per (dialect, bucket) and executed with
    parameters: building the ``excluded`` expressions per call cost ~1 ms of the execute hot path."""
    table = UsageDaily.__table__
    statement = dialect_insert(dialect, table)
    updates = {name: table.c[name] + statement.excluded[name] for name in (*_ROLLUP_SUMS, bucket)}
    updates["updated_at"] = statement.excluded.updated_at
    keys = [c.name for c in table.primary_key]
    return statement.on_conflict_do_update(index_elements=keys, set_=updates)


class UsageRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, record: UsageRecord) -> None:
        """Insert the record and fold it into ``usage_daily`` (UTC day) in the same transaction.

        Both are Core statements (no unit-of-work flush on the hot path); the rollup counts the
        request in its latency bucket and the upsert touches only that bucket.
        """
        if record.id is None:
            record.id = uuid.uuid4()
        row = {name: getattr(record, name) for name in _RECORD_COLUMNS}
        connection = self._session.connection()  # Core on the session's transaction: no ORM execute overhead
        connection.execute(insert(_RECORDS), {k: v for k, v in row.items() if v is not None})
        ok = record.status == "success"
        bucket = LATENCY_COLUMNS[bucket_of(record.latency_ms)]
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
            "input_tokens": record.input_tokens or 0,
            "cache_read_tokens": record.cache_read_tokens or 0,
            "cache_write_tokens": record.cache_write_tokens or 0,
            "output_tokens": record.output_tokens or 0,
            "reasoning_tokens": record.reasoning_tokens or 0,
            "cost_usd": record.cost_usd,
            "latency_ms_sum": record.latency_ms or 0,
            "updated_at": record.created_at,
            bucket: 1,
        }
        connection.execute(_rollup_upsert(connection.dialect.name, bucket), values)
