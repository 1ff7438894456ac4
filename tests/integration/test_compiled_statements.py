"""``db.compiled``: a statement compiled once and run on the DBAPI cursor writes and returns exactly
what the same SQLAlchemy statement does through ``Connection.execute``, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, select, text
from sqlalchemy.exc import IntegrityError

from tollgate.db.compiled import compiled, ids_in
from tollgate.db.engine import one_statement
from tollgate.db.models import UsageRecord
from tollgate.wiring import Services

TABLE: Any = UsageRecord.__table__
INSERT = insert(TABLE)


def _row(workspace_id: uuid.UUID, n: int, **extra: Any) -> dict[str, Any]:
    """A usage row with every column set: UUIDs, money, JSON, booleans, NULLs, a UTC time."""
    return {
        "id": uuid.uuid4(),
        "workspace_id": workspace_id,
        "request_id": f"req_{uuid.uuid4().hex}",
        "key_id": uuid.uuid4() if n % 2 else None,
        "credential_id": None,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "requested_model": "openai/gpt-4o-mini",
        "workflow": "w%1" if n % 2 else None,  # a literal % must reach the database as is
        "agent": None,
        "tags": ["a", f"t{n}"],
        "status": "success" if n % 3 else "error",
        "error_type": None,
        "input_tokens": 10 + n,
        "cache_read_tokens": n,
        "cache_write_tokens": 0,
        "output_tokens": 2**31 - 1,
        "reasoning_tokens": 0,
        "cost_usd": Decimal("0.000000123456") * (n + 1),
        "price_id": None,
        "estimated": bool(n % 2),
        "latency_ms": n * 7,
        "upstream_ms": None if n % 2 else 5,
        "stream": not n % 2,
        "fallback_from": None,
        "routing_rule_id": uuid.uuid4(),
        "created_at": datetime(2026, 3, 29, 0, 30, tzinfo=UTC) + timedelta(microseconds=n),
        **extra,
    }


def _stored(engine: Engine, workspace_id: uuid.UUID) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(select(TABLE).where(TABLE.c.workspace_id == workspace_id)).mappings().all()
    return sorted(({k: v for k, v in row.items() if k not in {"id", "request_id"}} for row in rows), key=repr)


def test_rows_written_are_the_same_as_through_sqlalchemy(services: Services) -> None:
    engine = services.engine
    ours, theirs = uuid.uuid4(), uuid.uuid4()
    rows = [_row(ours, n) for n in range(5)]
    same = [{**row, "id": uuid.uuid4(), "request_id": f"req_{n}", "workspace_id": theirs} for n, row in enumerate(rows)]
    with engine.begin() as connection:
        compiled(INSERT, engine.dialect, tuple(rows[0])).run_many(connection, rows[:4])
        compiled(INSERT, engine.dialect, tuple(rows[0])).run(connection, rows[4])
        connection.execute(insert(TABLE), same)
    mine = _stored(engine, ours)
    assert len(mine) == 5
    assert mine == [{**row, "workspace_id": ours} for row in _stored(engine, theirs)]
    assert {row["created_at"].tzinfo for row in mine} == {UTC}


def test_returning_rows_are_processed_like_sqlalchemy(services: Services) -> None:
    engine = services.engine
    workspace = uuid.uuid4()
    rows = [_row(workspace, n) for n in range(3)]
    with engine.begin() as connection:
        connection.execute(insert(TABLE), rows)
    columns = (TABLE.c.id, TABLE.c.cost_usd, TABLE.c.created_at, TABLE.c.tags, TABLE.c.estimated)
    statement = delete(TABLE).where(ids_in(TABLE.c.id, engine.dialect.name)).returning(*columns)
    with engine.begin() as connection:
        expected = connection.execute(select(*columns).where(TABLE.c.workspace_id == workspace)).all()
        wanted = [rows[0]["id"], rows[2]["id"], uuid.uuid4()]
        taken = compiled(statement, engine.dialect).run(connection, {"ids": wanted})
        again = compiled(statement, engine.dialect).run(connection, {"ids": [rows[0]["id"]]})
        none = compiled(statement, engine.dialect).run(connection, {"ids": []})
    assert sorted(taken, key=repr) == sorted((tuple(r) for r in expected if r[0] != rows[1]["id"]), key=repr)
    assert {type(value) for row in taken for value in row} == {uuid.UUID, Decimal, datetime, list, bool}
    assert again == [] and none == []
    assert len(_stored(engine, workspace)) == 1


def test_columns_left_out_take_their_scalar_defaults(services: Services) -> None:
    engine = services.engine
    ours, theirs = uuid.uuid4(), uuid.uuid4()
    omitted = {"input_tokens", "estimated", "stream", "latency_ms", "key_id"}
    row = {k: v for k, v in _row(ours, 1).items() if k not in omitted}
    with engine.begin() as connection:
        compiled(INSERT, engine.dialect, tuple(row)).run(connection, row)
        connection.execute(insert(TABLE), {**row, "id": uuid.uuid4(), "request_id": "req_x", "workspace_id": theirs})
    (mine,) = _stored(engine, ours)
    assert mine == {**_stored(engine, theirs)[0], "workspace_id": ours}
    assert (mine["input_tokens"], mine["estimated"], mine["stream"], mine["key_id"]) == (0, False, False, None)


def test_a_computed_default_must_be_passed() -> None:
    from sqlalchemy.dialects import sqlite

    with pytest.raises(ValueError, match="id"):
        compiled(INSERT, sqlite.dialect(), ("workspace_id", "request_id"))


def test_driver_errors_are_sqlalchemy_errors_and_roll_back(services: Services) -> None:
    engine = services.engine
    workspace = uuid.uuid4()
    row = _row(workspace, 1)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        statement = compiled(INSERT, engine.dialect, tuple(row))
        statement.run(connection, row)
        statement.run(connection, {**row, "id": uuid.uuid4()})  # the same request_id: unique violation
    assert _stored(engine, workspace) == []
    with engine.begin() as connection:  # the pooled connection is usable afterwards
        compiled(INSERT, engine.dialect, tuple(row)).run(connection, row)
    assert len(_stored(engine, workspace)) == 1


def test_postgresql_prepares_the_statement_server_side(services: Services) -> None:
    engine = services.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("server-side prepared statements are PostgreSQL's")
    runner = compiled(delete(TABLE).where(ids_in(TABLE.c.id, "postgresql")).returning(TABLE.c.id), engine.dialect)
    with engine.begin() as connection:
        for _ in range(7):  # psycopg prepares after prepare_threshold (5) runs on a connection
            runner.run(connection, {"ids": [uuid.uuid4()]})
        prepared = connection.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
    assert runner.sql in prepared


def test_one_statement_commits_alone_and_leaves_pooled_connections_transactional(services: Services) -> None:
    engine = services.engine
    workspace = uuid.uuid4()
    row = _row(workspace, 1)
    statement = compiled(INSERT, engine.dialect, tuple(row))
    for n in range(3):  # autocommit on PostgreSQL, then back to the pool
        with one_statement(engine) as connection:
            statement.run(connection, {**row, "id": uuid.uuid4(), "request_id": f"r{n}"})
    assert len(_stored(engine, workspace)) == 3
    for n in range(3):  # the pooled connection is transactional again
        with pytest.raises(RuntimeError), engine.begin() as connection:
            statement.run(connection, {**row, "id": uuid.uuid4(), "request_id": f"x{n}"})
            raise RuntimeError("abort")
    assert len(_stored(engine, workspace)) == 3
