"""Operators' events (a rejected price feed) go to the operators' SNS topic, never to the tenants' alert
queue; the pricing age is published as a metric after every pricing_updater run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import update

from functions.pricing_updater.handler import publish_pricing_age
from tests.support import make_services
from tollgate.alerts.queue import InProcessAlertQueue
from tollgate.alerts.routing import RoutingAlertQueue, is_operator_event
from tollgate.aws.metrics import metrics
from tollgate.aws.sns_topic import SnsOperatorTopic
from tollgate.db.models import PricingStatus
from tollgate.wiring import Services


@pytest.fixture
def aws() -> Iterator[Any]:
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")


def test_feed_rejection_goes_to_the_operators_topic_and_budget_alerts_to_the_tenants(aws: Any) -> None:
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic = sns.create_topic(Name="operators")["TopicArn"]
    inbox = sqs.create_queue(QueueName="operator-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
    tenants = InProcessAlertQueue()
    routed = RoutingAlertQueue(tenants, SnsOperatorTopic(topic, client=sns))

    routed.enqueue({"event": "pricing.feed_rejected", "source": "litellm", "status": "rejected"})
    routed.enqueue({"event": "budget.threshold", "workspace_id": "ws-1", "budget_id": "b-1"})

    assert [m["event"] for m in tenants.drain()] == ["budget.threshold"]
    delivered = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10)["Messages"]
    [envelope] = [json.loads(m["Body"]) for m in delivered]
    assert envelope["Subject"] == "Tollgate: pricing.feed_rejected"
    assert json.loads(envelope["Message"])["source"] == "litellm"


@pytest.mark.parametrize(
    ("message", "operators"),
    [
        ({"event": "pricing.feed_rejected", "workspace_id": "ws"}, True),
        ({"event": "anything.new"}, True),  # no workspace: nobody among the tenants could receive it
        ({"event": "pricing.model_unpriced", "workspace_id": "ws"}, False),
    ],
)
def test_what_counts_as_an_operator_event(message: dict[str, Any], operators: bool) -> None:
    assert is_operator_event(message) is operators


def _published_age(services: Services) -> dict[str, Any]:
    metrics.clear_metrics()
    try:
        publish_pricing_age(services)
        return dict(metrics.metric_set)
    finally:
        metrics.clear_metrics()


def test_pricing_age_is_published_after_a_run(tmp_path: Path, db_url: str) -> None:
    services: Services = make_services(db_url, tmp_path)
    try:
        with services.sessions.begin() as session:
            session.execute(update(PricingStatus).values(last_success_at=datetime.now(UTC) - timedelta(hours=1)))
        published = _published_age(services)
        # never refreshed successfully: no datapoint at all, which the alarm treats as breaching
        with services.sessions.begin() as session:
            session.execute(update(PricingStatus).values(last_success_at=None))
        never = _published_age(services)
    finally:
        services.close()
    age = published["PricingAgeSeconds"]
    assert age["Unit"] == "Seconds" and 3590 <= age["Value"][0] <= 3700
    assert never == {}
