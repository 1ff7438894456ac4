"""Budget threshold alerts: publish claimed alerts to the ``AlertQueue`` after their ``alerts_sent``
row is committed.

The claim row is the outbox: ``enqueued_at`` is set once the message is on the queue. A crash
between commit and enqueue leaves the row NULL and the sweeper re-publishes it after a grace
period, so an alert is published once in the normal path and at least once after a crash.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tollgate.alerts.queue import AlertQueue
from tollgate.budgets.spec import BudgetView
from tollgate.clock import Clock
from tollgate.db.repositories.alerts import AlertSentRepository
from tollgate.db.repositories.budget_counters import CounterRepository
from tollgate.db.repositories.budgets import BudgetRepository
from tollgate.money import format_usd
from tollgate.observability import logger

THRESHOLD_EVENT = "budget.threshold_crossed"


def alert_message(
    alert_id: uuid.UUID,
    budget: BudgetView,
    *,
    threshold: Decimal,
    spent_usd: Decimal,
    period_start: datetime,
    period_end: datetime | None,
) -> dict[str, Any]:
    """The queue message: routing (alert id, workspace, channels) around the documented alert payload (docs/api.md)."""
    return {
        "kind": THRESHOLD_EVENT,
        "alert_id": str(alert_id),
        "workspace_id": str(budget.workspace_id),
        "channel_ids": [str(c) for c in budget.channel_ids],
        "threshold_key": format(threshold.normalize(), "f"),
        "payload": {
            "event": THRESHOLD_EVENT,
            "budget_id": str(budget.id),
            "budget_name": budget.name,
            "workspace_id": str(budget.workspace_id),
            "threshold": float(threshold),
            "spent_usd": format_usd(spent_usd),
            "limit_usd": format_usd(budget.limit_usd),
            "period_start": period_start.isoformat(),
            "period_end": period_end.isoformat() if period_end else None,
        },
    }


class AlertOutbox:
    def __init__(self, sessions: sessionmaker[Session], queue: AlertQueue, clock: Clock) -> None:
        self._sessions = sessions
        self._queue = queue
        self._clock = clock

    def publish(self, messages: Sequence[dict[str, Any]]) -> None:
        """Enqueue and mark; never raises (the sweeper retries what did not make it)."""
        published: list[uuid.UUID] = []
        for message in messages:
            try:
                self._queue.enqueue(message)
                published.append(uuid.UUID(message["alert_id"]))
            except Exception:
                logger.exception(
                    "could not enqueue an alert; the sweeper will retry", extra={"alert_id": message["alert_id"]}
                )
        try:
            with self._sessions.begin() as session:
                AlertSentRepository(session).mark_enqueued(published, self._clock.now())
        except Exception:
            logger.exception("could not mark alerts as enqueued")

    def republish(self, grace_s: float = 60.0, limit: int = 100) -> int:
        """Publish claimed alerts whose enqueue never happened (crash between commit and enqueue)."""
        now = self._clock.now()
        with self._sessions() as session:
            rows = AlertSentRepository(session).pending(now - timedelta(seconds=grace_s), limit)
            budgets = BudgetRepository(session).by_ids(list({r.budget_id for r in rows}))
            counters = CounterRepository(session)
            messages = []
            for row in rows:
                budget = budgets.get(row.budget_id)
                if budget is None:
                    continue
                _, end = budget.bounds(row.period_start)
                spent = counters.state(row.budget_id, row.period_start).spent_usd
                messages.append(
                    alert_message(
                        row.id,
                        budget,
                        threshold=Decimal(row.threshold),
                        spent_usd=spent,
                        period_start=row.period_start,
                        period_end=end,
                    )
                )
        self.publish(messages)
        return len(messages)
