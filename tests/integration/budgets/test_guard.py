"""The reservation guard on SQLite and PostgreSQL: reserve, settle, release, block, downgrade, alerts, sweeper."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from tests.support import Tenant
from tollgate.alerts.queue import InProcessAlertQueue
from tollgate.budgets.guard import SpendContext
from tollgate.budgets.periods import Period
from tollgate.budgets.spec import Action, BudgetSpec, Scope
from tollgate.db.models import AlertSent, BudgetCounter, Reservation
from tollgate.errors import BudgetExceeded, ServiceUnavailable
from tollgate.wiring import Services


def spec(**overrides: object) -> BudgetSpec:
    values: dict[str, object] = {
        "name": "b",
        "scope": Scope.WORKSPACE,
        "scope_value": None,
        "period": Period.MONTHLY,
        "timezone": "UTC",
        "limit_usd": Decimal("1.00"),
        "action": Action.BLOCK,
    }
    values.update(overrides)
    return BudgetSpec(**values)  # type: ignore[arg-type]


def ctx(tenant: Tenant, **overrides: object) -> SpendContext:
    values: dict[str, object] = {
        "workspace_id": tenant.workspace_id,
        "key_id": tenant.admin_key_id,
        "provider": "mock",
        "model": "echo",
        "workflow": None,
        "agent": None,
        "request_id": f"req_{uuid.uuid4().hex[:8]}",
    }
    values.update(overrides)
    return SpendContext(**values)  # type: ignore[arg-type]


def settle(services: Services, admission: object, amount: str) -> None:
    with services.sessions.begin() as session:
        services.budget_guard.settle(session, admission, Decimal(amount))  # type: ignore[arg-type]


def counter(services: Services, budget_id: uuid.UUID) -> BudgetCounter:
    with services.sessions() as session:
        return session.scalars(select(BudgetCounter).where(BudgetCounter.budget_id == budget_id)).one()


def reservations(services: Services) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Reservation)) or 0)


def test_reserve_then_settle_moves_reserved_to_spent(services: Services, tenant: Tenant) -> None:
    budget = services.budget_service.create(tenant.workspace_id, spec())
    admission = services.budget_guard.admit(ctx(tenant), Decimal("0.30"))
    assert counter(services, budget.id).reserved_usd == Decimal("0.30")
    assert admission.remaining_usd == Decimal("0.70")
    assert reservations(services) == 1
    settle(services, admission, "0.1234")
    row = counter(services, budget.id)
    assert (row.spent_usd, row.reserved_usd) == (Decimal("0.1234"), Decimal(0))
    assert reservations(services) == 0


def test_block_refuses_what_does_not_fit_and_names_the_budget(services: Services, tenant: Tenant) -> None:
    budget = services.budget_service.create(tenant.workspace_id, spec(limit_usd=Decimal("0.50")))
    services.budget_guard.admit(ctx(tenant), Decimal("0.40"))
    with pytest.raises(BudgetExceeded) as caught:
        services.budget_guard.admit(ctx(tenant), Decimal("0.11"))
    details = caught.value.details
    assert details["budget_id"] == str(budget.id)
    assert (details["limit_usd"], details["spent_usd"], details["reserved_usd"]) == ("0.5", "0", "0.4")
    assert details["period_end"].startswith(f"{datetime.now(UTC).year}-") or details["period_end"]
    # exactly filling the limit is allowed
    services.budget_guard.admit(ctx(tenant), Decimal("0.10"))
    assert counter(services, budget.id).reserved_usd == Decimal("0.50")


def test_a_refused_block_rolls_back_other_budgets(services: Services, tenant: Tenant) -> None:
    roomy = services.budget_service.create(tenant.workspace_id, spec(action=Action.ALERT_ONLY))
    services.budget_service.create(
        tenant.workspace_id, spec(limit_usd=Decimal("0.01"), scope=Scope.MODEL, scope_value="mock/echo")
    )
    with pytest.raises(BudgetExceeded):
        services.budget_guard.admit(ctx(tenant), Decimal("0.02"))
    with services.sessions() as session:
        rows = session.scalars(select(BudgetCounter).where(BudgetCounter.budget_id == roomy.id)).all()
    assert all(r.reserved_usd == 0 for r in rows)
    assert reservations(services) == 0


def test_alert_only_never_blocks(services: Services, tenant: Tenant) -> None:
    budget = services.budget_service.create(
        tenant.workspace_id, spec(action=Action.ALERT_ONLY, limit_usd=Decimal("0.01"))
    )
    admission = services.budget_guard.admit(ctx(tenant), Decimal("5"))
    settle(services, admission, "5")
    assert counter(services, budget.id).spent_usd == Decimal(5)


def test_scopes_match_only_their_requests(services: Services, tenant: Tenant) -> None:
    wf = services.budget_service.create(tenant.workspace_id, spec(scope=Scope.WORKFLOW, scope_value="etl"))
    services.budget_guard.admit(ctx(tenant, workflow="other"), Decimal("0.5"))
    assert reservations(services) == 0
    services.budget_guard.admit(ctx(tenant, workflow="etl"), Decimal("0.5"))
    assert counter(services, wf.id).reserved_usd == Decimal("0.5")


def test_downgrade_switches_model_past_threshold(services: Services, tenant: Tenant) -> None:
    services.budget_service.create(
        tenant.workspace_id,
        spec(action=Action.DOWNGRADE, downgrade_model="mock/cheap", thresholds=(Decimal("0.8"),)),
    )
    first = services.budget_guard.admit(ctx(tenant), Decimal("0.7"))
    assert first.downgrade_model is None
    second = services.budget_guard.admit(ctx(tenant), Decimal("0.2"))
    assert second.downgrade_model == "mock/cheap"
    assert second.reservations == []
    # the caller retries without downgrade: it is reserved, never blocked
    third = services.budget_guard.admit(ctx(tenant, model="cheap"), Decimal("0.5"), allow_downgrade=False)
    assert len(third.reservations) == 1


def test_release_gives_the_reservation_back(services: Services, tenant: Tenant) -> None:
    budget = services.budget_service.create(tenant.workspace_id, spec())
    admission = services.budget_guard.admit(ctx(tenant), Decimal("0.9"))
    services.budget_guard.release(admission)
    row = counter(services, budget.id)
    assert (row.spent_usd, row.reserved_usd) == (Decimal(0), Decimal(0))
    assert reservations(services) == 0


def test_sweeper_releases_stale_reservations_and_settle_after_it_does_not_double_release(
    services: Services, tenant: Tenant
) -> None:
    budget = services.budget_service.create(tenant.workspace_id, spec())
    stale = services.budget_guard.admit(ctx(tenant), Decimal("0.6"))
    fresh = services.budget_guard.admit(ctx(tenant), Decimal("0.1"))
    with services.sessions.begin() as session:
        session.execute(
            update(Reservation)
            .where(Reservation.id == stale.reservations[0].id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    result = services.sweeper.sweep()
    assert (result.released, result.released_usd) == (1, Decimal("0.6"))
    assert counter(services, budget.id).reserved_usd == Decimal("0.1")
    assert reservations(services) == 1
    # the crashed request comes back late and settles: spend counts, reserved is not taken twice
    settle(services, stale, "0.2")
    row = counter(services, budget.id)
    assert (row.spent_usd, row.reserved_usd) == (Decimal("0.2"), Decimal("0.1"))
    settle(services, fresh, "0.1")
    assert counter(services, budget.id).reserved_usd == Decimal(0)


def test_each_threshold_alerts_once_under_concurrency(services: Services, tenant: Tenant) -> None:
    budget = services.budget_service.create(tenant.workspace_id, spec(action=Action.ALERT_ONLY, limit_usd=Decimal("1")))

    def one_call(_: int) -> None:
        admission = services.budget_guard.admit(ctx(tenant), Decimal("0.05"))
        settle(services, admission, "0.05")

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(one_call, range(40)))  # 2.00 USD: crosses 50/75/90/100% once each
    queue = services.alert_queue
    assert isinstance(queue, InProcessAlertQueue)
    messages = queue.drain()
    thresholds = sorted(m["payload"]["threshold"] for m in messages)
    assert thresholds == [0.5, 0.75, 0.9, 1.0]
    assert {m["payload"]["budget_id"] for m in messages} == {str(budget.id)}
    with services.sessions() as session:
        rows = session.scalars(select(AlertSent)).all()
    assert len(rows) == 4
    assert all(r.enqueued_at is not None for r in rows)
    assert counter(services, budget.id).spent_usd == Decimal("2.00")


def test_settling_a_group_sums_per_counter_and_alerts_each_threshold_once(services: Services, tenant: Tenant) -> None:
    wide = services.budget_service.create(tenant.workspace_id, spec(name="wide", limit_usd=Decimal("1")))
    etl = services.budget_service.create(
        tenant.workspace_id, spec(name="etl", scope=Scope.WORKFLOW, scope_value="etl", limit_usd=Decimal("10"))
    )
    guard = services.budget_guard
    admissions = [guard.admit(ctx(tenant, workflow="etl" if i % 2 else None), Decimal("0.10")) for i in range(8)]
    with services.sessions.begin() as session:  # one group: 8 calls of 0.10 cross 50% and 75% of "wide"
        guard.settle_many(session, [(admission, Decimal("0.10")) for admission in admissions])
    assert (counter(services, wide.id).spent_usd, counter(services, wide.id).reserved_usd) == (
        Decimal("0.80"),
        Decimal(0),
    )
    assert (counter(services, etl.id).spent_usd, counter(services, etl.id).reserved_usd) == (
        Decimal("0.40"),
        Decimal(0),
    )
    assert reservations(services) == 0
    queue = services.alert_queue
    assert isinstance(queue, InProcessAlertQueue)
    messages = queue.drain()
    assert sorted(m["payload"]["threshold"] for m in messages) == [0.5, 0.75]
    assert {m["payload"]["budget_id"] for m in messages} == {str(wide.id)}


def test_reset_zeroes_the_period_and_rearms_alerts(services: Services, tenant: Tenant) -> None:
    budget = services.budget_service.create(tenant.workspace_id, spec(limit_usd=Decimal("1")))
    settle(services, services.budget_guard.admit(ctx(tenant), Decimal("0.6")), "0.6")
    assert services.budget_service.status(tenant.workspace_id, budget.id).thresholds_crossed == [Decimal("0.5")]
    status = services.budget_service.reset(tenant.workspace_id, budget.id)
    assert (status.spent_usd, status.thresholds_crossed) == (Decimal(0), [])
    settle(services, services.budget_guard.admit(ctx(tenant), Decimal("0.6")), "0.6")
    queue = services.alert_queue
    assert isinstance(queue, InProcessAlertQueue)
    assert [m["payload"]["threshold"] for m in queue.drain()] == [0.5, 0.5]


def test_unenqueued_alerts_are_republished_by_the_sweeper(services: Services, tenant: Tenant) -> None:
    budget = services.budget_service.create(tenant.workspace_id, spec(action=Action.ALERT_ONLY))
    old = datetime.now(UTC) - timedelta(minutes=5)
    with services.sessions.begin() as session:
        session.add(
            AlertSent(
                workspace_id=tenant.workspace_id,
                budget_id=budget.id,
                period_start=budget.created_at.replace(day=1, hour=0, minute=0, second=0, microsecond=0),
                threshold="0.5",
                created_at=old,
            )
        )
    assert services.sweeper.sweep().alerts_republished == 1
    assert services.sweeper.sweep().alerts_republished == 0
    queue = services.alert_queue
    assert isinstance(queue, InProcessAlertQueue)
    assert [m["threshold_key"] for m in queue.drain()] == ["0.5"]


def test_database_unreachable_fails_closed(services: Services, tenant: Tenant, tmp_path: object) -> None:
    from tests.support import make_services

    broken = make_services(services.database_url, services.settings.home)
    broken.engine.dispose()
    from tollgate.db.engine import create_db_engine, create_session_factory

    if services.engine.dialect.name == "sqlite":
        url = "sqlite:////nonexistent-dir/definitely/not/here.db"
    else:
        url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    broken.sessions = create_session_factory(create_db_engine(url))
    with pytest.raises(ServiceUnavailable):
        broken.budget_guard.admit(ctx(tenant), Decimal("0.1"))
