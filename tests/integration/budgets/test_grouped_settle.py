"""Grouped settles (``settle_many``) on SQLite and PostgreSQL: each reservation row gives its amount
back at most once, whatever the group holds."""

from __future__ import annotations

from decimal import Decimal

from tests.integration.budgets.test_guard import counter, ctx, reservations, spec
from tests.support import Tenant
from tollgate.wiring import Services


def test_the_same_admission_twice_in_a_group_gives_its_reservation_back_once(
    services: Services, tenant: Tenant
) -> None:
    budget = services.budget_service.create(tenant.workspace_id, spec(limit_usd=Decimal("1.00")))
    guard = services.budget_guard
    held = guard.admit(ctx(tenant), Decimal("0.30"))
    other = guard.admit(ctx(tenant), Decimal("0.20"))
    with services.sessions.begin() as session:
        guard.settle_many(session, [(held, Decimal("0.10")), (held, Decimal("0.10"))])
    row = counter(services, budget.id)
    assert row.spent_usd == Decimal("0.20")  # as two settles one after the other would charge
    # ``other`` still holds its 0.20: the repeated admission must not release it as well
    assert row.reserved_usd == Decimal("0.20")
    assert reservations(services) == 1
    with services.sessions.begin() as session:
        guard.settle_many(session, [(other, Decimal("0.05"))])
    assert counter(services, budget.id).reserved_usd == Decimal(0)
