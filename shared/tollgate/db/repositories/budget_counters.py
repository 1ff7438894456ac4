"""Budget counters and reservation rows: the atomic statements budgets are enforced with.

Every change to a counter is one statement on its (budget, period_start) row, so concurrent
requests serialize on that row (PostgreSQL row lock; SQLite ``BEGIN IMMEDIATE``) and a check
and its increment can never be split by another writer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table, Uuid, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from tollgate.db.compiled import compiled, ids_in, insert_rows
from tollgate.db.dialects import dialect_insert
from tollgate.db.models import BudgetCounter, Reservation
from tollgate.db.types import Money, UtcDateTime
from tollgate.money import ZERO


@dataclass(frozen=True)
class CounterState:
    spent_usd: Decimal
    reserved_usd: Decimal


@dataclass(frozen=True)
class Held:
    """One expired reservation row: what the sweeper needs to release it, or to charge it when the
    upstream call had started (``upstream_started_at`` set) and the usage row was never written."""

    id: uuid.UUID
    budget_id: uuid.UUID
    period_start: datetime
    amount_usd: Decimal
    request_id: str = ""
    workspace_id: uuid.UUID | None = None
    upstream_started_at: datetime | None = None
    created_at: datetime | None = None
    key_id: uuid.UUID | None = None
    provider: str | None = None
    model: str | None = None
    workflow: str | None = None
    agent: str | None = None

    @property
    def started(self) -> bool:
        return self.upstream_started_at is not None


def _counter_insert(dialect: str, *, spent: str, reserved: str) -> Any:
    """An INSERT of one period's counter whose spent and reserved amounts are the named bind
    parameters (with ``budget_id``, ``workspace_id``, ``period_start`` and ``now``): the start of
    every counter upsert below."""
    table = BudgetCounter.__table__
    return dialect_insert(dialect, table).values(
        budget_id=bindparam("budget_id", type_=Uuid()),
        workspace_id=bindparam("workspace_id", type_=Uuid()),
        period_start=bindparam("period_start", type_=UtcDateTime()),
        spent_usd=bindparam(spent, type_=Money()),
        reserved_usd=bindparam(reserved, type_=Money()),
        updated_at=bindparam("now", type_=UtcDateTime()),
    )


@lru_cache(maxsize=8)
def _reserve_statement(dialect: str, conditional: bool) -> Any:
    """The reserve upsert, built once per dialect (building ``excluded`` is costly; executing a
    cached statement with new parameters is not)."""
    table = BudgetCounter.__table__
    insert = _counter_insert(dialect, spent="zero", reserved="amount")
    condition = None
    if conditional:
        total = table.c.spent_usd + table.c.reserved_usd + insert.excluded.reserved_usd
        condition = total <= bindparam("ceiling", type_=Money())
    return insert.on_conflict_do_update(
        index_elements=[table.c.budget_id, table.c.period_start],
        set_={
            "reserved_usd": table.c.reserved_usd + insert.excluded.reserved_usd,
            "updated_at": insert.excluded.updated_at,
        },
        where=condition,
    ).returning(table.c.spent_usd, table.c.reserved_usd)


@lru_cache(maxsize=4)
def _lock_statement(dialect: str) -> Any:
    """Create the period's counter if missing, else lock it (a no-op update), returning its state."""
    table = BudgetCounter.__table__
    insert = _counter_insert(dialect, spent="zero", reserved="zero")
    return insert.on_conflict_do_update(
        index_elements=[table.c.budget_id, table.c.period_start],
        set_={"updated_at": insert.excluded.updated_at},
    ).returning(table.c.spent_usd, table.c.reserved_usd)


@lru_cache(maxsize=1)
def _add_reserved_statement() -> Any:
    table: Table = BudgetCounter.__table__  # type: ignore[assignment]
    return (
        update(table)
        .where(
            table.c.budget_id == bindparam("b_budget_id", type_=Uuid()),
            table.c.period_start == bindparam("b_period_start", type_=UtcDateTime()),
        )
        .values(
            reserved_usd=table.c.reserved_usd + bindparam("added", type_=Money()),
            updated_at=bindparam("now", type_=UtcDateTime()),
        )
    )


@lru_cache(maxsize=4)
def _apply_statement(dialect: str) -> Any:
    table = BudgetCounter.__table__
    insert = _counter_insert(dialect, spent="spent", reserved="zero")
    return insert.on_conflict_do_update(
        index_elements=[table.c.budget_id, table.c.period_start],
        set_={
            "spent_usd": table.c.spent_usd + insert.excluded.spent_usd,
            "reserved_usd": table.c.reserved_usd - bindparam("unreserve", type_=Money()),
            "updated_at": insert.excluded.updated_at,
        },
    ).returning(table.c.spent_usd, table.c.reserved_usd)


_RESERVATIONS_INSERT = insert(Reservation)


@lru_cache(maxsize=4)
def _mark_started_statement(dialect: str) -> Any:
    table: Table = Reservation.__table__  # type: ignore[assignment]
    return (
        update(table)
        .where(ids_in(table.c.id, dialect))
        .values(upstream_started_at=bindparam("now", type_=UtcDateTime()))
    )


_HELD_COLUMNS = (
    Reservation.id,
    Reservation.budget_id,
    Reservation.period_start,
    Reservation.amount_usd,
    Reservation.request_id,
    Reservation.workspace_id,
    Reservation.upstream_started_at,
    Reservation.created_at,
    Reservation.key_id,
    Reservation.provider,
    Reservation.model,
    Reservation.workflow,
    Reservation.agent,
)


@lru_cache(maxsize=4)
def _take_statement(dialect: str) -> Any:
    table: Table = Reservation.__table__  # type: ignore[assignment]
    return delete(table).where(ids_in(table.c.id, dialect)).returning(table.c.id)


