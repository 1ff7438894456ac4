"""Usage rows and their daily rollup, written in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
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


@lru_cache(maxsize=4)
def _rollup_upsert_all(dialect: str) -> Any:
    """The rollup upsert adding every sum and every latency bucket: a group of rows folded per
    rollup key in Python is one statement per key, whatever buckets its rows fell into."""
    table = UsageDaily.__table__
    statement = dialect_insert(dialect, table)
    updates = {name: table.c[name] + statement.excluded[name] for name in (*_ROLLUP_SUMS, *LATENCY_COLUMNS)}
    updates["updated_at"] = statement.excluded.updated_at
    keys = [c.name for c in table.primary_key]
    return statement.on_conflict_do_update(index_elements=keys, set_=updates)


_ROLLUP_KEY = ("workspace_id", "day", "provider", "model", "workflow", "agent", "key_id")


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
        values = _rollup_values(record)
        connection.execute(_rollup_upsert(connection.dialect.name, _bucket(record)), values)

    def add_many(self, records: Sequence[UsageRecord]) -> None:
        """``add`` for several records (a group commit): one multi-row insert per shape of record
        (which columns are set) and one rollup upsert per rollup key, with the rows' sums and
        latency buckets folded in Python (keys in sorted order, so concurrent groups lock
        ``usage_daily`` rows in one order)."""
        if len(records) == 1:
            self.add(records[0])
            return
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        folded: dict[tuple[Any, ...], dict[str, Any]] = {}
        for record in records:
            if record.id is None:
                record.id = uuid.uuid4()
            row = {name: value for name in _RECORD_COLUMNS if (value := getattr(record, name)) is not None}
            shapes.setdefault(tuple(row), []).append(row)
            values = _rollup_values(record)
            key = tuple(values[k] for k in _ROLLUP_KEY)
            into = folded.get(key)
            if into is None:
                folded[key] = {**dict.fromkeys(LATENCY_COLUMNS, 0), **values}
                continue
            for name in _ROLLUP_SUMS:
                into[name] += values[name]
            into[_bucket(record)] += 1
            into["updated_at"] = max(into["updated_at"], values["updated_at"])
        connection = self._session.connection()
        for rows in shapes.values():
            connection.execute(insert(_RECORDS), rows)
        ordered = [folded[key] for key in sorted(folded, key=_sortable)]
        connection.execute(_rollup_upsert_all(connection.dialect.name), ordered)


def _sortable(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(str(part) for part in key)


def _bucket(record: UsageRecord) -> str:
    return LATENCY_COLUMNS[bucket_of(record.latency_ms)]


def _rollup_values(record: UsageRecord) -> dict[str, Any]:
    """The ``usage_daily`` increments of one record (its UTC day, counted in its latency bucket)."""
    ok = record.status == "success"
    return {
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
        _bucket(record): 1,
    }
