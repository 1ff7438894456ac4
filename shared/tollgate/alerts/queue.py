"""The ``AlertQueue`` port: where alert messages go to be delivered (SQS on AWS, in-process locally).

Producers (budget thresholds, rejected price feeds, unpriced models) only ever ``enqueue``; the
delivery code is the same behind both queues.
"""

from __future__ import annotations

import queue
from collections.abc import Mapping
from typing import Any, Protocol


class AlertQueue(Protocol):
    def enqueue(self, message: Mapping[str, Any]) -> None: ...


class InProcessAlertQueue:
    """A thread-safe FIFO drained by a background worker of the local server (or by tests)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()

    def enqueue(self, message: Mapping[str, Any]) -> None:
        self._queue.put(dict(message))

    def drain(self, limit: int = 100) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < limit:
            try:
                messages.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return messages
