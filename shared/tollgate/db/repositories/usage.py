"""Usage rows and their daily rollup, written in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.orm import Session

from tollgate.clock import ensure_utc
from tollgate.db.compiled import compiled, insert_rows
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
_RECORDS_INSERT = insert(_RECORDS)


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
        self.add_many([record])

    def add_many(self, records: Sequence[UsageRecord]) -> None:
        """``add`` for several records in the session's transaction (``write_usage_rows``)."""
        write_usage_rows(self._session.connection(), [row_of(record) for record in records])


def row_of(record: UsageRecord) -> dict[str, Any]:
    """The column values of ``record`` that are set (unset ones take their column default); gives
    the record an id when it has none."""
    if record.id is None:
        record.id = uuid.uuid4()
    return {name: value for name in _RECORD_COLUMNS if (value := getattr(record, name)) is not None}


def write_usage_rows(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert usage rows (column name → value, ``id`` set; a missing column takes its default) and
    fold them into ``usage_daily`` in ``connection``'s transaction (the caller commits).

    One multi-row insert per shape of row (which columns are set; the execute path sets all of them,
    so one) and one rollup upsert per rollup key, with the rows' sums and latency buckets folded in
    Python. The upserts go in sorted key order (key_id, the last key column, included), so two
    groups of any processes lock ``usage_daily`` rows in the same order and cannot deadlock.
    Core statements built once: no ORM instances, no unit of work."""
    if not rows:
        return
    sql_dialect = connection.dialect
    dialect = sql_dialect.name
    insert_rows(connection, _RECORDS_INSERT, rows)
    if len(rows) == 1:
        row = rows[0]
        values = _rollup_values(row)
        compiled(_rollup_upsert(dialect, _bucket(row)), sql_dialect, tuple(values)).run(connection, values)
        return
    folded: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        values = _rollup_values(row)
        key = tuple(values[k] for k in _ROLLUP_KEY)
        into = folded.get(key)
        if into is None:
            folded[key] = {**_NO_LATENCY, **values}
            continue
        for name in _ROLLUP_SUMS:
            into[name] += values[name]
        into[_bucket(row)] += 1
        into["updated_at"] = max(into["updated_at"], values["updated_at"])
    ordered = [folded[key] for key in sorted(folded, key=_sortable)]
    compiled(_rollup_upsert_all(dialect), sql_dialect, tuple(ordered[0])).run_many(connection, ordered)


_NO_LATENCY = dict.fromkeys(LATENCY_COLUMNS, 0)


def _sortable(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(str(part) for part in key)


def _bucket(row: Mapping[str, Any]) -> str:
    return LATENCY_COLUMNS[bucket_of(row.get("latency_ms") or 0)]


def _rollup_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """The ``usage_daily`` increments of one usage row (its UTC day, counted in its latency bucket)."""
    ok = row["status"] == "success"
    created_at = row["created_at"]
    key_id = row.get("key_id")
    return {
        "workspace_id": row["workspace_id"],
        "day": ensure_utc(created_at).date(),
        "provider": row["provider"],
        "model": row["model"],
        "workflow": row.get("workflow") or "",
        "agent": row.get("agent") or "",
        "key_id": str(key_id) if key_id else "",
        "requests": 1,
        "successes": 1 if ok else 0,
        "failures": 0 if ok else 1,
        "input_tokens": row.get("input_tokens") or 0,
        "cache_read_tokens": row.get("cache_read_tokens") or 0,
        "cache_write_tokens": row.get("cache_write_tokens") or 0,
        "output_tokens": row.get("output_tokens") or 0,
        "reasoning_tokens": row.get("reasoning_tokens") or 0,
        "cost_usd": row["cost_usd"],
        "latency_ms_sum": row.get("latency_ms") or 0,
        "updated_at": created_at,
        _bucket(row): 1,
    }
