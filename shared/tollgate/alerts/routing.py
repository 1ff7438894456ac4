"""Operators' events never go to the tenants' alert queue.

The tenants' queue carries messages for one workspace (budget thresholds, unpriced models) and its
consumer (alert_delivery) delivers them to that workspace's channels. Events about the gateway
itself (a rejected price feed) have no workspace: they go to the operators' sink instead (the SNS
topic the alarms use on AWS, the log locally).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tollgate.alerts.queue import AlertQueue
from tollgate.observability import logger

OPERATOR_EVENTS = frozenset({"pricing.feed_rejected"})


def is_operator_event(message: Mapping[str, Any]) -> bool:
    return message.get("event") in OPERATOR_EVENTS or not message.get("workspace_id")


class RoutingAlertQueue:
    """``AlertQueue`` that sends operators' events to ``operators`` and the rest to ``tenants``."""

    def __init__(self, tenants: AlertQueue, operators: AlertQueue) -> None:
        self._tenants = tenants
        self._operators = operators

    def enqueue(self, message: Mapping[str, Any]) -> None:
        (self._operators if is_operator_event(message) else self._tenants).enqueue(message)


class LoggedOperatorEvents:
    """Local server: operators read the log."""

    def enqueue(self, message: Mapping[str, Any]) -> None:
        logger.warning("operator event", extra={"operator_event": dict(message)})
