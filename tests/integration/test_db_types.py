"""Money and time survive both databases exactly; migrations reach head on both."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select

from tollgate.db.migrate import MIGRATIONS_DIR, current_revision
from tollgate.db.models import UsageRecord
from tollgate.wiring import Services


def _record(workspace_id: uuid.UUID, cost: Decimal, created_at: datetime) -> UsageRecord:
    return UsageRecord(
        workspace_id=workspace_id,
        request_id=f"req_{uuid.uuid4().hex}",
        provider="mock",
        model="echo",
        requested_model="mock/echo",
        status="success",
        cost_usd=cost,
        created_at=created_at,
    )


def test_tiny_costs_round_trip_and_sum_exactly(services: Services) -> None:
    workspace_id = uuid.uuid4()
    costs = [Decimal("0.0000000001"), Decimal("0.000000123456"), Decimal("1234.567890123456"), Decimal("0.1")]
    now = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    with services.sessions.begin() as session:
        session.add_all(_record(workspace_id, cost, now) for cost in costs)
    with services.sessions() as session:
        stored = sorted(session.scalars(select(UsageRecord.cost_usd)).all())
        total = session.scalar(select(func.sum(UsageRecord.cost_usd)))
        created = session.scalars(select(UsageRecord.created_at)).first()
    assert stored == sorted(costs)
    assert total == sum(costs)
    assert created == now and created.tzinfo is not None


def test_migrations_are_at_head(services: Services) -> None:
    heads = sorted(p.name.split("_")[0] for p in (MIGRATIONS_DIR / "versions").glob("*.py"))
    assert current_revision(services.engine) == heads[-1]
