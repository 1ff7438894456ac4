"""Grouped admissions (``reserve_group`` and the guard's batcher) on SQLite and PostgreSQL: a group
admits exactly what the same calls admitted one after the other would, and never overspends."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from sqlalchemy import func, select

from tests.integration.budgets.test_guard import counter, ctx, reservations, spec
from tests.support import Tenant
from tollgate.budgets.admission import AdmitRequest, reserve_group
from tollgate.budgets.guard import Admission
from tollgate.budgets.spec import Action, Scope
from tollgate.db.models import Reservation
from tollgate.errors import BudgetExceeded
from tollgate.wiring import Services

AMOUNT = Decimal("0.01")


def _requests(services: Services, tenant: Tenant, count: int, **context: object) -> list[AdmitRequest]:
    budgets = services.budget_guard.active_budgets(tenant.workspace_id)
    now = services.clock.now()
    out = []
    for _ in range(count):
        call = ctx(tenant, **context)
        out.append(AdmitRequest([b for b in budgets if b.matches(call)], call, AMOUNT, True, now))
    return out


def _group(services: Services, requests: list[AdmitRequest]) -> list[Admission | Exception]:
    with services.sessions.begin() as session:
        return reserve_group(session, requests, services.budget_guard._ttl)


def test_a_group_of_200_admits_exactly_the_first_k_that_fit(services: Services, tenant: Tenant) -> None:
    budget = services.budget_service.create(tenant.workspace_id, spec(limit_usd=AMOUNT * 37))
    outcomes = _group(services, _requests(services, tenant, 200))
    admitted = [o for o in outcomes if isinstance(o, Admission)]
    assert len(admitted) == 37
    assert all(isinstance(o, Admission) for o in outcomes[:37])
    assert all(isinstance(o, BudgetExceeded) for o in outcomes[37:])
    assert [a.remaining_usd for a in admitted[-2:]] == [AMOUNT, Decimal(0)]
    refused = outcomes[37]
    assert isinstance(refused, BudgetExceeded)
    assert Decimal(refused.details["reserved_usd"]) == AMOUNT * 37  # what the earlier calls of the group hold
    row = counter(services, budget.id)
    assert (row.spent_usd, row.reserved_usd) == (Decimal(0), AMOUNT * 37)
    assert reservations(services) == 37


def test_a_refusal_by_one_budget_reserves_nothing_on_the_others(services: Services, tenant: Tenant) -> None:
    wide = services.budget_service.create(tenant.workspace_id, spec(name="wide", limit_usd=Decimal(100)))
    etl = services.budget_service.create(
        tenant.workspace_id, spec(name="etl", scope=Scope.WORKFLOW, scope_value="etl", limit_usd=AMOUNT * 3)
    )
    requests = _requests(services, tenant, 5, workflow="etl") + _requests(services, tenant, 2, workflow="web")
    outcomes = _group(services, requests)
    kinds = ["ok" if isinstance(o, Admission) else "402" for o in outcomes]
    assert kinds == ["ok", "ok", "ok", "402", "402", "ok", "ok"]
    assert counter(services, etl.id).reserved_usd == AMOUNT * 3
    assert counter(services, wide.id).reserved_usd == AMOUNT * 5  # 3 etl + 2 web, none of the refused
    with services.sessions() as session:
        held = session.scalar(select(func.count()).select_from(Reservation))
    assert held == 3 * 2 + 2  # an admitted etl call holds one row per budget


def test_a_group_downgrades_past_the_threshold_and_keeps_admitting(services: Services, tenant: Tenant) -> None:
    budget = services.budget_service.create(
        tenant.workspace_id,
        spec(
            action=Action.DOWNGRADE, downgrade_model="mock/cheap", limit_usd=AMOUNT * 10, thresholds=(Decimal("0.5"),)
        ),
    )
    outcomes = _group(services, _requests(services, tenant, 8))
    switched = [o.downgrade_model for o in outcomes if isinstance(o, Admission)]
    assert switched == [None] * 5 + ["mock/cheap"] * 3
    assert counter(services, budget.id).reserved_usd == AMOUNT * 5
    assert reservations(services) == 5


def test_200_concurrent_admissions_never_overspend_a_block_budget(services: Services, tenant: Tenant) -> None:
    """Through the guard (threads: admissions are grouped as they queue up): exactly K fit."""
    fits = 23
    budget = services.budget_service.create(tenant.workspace_id, spec(limit_usd=AMOUNT * fits))
    guard = services.budget_guard

    def admit(_: int) -> bool:
        try:
            guard.admit(ctx(tenant, request_id=f"req_{uuid.uuid4().hex[:12]}"), AMOUNT)
        except BudgetExceeded:
            return False
        return True

    with ThreadPoolExecutor(max_workers=32) as pool:
        admitted = sum(pool.map(admit, range(200)))
    assert admitted == fits
    assert counter(services, budget.id).reserved_usd == AMOUNT * fits
    assert reservations(services) == fits