class CounterRepository:
    """On an ORM ``Session`` (management paths) or a Core ``Connection`` (the execute hot path: no
    session machinery per transaction); every statement runs in that transaction."""

    def __init__(self, db: Session | Connection) -> None:
        self._db = db
        self._sql_dialect = (db if isinstance(db, Connection) else db.get_bind()).dialect
        self._dialect = self._sql_dialect.name

    def _connection(self) -> Connection:
        return self._db if isinstance(self._db, Connection) else self._db.connection()

    def _run(self, statement: Any, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run a hot-path statement compiled once for this dialect (``db.compiled``)."""
        return compiled(statement, self._sql_dialect).run(self._connection(), params)

    def reserve(
        self,
        *,
        workspace_id: uuid.UUID,
        budget_id: uuid.UUID,
        period_start: datetime,
        amount: Decimal,
        ceiling: Decimal | None,
        now: datetime,
    ) -> CounterState | None:
        """Add ``amount`` to ``reserved`` if ``spent + reserved + amount <= ceiling`` (always when None).

        One upsert: creates the period's counter on first use (a new period starts at zero with no
        reset job) and otherwise increments it only when the condition holds. None: it did not fit.
        """
        if ceiling is not None and amount > ceiling:
            return None
        params: dict[str, Any] = {
            "budget_id": budget_id,
            "workspace_id": workspace_id,
            "period_start": period_start,
            "zero": ZERO,
            "amount": amount,
            "now": now,
        }
        if ceiling is not None:
            params["ceiling"] = ceiling
        rows = self._run(_reserve_statement(self._dialect, ceiling is not None), params)
        return CounterState(rows[0][0], rows[0][1]) if rows else None

    def lock(
        self, *, workspace_id: uuid.UUID, budget_id: uuid.UUID, period_start: datetime, now: datetime
    ) -> CounterState:
        """Lock the period's counter row until the transaction ends (creating it at zero on first
        use) and return its state: grouped admissions check many reservations against it at once."""
        params = {
            "budget_id": budget_id,
            "workspace_id": workspace_id,
            "period_start": period_start,
            "zero": ZERO,
            "now": now,
        }
        ((spent, reserved),) = self._run(_lock_statement(self._dialect), params)
        return CounterState(spent, reserved)

    def add_reserved(self, added: Sequence[tuple[uuid.UUID, datetime, Decimal]], now: datetime) -> None:
        """Add to ``reserved`` of locked counters: ``(budget_id, period_start, amount)`` each (one executemany)."""
        params = [{"b_budget_id": b, "b_period_start": p, "added": amount, "now": now} for b, p, amount in added]
        if params:
            compiled(_add_reserved_statement(), self._sql_dialect).run_many(self._connection(), params)

    def drop_reservations(self, ids: Sequence[uuid.UUID]) -> None:
        """Delete reservation rows written earlier in this transaction (refused in a grouped admission)."""
        if ids:
            self._run(_take_statement(self._dialect), {"ids": ids})

    def add_reservations(self, rows: Sequence[dict[str, Any]]) -> None:
        insert_rows(self._connection(), _RESERVATIONS_INSERT, rows)

    def apply(
        self,
        *,
        workspace_id: uuid.UUID,
        budget_id: uuid.UUID,
        period_start: datetime,
        spent: Decimal,
        unreserve: Decimal,
        now: datetime,
    ) -> CounterState:
        """Add ``spent`` and take ``unreserve`` off the counter (settle and release)."""
        params = {
            "budget_id": budget_id,
            "workspace_id": workspace_id,
            "period_start": period_start,
            "spent": spent,
            "zero": ZERO,
            "unreserve": unreserve,
            "now": now,
        }
        ((spent_usd, reserved_usd),) = self._run(_apply_statement(self._dialect), params)
        return CounterState(spent_usd, reserved_usd)

    def take_reservations(self, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Delete these reservation rows; returns the ids this call deleted (not a sweeper before it)."""
        wanted = list(ids)
        if not wanted:
            return set()
        return {row[0] for row in self._run(_take_statement(self._dialect), {"ids": wanted})}

    def mark_started(self, ids: Iterable[uuid.UUID], now: datetime) -> None:
        """Stamp ``upstream_started_at`` on these reservations (one UPDATE, just before the provider call)."""
        wanted = list(ids)
        if wanted:
            self._run(_mark_started_statement(self._dialect), {"ids": wanted, "now": now})

    def take_expired(self, now: datetime, limit: int) -> list[Held]:
        """Delete every reservation row of up to ``limit`` requests whose reservations expired before
        ``now`` and return them (all rows of a request together, so its charge is written once)."""
        expired = (
            select(Reservation.request_id).where(Reservation.expires_at < now).distinct().limit(limit)
        ).scalar_subquery()
        statement = (
            delete(Reservation)
            .where(Reservation.request_id.in_(expired), Reservation.expires_at < now)
            .returning(*_HELD_COLUMNS)
        )
        return [Held(*row) for row in self._db.execute(statement).all()]

    def state(self, budget_id: uuid.UUID, period_start: datetime) -> CounterState:
        row = self._db.execute(
            select(BudgetCounter.spent_usd, BudgetCounter.reserved_usd).where(
                BudgetCounter.budget_id == budget_id, BudgetCounter.period_start == period_start
            )
        ).first()
        return CounterState(ZERO, ZERO) if row is None else CounterState(row[0], row[1])

    def reset_spent(self, budget_id: uuid.UUID, period_start: datetime, now: datetime) -> None:
        self._db.execute(
            update(BudgetCounter)
            .where(BudgetCounter.budget_id == budget_id, BudgetCounter.period_start == period_start)
            .values(spent_usd=ZERO, updated_at=now)
        )
