"""An SQS send failure when a threshold is crossed does not lose the alert: the claim row stays
un-enqueued, the sweeper re-publishes it once the grace period has passed, and the queue ends up
holding exactly one message for it (moto SQS, SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from sqlalchemy import select

from tests.support import Tenant
from tollgate.aws.sqs_queue import SqsAlertQueue
from tollgate.budgets.guard import SpendContext
from tollgate.budgets.outbox import AlertOutbox
from tollgate.budgets.periods import Period
from tollgate.budgets.spec import Action, BudgetSpec, Scope
from tollgate.budgets.sweeper import ReservationSweeper
from tollgate.db.models import AlertSent
from tollgate.wiring import Services


class _FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


class _FlakySqs:
    """The boto3 SQS client, except that the next ``fail`` send_message calls raise."""

    def __init__(self, client: Any, fail: int) -> None:
        self._client = client
        self.fail = fail
        self.attempts = 0

    def send_message(self, **kwargs: Any) -> Any:
        self.attempts += 1
        if self.fail > 0:
            self.fail -= 1
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "try later"}}, "SendMessage")
        return self._client.send_message(**kwargs)


@pytest.fixture
def sqs() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        client = boto3.client("sqs", region_name="us-east-1")
        yield client, client.create_queue(QueueName="alerts")["QueueUrl"]


def _cross_half(services: Services, tenant: Tenant) -> str:
    budget = services.budget_service.create(
        tenant.workspace_id,
        BudgetSpec("ops", Scope.WORKSPACE, None, Period.MONTHLY, "UTC", Decimal("1"), action=Action.ALERT_ONLY),
    )
    context = SpendContext(tenant.workspace_id, tenant.admin_key_id, "mock", "echo", None, None, "req_sqs_fail")
    admission = services.budget_guard.admit(context, Decimal("0.6"))
    with services.sessions.begin() as session:
        services.budget_guard.settle(session, admission, Decimal("0.6"))
    return str(budget.id)


def _drain(client: Any, url: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while True:
        got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if not got:
            return bodies
        bodies.extend(json.loads(m["Body"]) for m in got)


def _claims(services: Services) -> list[AlertSent]:
    with services.sessions() as session:
        return list(session.scalars(select(AlertSent)))


@pytest.mark.parametrize("failure", ["send-raises-once", "queue-deleted"])
def test_a_failed_enqueue_is_republished_by_the_sweeper_exactly_once(
    services: Services, tenant: Tenant, sqs: tuple[Any, str], failure: str
) -> None:
    client, url = sqs
    flaky = _FlakySqs(client, fail=1 if failure == "send-raises-once" else 0)
    services.alert_outbox._queue = SqsAlertQueue(url, flaky)
    if failure == "queue-deleted":
        client.delete_queue(QueueUrl=url)
    # When a threshold is crossed and the send fails
    budget_id = _cross_half(services, tenant)
    # Then the settle still succeeded, the claim row exists but is not marked enqueued
    (claim,) = _claims(services)
    assert claim.enqueued_at is None and claim.threshold == "0.5"
    assert flaky.attempts == 1
    if failure == "queue-deleted":  # the queue comes back (same name, same URL)
        assert client.create_queue(QueueName="alerts")["QueueUrl"] == url
    assert _drain(client, url) == []

    # When the sweeper runs within the grace period it leaves the alert alone (it may still be in flight)
    soon = ReservationSweeper(services.sessions, services.clock, services.alert_outbox)
    assert soon.sweep().alerts_republished == 0
    # and after the grace period it re-publishes it, once
    later = _FixedClock(datetime.now(UTC) + timedelta(minutes=5))
    outbox = AlertOutbox(services.sessions, SqsAlertQueue(url, flaky), later)
    sweeper = ReservationSweeper(services.sessions, later, outbox)
    assert sweeper.sweep().alerts_republished == 1
    assert sweeper.sweep().alerts_republished == 0
    # Then the queue holds exactly one message for that alert, and the claim is marked enqueued
    (message,) = _drain(client, url)
    assert message["alert_id"] == str(claim.id)
    assert message["payload"]["budget_id"] == budget_id and message["payload"]["threshold"] == 0.5
    assert message["payload"]["spent_usd"] == "0.6"
    (claim,) = _claims(services)
    assert claim.enqueued_at is not None
    assert flaky.attempts == 2
