"""The local server's alert worker: drains the in-process queue with the same delivery code.

A failed message is put back with an attempt count (the timer interval is the backoff) and after
``max_attempts`` it goes to ``dead_letters``, the local stand-in for the SQS DLQ.
"""

from __future__ import annotations

from typing import Any

from tollgate.alerts.delivery import AlertDelivery, DeliveryFailed
from tollgate.alerts.queue import InProcessAlertQueue
from tollgate.observability import logger


class LocalAlertWorker:
    def __init__(self, queue: InProcessAlertQueue, delivery: AlertDelivery, max_attempts: int = 5) -> None:
        self._queue = queue
        self._delivery = delivery
        self._max_attempts = max_attempts
        self.dead_letters: list[dict[str, Any]] = []

    def run_once(self) -> int:
        """Deliver what is queued now; returns how many messages were delivered."""
        delivered = 0
        for message in self._queue.drain():
            try:
                self._delivery.deliver(message)
                delivered += 1
            except DeliveryFailed as exc:
                self._retry_or_bury(message, exc.reason)
            except Exception:
                logger.exception("alert delivery crashed")
                self._retry_or_bury(message, "internal error")
        return delivered

    def _retry_or_bury(self, message: dict[str, Any], reason: str) -> None:
        attempts = int(message.get("attempts", 0)) + 1
        if attempts >= self._max_attempts:
            logger.error("alert dead-lettered", extra={"alert_id": message.get("alert_id"), "reason": reason})
            self.dead_letters.append({**message, "attempts": attempts, "last_error": reason})
            return
        self._queue.enqueue({**message, "attempts": attempts})
