"""``OutcomeRecorder.mark_started`` on SQLite and PostgreSQL: calls marked at the same time are all
durably marked (one grouped transaction per write) before their awaits return, and a call whose
mark wait is cancelled — it will never go out — gives its reservation back instead of leaving a
started reservation for the sweeper to charge."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.integration.budgets.test_guard import counter, ctx, spec
from tests.support import Tenant
from tollgate.budgets.guard import Admission
from tollgate.db.models import Reservation
from tollgate.execution.outcomes import OutcomeRecorder
from tollgate.wiring import Services


def _recorder(services: Services) -> OutcomeRecorder:
    return OutcomeRecorder(
        sessions=services.sessions,
        clock=services.clock,
        budgets=services.budget_guard,
        key_limits=services.key_limiter,
        blocking=services.blocking,
    )


def _held(services: Services) -> list[Reservation]:
    with services.sessions() as session:
        return list(session.scalars(select(Reservation)))


def test_concurrent_marks_are_all_durable_when_their_awaits_return(services: Services, tenant: Tenant) -> None:
    services.budget_service.create(tenant.workspace_id, spec(limit_usd=Decimal("10.00")))
    admissions = [services.budget_guard.admit(ctx(tenant), Decimal("0.10")) for _ in range(20)]
    recorder = _recorder(services)

    async def mark_all() -> None:
        await asyncio.gather(*(recorder.mark_started(admission) for admission in admissions))

    asyncio.run(mark_all())
    held = _held(services)
    assert len(held) == 20 and all(row.upstream_started_at is not None for row in held)


def test_a_call_without_reservations_is_not_marked(services: Services, tenant: Tenant) -> None:
    asyncio.run(_recorder(services).mark_started(Admission()))  # no budget: nothing to mark, no database hop
    assert _held(services) == []


def test_a_cancelled_mark_gives_the_reservation_back(services: Services, tenant: Tenant) -> None:
    budget = services.budget_service.create(tenant.workspace_id, spec(limit_usd=Decimal("10.00")))
    admission = services.budget_guard.admit(ctx(tenant), Decimal("0.40"))
    recorder = _recorder(services)

    async def cancelled_mark() -> None:
        task = asyncio.ensure_future(recorder.mark_started(admission))
        await asyncio.sleep(0)  # the mark is queued
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        deadline = time.monotonic() + 10
        while _held(services) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    asyncio.run(cancelled_mark())
    assert _held(services) == []
    released = counter(services, budget.id)
    assert released.reserved_usd == Decimal(0) and released.spent_usd == Decimal(0)
