"""The operators' SNS topic (AWS side of the operators' event sink in ``tollgate.alerts.routing``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class SnsOperatorTopic:
    """AWS: publish to the operators' SNS topic (subscribed by the operators' email)."""

    def __init__(self, topic_arn: str, client: Any | None = None) -> None:
        self._topic_arn = topic_arn
        self._client = client

    def enqueue(self, message: Mapping[str, Any]) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("sns")
        subject = f"Tollgate: {message.get('event', 'operator event')}"[:100]
        self._client.publish(
            TopicArn=self._topic_arn, Subject=subject, Message=json.dumps(dict(message), separators=(",", ":"))
        )
