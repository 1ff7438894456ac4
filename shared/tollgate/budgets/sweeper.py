"""Release reservations that outlived the function timeout (a crashed or killed request) and
re-publish alerts whose enqueue never happened. Runs on EventBridge every 5 minutes on AWS and on
a timer in `tollgate serve`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from tollgate.budgets.outbox import AlertOutbox
from tollgate.clock import Clock
from tollgate.db.models import BudgetCounter
from tollgate.db.repositories.budget_counters import CounterRepository
from tollgate.money import ZERO, format_usd


@dataclass(frozen=True)
class SweepResult:
    released: int
    released_usd: Decimal
    alerts_republished: int

    def as_dict(self) -> dict[str, object]:
        return {
            "released": self.released,
            "released_usd": format_usd(self.released_usd),
            "alerts_republished": self.alerts_republished,
        }


class ReservationSweeper:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, outbox: AlertOutbox, batch: int = 500) -> None:
        self._sessions = sessions
        self._clock = clock
        self._outbox = outbox
        self._batch = batch

    def sweep(self) -> SweepResult:
        released, total = 0, ZERO
        while True:
            count, amount = self._sweep_batch()
            released, total = released + count, total + amount
            if count < self._batch:
                break
        return SweepResult(released, total, self._outbox.republish())

    def _sweep_batch(self) -> tuple[int, Decimal]:
        now = self._clock.now()
        with self._sessions.begin() as session:
            repo = CounterRepository(session)
            expired = repo.take_expired(now, self._batch)
            owed: dict[tuple[object, object], Decimal] = defaultdict(Decimal)
            for held in expired:
                owed[(held.budget_id, held.period_start)] += held.amount_usd
            for (budget_id, period_start), amount in sorted(owed.items(), key=lambda kv: str(kv[0])):
                counter = session.get(BudgetCounter, (budget_id, period_start))
                if counter is None:
                    continue
                repo.apply(
                    workspace_id=counter.workspace_id,
                    budget_id=counter.budget_id,
                    period_start=counter.period_start,
                    spent=ZERO,
                    unreserve=amount,
                    now=now,
                )
            return len(expired), sum((h.amount_usd for h in expired), ZERO)
