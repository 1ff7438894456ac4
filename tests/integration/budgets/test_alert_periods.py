"""Each (budget, period, threshold) is delivered exactly once; a cooldown delays, never drops.

The Australia/Darwin case: a daily budget whose midnight is 14:30 UTC, thresholds crossed just
before and again just after it, within the channel's one-hour cooldown.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fakes.key_wrapper import FakeKeyWrapper
from tests.integration.budgets.conftest import Receiver
from tests.integration.budgets.test_guard import ctx
from tests.support import Tenant, make_services
from tollgate.budgets.periods import Period
from tollgate.budgets.spec import BudgetSpec, Scope
from tollgate.wiring import Services, set_services


@dataclass
class ManualClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 10, 14, 20, tzinfo=UTC))  # 23:50 in Darwin


@pytest.fixture
def services(db_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[Services]:
    built = make_services(db_url, tmp_path)
    built.clock = clock  # before any component reads it
    built.key_wrapper = FakeKeyWrapper()
    built.alert_delivery._sleep = lambda _s: None
    set_services(built)
    try:
        yield built
    finally:
        set_services(None)
        built.close()


def spend(services: Services, tenant: Tenant, amount: str) -> None:
    admission = services.budget_guard.admit(ctx(tenant), Decimal(amount))
    with services.sessions.begin() as session:
        services.budget_guard.settle(session, admission, Decimal(amount))


def deliver_queued(services: Services) -> int:
    drained = services.alert_queue.drain()  # type: ignore[attr-defined]  # the in-process queue's
    return sum(1 for message in drained if services.alert_delivery.deliver(message))


def budget(services: Services, tenant: Tenant, channel: uuid.UUID, period: Period, zone: str, limit: str) -> uuid.UUID:
    spec = BudgetSpec("b", Scope.WORKSPACE, None, period, zone, Decimal(limit), channel_ids=(channel,))
    return services.budget_service.create(tenant.workspace_id, spec).id


def test_darwin_midnight_alerts_of_the_new_period_are_delivered(
    services: Services, tenant: Tenant, receiver: Receiver, clock: ManualClock
) -> None:
    channel = services.alert_channels.create(tenant.workspace_id, "webhook", receiver.url, None).row.id
    budget(services, tenant, channel, Period.DAILY, "Australia/Darwin", "0.05")
    spend(services, tenant, "0.03")  # 60%: crosses 50%
    spend(services, tenant, "0.01")  # 80%: crosses 75%
    assert deliver_queued(services) == 2
    clock.at = datetime(2026, 3, 10, 14, 35, tzinfo=UTC)  # 00:05 the next day in Darwin
    spend(services, tenant, "0.03")
    spend(services, tenant, "0.01")
    assert deliver_queued(services) == 2
    sent = [(p["threshold"], p["period_start"]) for p in (json.loads(h["body"]) for h in receiver.hits)]
    assert sent == [
        (0.5, "2026-03-09T14:30:00+00:00"),
        (0.75, "2026-03-09T14:30:00+00:00"),
        (0.5, "2026-03-10T14:30:00+00:00"),
        (0.75, "2026-03-10T14:30:00+00:00"),
    ]
    # a redelivery of any of them reaches nobody twice
    assert deliver_queued(services) == 0


def test_a_reset_budget_re_crossing_within_the_cooldown_is_delayed_then_delivered(
    services: Services, tenant: Tenant, receiver: Receiver, clock: ManualClock
) -> None:
    channel = services.alert_channels.create(tenant.workspace_id, "webhook", receiver.url, None).row.id
    budget_id = budget(services, tenant, channel, Period.MONTHLY, "UTC", "1")
    spend(services, tenant, "0.6")
    assert deliver_queued(services) == 1
    services.budget_service.reset(tenant.workspace_id, budget_id)
    clock.at += timedelta(minutes=5)
    spend(services, tenant, "0.6")
    assert deliver_queued(services) == 0  # held by the cooldown, not dropped
    status = services.budget_service.status(tenant.workspace_id, budget_id)
    assert (status.thresholds_crossed, status.thresholds_notified, status.thresholds_pending) == (
        [Decimal("0.5")],
        [],
        [Decimal("0.5")],
    )
    clock.at += timedelta(minutes=20)
    assert services.alert_outbox.republish() == 1  # the held alert is back in the outbox
    assert deliver_queued(services) == 0  # still cooling down
    clock.at += timedelta(minutes=40)  # 60 minutes after the first delivery
    assert services.alert_outbox.republish() == 1
    assert deliver_queued(services) == 1
    assert len(receiver.hits) == 2
    status = services.budget_service.status(tenant.workspace_id, budget_id)
    assert (status.thresholds_notified, status.thresholds_pending) == ([Decimal("0.5")], [])
    assert services.alert_outbox.republish() == 0
