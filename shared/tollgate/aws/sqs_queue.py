"""``AlertQueue`` on SQS: the alert_delivery Lambda consumes it; its redrive policy owns the DLQ."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class SqsAlertQueue:
    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._queue_url = queue_url
        self._client = client

    def _sqs(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs")
        return self._client

    def enqueue(self, message: Mapping[str, Any]) -> None:
        self._sqs().send_message(QueueUrl=self._queue_url, MessageBody=json.dumps(dict(message), separators=(",", ":")))
