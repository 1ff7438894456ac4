"""alert_delivery end to end: moto SQS → Lambda handler → local webhook (HMAC verified), DLQ, SES."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.alert_delivery.handler import handler
from tests.fakes.lambda_context import FakeLambdaContext
from tests.integration.budgets.conftest import Receiver
from tests.support import Tenant, load_event
from tollgate.alerts.delivery import AlertDelivery
from tollgate.alerts.signing import verify
from tollgate.aws.ses_mailer import SesMailer
from tollgate.aws.sqs_queue import SqsAlertQueue
from tollgate.budgets.periods import Period
from tollgate.budgets.spec import Action, BudgetSpec, Scope
from tollgate.wiring import Services


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("sqs", region_name="us-east-1")
        dlq = client.create_queue(QueueName="alerts-dlq")["QueueUrl"]
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        main = client.create_queue(
            QueueName="alerts",
            Attributes={
                "VisibilityTimeout": "0",
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
            },
        )["QueueUrl"]
        yield client, main, dlq


def make_budget(services: Services, tenant: Tenant, channel_id: uuid.UUID) -> uuid.UUID:
    spec = BudgetSpec(
        "ops",
        Scope.WORKSPACE,
        None,
        Period.MONTHLY,
        "UTC",
        Decimal("1"),
        action=Action.ALERT_ONLY,
        channel_ids=(channel_id,),
    )
    return services.budget_service.create(tenant.workspace_id, spec).id


def cross_half(services: Services, tenant: Tenant) -> None:
    from tests.integration.budgets.test_guard import ctx

    admission = services.budget_guard.admit(ctx(tenant), Decimal("0.6"))
    with services.sessions.begin() as session:
        services.budget_guard.settle(session, admission, Decimal("0.6"))


def run_lambda(client: Any, queue_url: str) -> tuple[int, dict[str, Any]]:
    """Receive like the SQS event source, invoke the handler, delete what succeeded."""
    received = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
        "Messages", []
    )
    if not received:  # the event source never invokes with an empty batch
        return 0, {"batchItemFailures": []}
    template = load_event("alert_delivery/sqs_batch.json")["Records"][0]
    records = [
        {**template, "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"]}
        for m in received
    ]
    result = handler({"Records": records}, FakeLambdaContext())
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for message in received:
        if message["MessageId"] not in failed:
            client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return len(received), result


def test_alert_goes_through_sqs_to_a_signed_webhook_once(
    services: Services, tenant: Tenant, receiver: Receiver, sqs: Any
) -> None:
    client, main, _ = sqs
    services.alert_outbox._queue = SqsAlertQueue(main, client)
    channel = services.alert_channels.create(tenant.workspace_id, "webhook", receiver.url, "s" * 32)
    budget_id = make_budget(services, tenant, channel.row.id)
    cross_half(services, tenant)
    count, result = run_lambda(client, main)
    assert (count, result["batchItemFailures"]) == (1, [])
    (hit,) = receiver.hits
    assert verify(b"s" * 32, hit["body"], hit["headers"]["x-tollgate-signature"], now=int(time.time()))
    assert not verify(b"wrong" * 8, hit["body"], hit["headers"]["x-tollgate-signature"], now=int(time.time()))
    payload = json.loads(hit["body"])
    assert payload["event"] == "budget.threshold_crossed"
    assert (payload["budget_id"], payload["threshold"], payload["spent_usd"], payload["limit_usd"]) == (
        str(budget_id),
        0.5,
        "0.6",
        "1",
    )
    assert {"budget_name", "workspace_id", "period_start", "period_end", "sent_at"} <= payload.keys()
    # a redelivered copy of the same alert is not sent twice to the channel
    message = {
        "kind": "budget.threshold_crossed",
        "alert_id": hit["headers"]["x-tollgate-delivery"],
        "workspace_id": str(tenant.workspace_id),
        "channel_ids": [str(channel.row.id)],
        "threshold_key": "0.5",
        "payload": {**payload},
    }
    assert services.alert_delivery.deliver(message) == 0
    assert len(receiver.hits) == 1


def test_a_failing_receiver_ends_in_the_dlq(services: Services, tenant: Tenant, receiver: Receiver, sqs: Any) -> None:
    client, main, dlq = sqs
    receiver.status = 503
    services.alert_outbox._queue = SqsAlertQueue(main, client)
    channel = services.alert_channels.create(tenant.workspace_id, "webhook", receiver.url, None)
    make_budget(services, tenant, channel.row.id)
    cross_half(services, tenant)
    for _ in range(2):
        count, result = run_lambda(client, main)
        assert count == 1 and len(result["batchItemFailures"]) == 1
    assert run_lambda(client, main)[0] == 0  # moved on the third receive
    dead = client.receive_message(QueueUrl=dlq).get("Messages", [])
    assert len(dead) == 1 and json.loads(dead[0]["Body"])["threshold_key"] == "0.5"
    assert len(receiver.hits) == 2 * services.settings.alert_delivery_attempts  # retried with backoff each time


def test_email_goes_through_ses(services: Services, tenant: Tenant) -> None:
    with mock_aws():
        ses = boto3.client("ses", region_name="us-east-1")
        ses.verify_email_identity(EmailAddress="alerts@tollgate.test")
        delivery = AlertDelivery(
            services.sessions,
            services.key_wrapper,
            services.clock,
            SesMailer("alerts@tollgate.test", ses),
            services.alert_http,
            allow_local=True,
        )
        channel = services.alert_channels.create(tenant.workspace_id, "email", "ops@example.com", None)
        make_budget(services, tenant, channel.row.id)
        cross_half(services, tenant)
        (message,) = services.alert_queue.drain()  # type: ignore[attr-defined]
        assert delivery.deliver(message) == 1
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        assert len(sent) == 1 and sent[0].destinations["ToAddresses"] == ["ops@example.com"]
        assert "crossed 50%" in sent[0].subject


def test_email_without_ses_is_an_explicit_failure_and_local_worker_dead_letters(
    services: Services, tenant: Tenant
) -> None:
    channel = services.alert_channels.create(tenant.workspace_id, "email", "ops@example.com", None)
    make_budget(services, tenant, channel.row.id)
    cross_half(services, tenant)
    worker = services.alert_worker
    assert worker is not None
    for _ in range(5):
        worker.run_once()
    (dead,) = worker.dead_letters
    assert "email is not configured" in dead["last_error"]
