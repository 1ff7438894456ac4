"""Settle reservations that outlived their call (a crashed, killed or timed-out request) and
re-publish alerts whose enqueue never happened. Runs on EventBridge every 5 minutes on AWS and on
a timer in `tollgate serve`.

Rule (crash safety): a call whose upstream request started is never lost from spend. An expired
reservation with ``upstream_started_at`` set is **charged**: the request gets one usage row with
``status="interrupted"``, ``estimated=true`` and ``cost_usd`` = the reserved worst case, and each
of its budget counters moves that amount from reserved to spent. Only reservations whose upstream
call never started are **released** (reserved given back, nothing spent). A reservation expires
only after the longest a call can run (reservation TTL = function timeout + margin, and every call
has a deadline shorter than that), so the request that held it is gone; if it comes back anyway,
its usage row collides with the sweeper's on ``request_id`` and its transaction rolls back, so the
call is never counted twice.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tollgate.budgets.outbox import AlertOutbox
from tollgate.clock import Clock
from tollgate.db.models import BudgetCounter, UsageRecord
from tollgate.db.repositories.budget_counters import CounterRepository, Held
from tollgate.db.repositories.usage import UsageRepository
from tollgate.money import ZERO, format_usd
from tollgate.observability import logger

INTERRUPTED_STATUS = "interrupted"
INTERRUPTED_ERROR = "upstream_interrupted"


@dataclass(frozen=True)
class SweepResult:
    released: int
    released_usd: Decimal
    alerts_republished: int
    charged: int = 0  # requests charged as interrupted usage rows
    charged_usd: Decimal = ZERO

    def as_dict(self) -> dict[str, object]:
        return {
            "released": self.released,
            "released_usd": format_usd(self.released_usd),
            "charged": self.charged,
            "charged_usd": format_usd(self.charged_usd),
            "alerts_republished": self.alerts_republished,
        }


@dataclass
class _Batch:
    requests: int = 0
    released: int = 0
    released_usd: Decimal = ZERO
    charged: int = 0
    charged_usd: Decimal = ZERO


class ReservationSweeper:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, outbox: AlertOutbox, batch: int = 500) -> None:
        self._sessions = sessions
        self._clock = clock
        self._outbox = outbox
        self._batch = batch

    def sweep(self) -> SweepResult:
        """Settle every expired reservation (in batches of ``batch`` requests), then republish alerts."""
        total = _Batch()
        while True:
            done = self._sweep_batch()
            total.released += done.released
            total.released_usd += done.released_usd
            total.charged += done.charged
            total.charged_usd += done.charged_usd
            if done.requests < self._batch:
                break
        if total.charged or total.released:
            logger.warning(
                "sweeper settled expired reservations",
                extra={
                    "charged": total.charged,
                    "charged_usd": format_usd(total.charged_usd),
                    "released": total.released,
                    "released_usd": format_usd(total.released_usd),
                },
            )
        return SweepResult(
            total.released, total.released_usd, self._outbox.republish(), total.charged, total.charged_usd
        )

    def _sweep_batch(self) -> _Batch:
        now = self._clock.now()
        batch = _Batch()
        with self._sessions.begin() as session:
            repo = CounterRepository(session)
            expired = repo.take_expired(now, self._batch)
            by_request: dict[str, list[Held]] = defaultdict(list)
            for held in expired:
                by_request[held.request_id].append(held)
            batch.requests = len(by_request)
            # (budget, period) -> (spent, unreserve)
            moves: dict[tuple[uuid.UUID, datetime], tuple[Decimal, Decimal]] = defaultdict(lambda: (ZERO, ZERO))
            for _request, rows in sorted(by_request.items()):
                started = any(h.started for h in rows)
                charge = max(h.amount_usd for h in rows) if started else ZERO
                if started:
                    batch.charged += 1
                    batch.charged_usd += charge
                    self._write_interrupted_row(session, rows, charge, now)
                else:
                    batch.released += len(rows)
                    batch.released_usd += sum((h.amount_usd for h in rows), ZERO)
                for held in rows:
                    spent, unreserve = moves[(held.budget_id, held.period_start)]
                    moves[(held.budget_id, held.period_start)] = (
                        spent + (held.amount_usd if started else ZERO),
                        unreserve + held.amount_usd,
                    )
            # counters in key order, like admit, so concurrent transactions lock them in the same order
            for (budget_id, period_start), (spent, unreserve) in sorted(moves.items(), key=lambda kv: str(kv[0])):
                counter = session.get(BudgetCounter, (budget_id, period_start))
                if counter is None:
                    continue
                repo.apply(
                    workspace_id=counter.workspace_id,
                    budget_id=budget_id,
                    period_start=period_start,
                    spent=spent,
                    unreserve=unreserve,
                    now=now,
                )
        return batch

    @staticmethod
    def _write_interrupted_row(session: Session, rows: list[Held], charge: Decimal, now: datetime) -> None:
        """One ``estimated`` usage row for a request whose call started and never settled."""
        first = rows[0]
        exists = session.scalar(select(UsageRecord.id).where(UsageRecord.request_id == first.request_id))
        if exists is not None or first.workspace_id is None:
            return
        model = first.model or "unknown"
        started_at = next((h.upstream_started_at for h in rows if h.upstream_started_at), now)
        UsageRepository(session).add(
            UsageRecord(
                id=uuid.uuid4(),
                workspace_id=first.workspace_id,
                request_id=first.request_id,
                key_id=first.key_id,
                provider=first.provider or "unknown",
                model=model,
                requested_model=model,
                workflow=first.workflow,
                agent=first.agent,
                tags=[],
                status=INTERRUPTED_STATUS,
                error_type=INTERRUPTED_ERROR,
                cost_usd=charge,
                estimated=True,
                latency_ms=0,
                stream=False,
                created_at=started_at,
            )
        )
