"""The real ``BudgetGuard``: reserve the worst case before the call, settle or release after.

* ``admit`` runs one transaction: per matching budget (in id order, so concurrent transactions
  lock counters in the same order) one conditional upsert on the period's counter, then the
  durable reservation rows. A ``block`` budget that cannot fit the reservation rolls the whole
  transaction back and raises ``BudgetExceeded``; a ``downgrade`` budget past its threshold rolls
  back and asks the caller to retry with ``downgrade_model``; ``alert_only`` always reserves.
* ``settle`` runs inside the usage-row transaction: it deletes the reservation rows and moves
  the amounts from reserved to spent; thresholds crossed by this settle are claimed in
  ``alerts_sent`` and, after commit, published through the ``AlertOutbox``.
* Any database failure fails closed with ``ServiceUnavailable``.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tollgate.budgets.guard import Admission, SpendContext
from tollgate.budgets.outbox import AlertOutbox, alert_message
from tollgate.budgets.spec import Action, BudgetView, crossed, threshold_key
from tollgate.clock import Clock
from tollgate.db.repositories.alerts import AlertSentRepository
from tollgate.db.repositories.budget_counters import CounterRepository, CounterState
from tollgate.db.repositories.budgets import BudgetRepository
from tollgate.errors import BudgetExceeded, ServiceUnavailable
from tollgate.money import ZERO, format_usd
from tollgate.observability import logger

UNAVAILABLE = "Budgets cannot be checked right now (database unreachable); the request was refused"


@dataclass(frozen=True)
class Reserved:
    """One reservation row held by an admitted request."""

    id: uuid.UUID
    budget: BudgetView
    period_start: datetime
    period_end: datetime | None
    amount_usd: Decimal


class _Downgrade(Exception):  # noqa: N818 - control flow, never escapes this module
    def __init__(self, model: str) -> None:
        super().__init__(model)
        self.model = model


class ReservingBudgetGuard:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        outbox: AlertOutbox,
        *,
        reservation_ttl_s: float,
        cache_ttl_s: float = 2.0,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._outbox = outbox
        self._ttl = timedelta(seconds=reservation_ttl_s)
        self._cache_ttl_s = cache_ttl_s
        self._cache: dict[uuid.UUID, tuple[float, list[BudgetView]]] = {}
        self._lock = threading.Lock()

    # -- budget list cache --------------------------------------------------------------------

    def active_budgets(self, workspace_id: uuid.UUID) -> list[BudgetView]:
        """The workspace's active budgets, cached for ``cache_ttl_s`` (the reserve itself is never cached).

        Raises ``ServiceUnavailable`` when the database cannot be read (fail closed)."""
        now = time.monotonic()
        cached = self._cache.get(workspace_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            with self._sessions() as session:
                budgets = BudgetRepository(session).active(workspace_id)
        except SQLAlchemyError as exc:
            logger.exception("budget lookup failed")
            raise ServiceUnavailable(UNAVAILABLE) from exc
        with self._lock:
            self._cache[workspace_id] = (now + self._cache_ttl_s, budgets)
        return budgets

    def forget(self, workspace_id: uuid.UUID) -> None:
        with self._lock:
            self._cache.pop(workspace_id, None)

    # -- admit --------------------------------------------------------------------------------

    def admit(self, context: SpendContext, worst_case_usd: Decimal, *, allow_downgrade: bool = True) -> Admission:
        """Reserve ``worst_case_usd`` on every matching budget.

        Raises ``BudgetExceeded`` when a ``block`` budget cannot fit it (nothing stays reserved) and
        ``ServiceUnavailable`` when the database cannot be reached (fail closed)."""
        budgets = [b for b in self.active_budgets(context.workspace_id) if b.matches(context)]
        if not budgets:
            return Admission(worst_case_usd=worst_case_usd)
        now = self._clock.now()
        try:
            with self._sessions.begin() as session:
                return self._reserve(
                    session, budgets, context, worst_case_usd, allow_downgrade=allow_downgrade, now=now
                )
        except _Downgrade as switch:
            return Admission(downgrade_model=switch.model, worst_case_usd=worst_case_usd)
        except SQLAlchemyError as exc:
            logger.exception("budget reservation failed")
            raise ServiceUnavailable(UNAVAILABLE) from exc

    def _reserve(
        self,
        session: Session,
        budgets: list[BudgetView],
        context: SpendContext,
        amount: Decimal,
        *,
        allow_downgrade: bool,
        now: datetime,
    ) -> Admission:
        repo = CounterRepository(session)
        ordered = sorted(budgets, key=lambda b: b.id)  # one lock order for every request: no deadlocks
        held = [Reserved(uuid.uuid4(), b, *b.bounds(now), amount) for b in ordered]
        # The reservation rows go in first: nobody else contends for them. The counter rows are the hot
        # ones (every request on a budget updates the same row), so their locks are taken last and held
        # only until the commit, one round trip less than inserting the reservations after them. A refusal
        # below rolls the whole transaction back, reservation rows included.
        repo.add_reservations(
            [
                {
                    "id": r.id,
                    "workspace_id": context.workspace_id,
                    "request_id": context.request_id,
                    "budget_id": r.budget.id,
                    "period_start": r.period_start,
                    "amount_usd": r.amount_usd,
                    "created_at": now,
                    "expires_at": now + self._ttl,
                    "key_id": context.key_id,
                    "provider": context.provider,
                    "model": context.model,
                    "workflow": context.workflow,
                    "agent": context.agent,
                }
                for r in held
            ]
        )
        remaining: Decimal | None = None
        for reserved in held:
            budget, start, end = reserved.budget, reserved.period_start, reserved.period_end
            ceiling = self._ceiling(budget, context, allow_downgrade)
            state = repo.reserve(
                workspace_id=budget.workspace_id,
                budget_id=budget.id,
                period_start=start,
                amount=amount,
                ceiling=ceiling,
                now=now,
            )
            if state is None:
                if budget.action is Action.DOWNGRADE and budget.downgrade_model:
                    raise _Downgrade(budget.downgrade_model)
                raise _exceeded(budget, repo.state(budget.id, start), end, amount, context)
            left = max(ZERO, budget.limit_usd - state.spent_usd - state.reserved_usd)
            remaining = left if remaining is None else min(remaining, left)
        return Admission(reservations=list(held), remaining_usd=remaining, worst_case_usd=amount)

    @staticmethod
    def _ceiling(budget: BudgetView, context: SpendContext, allow_downgrade: bool) -> Decimal | None:
        if budget.action is Action.BLOCK:
            return budget.limit_usd
        if budget.action is Action.DOWNGRADE and allow_downgrade and budget.downgrade_model:
            current = (context.model, f"{context.provider}/{context.model}")
            return None if budget.downgrade_model in current else budget.downgrade_at
        return None

    # -- upstream started ---------------------------------------------------------------------

    def mark_started(self, admission: Admission) -> None:
        """Durably note that the provider call is about to go out (one UPDATE, own transaction).

        From here on the call may cost money: if the process dies before the settle, the sweeper
        charges the reservation as an ``estimated`` usage row instead of releasing it. Fails
        closed: when the mark cannot be written the reservations are released and
        ``ServiceUnavailable`` is raised, so no call goes out that a crash could lose from spend.
        """
        held: list[Reserved] = admission.reservations
        if not held:
            return
        try:
            with self._sessions.begin() as session:
                CounterRepository(session).mark_started((r.id for r in held), self._clock.now())
        except SQLAlchemyError as exc:
            logger.exception("could not mark a reservation started")
            self.release(admission)
            raise ServiceUnavailable(UNAVAILABLE) from exc

    # -- settle / release ---------------------------------------------------------------------

    def settle(self, session: Session, admission: Admission, actual_usd: Decimal) -> None:
        held: list[Reserved] = admission.reservations
        if not held:
            return
        now = self._clock.now()
        repo = CounterRepository(session)
        alerts = AlertSentRepository(session)
        taken = repo.take_reservations(r.id for r in held)
        messages: list[dict[str, Any]] = []
        for reserved in held:
            budget = reserved.budget
            state = repo.apply(
                workspace_id=budget.workspace_id,
                budget_id=budget.id,
                period_start=reserved.period_start,
                spent=actual_usd,
                unreserve=reserved.amount_usd if reserved.id in taken else ZERO,
                now=now,
            )
            before = state.spent_usd - actual_usd
            for threshold in crossed(budget.thresholds, budget.limit_usd, before, state.spent_usd):
                alert_id = alerts.claim(
                    budget.workspace_id, budget.id, reserved.period_start, threshold_key(threshold), now
                )
                if alert_id is not None:  # only the inserter enqueues
                    messages.append(
                        alert_message(
                            alert_id,
                            budget,
                            threshold=threshold,
                            spent_usd=state.spent_usd,
                            period_start=reserved.period_start,
                            period_end=reserved.period_end,
                        )
                    )
        if messages:
            event.listen(session, "after_commit", lambda _s: self._outbox.publish(messages), once=True)

    def release(self, admission: Admission) -> None:
        held: list[Reserved] = admission.reservations
        if not held:
            return
        try:
            with self._sessions.begin() as session:
                repo = CounterRepository(session)
                taken = repo.take_reservations(r.id for r in held)
                for reserved in held:
                    if reserved.id in taken:
                        repo.apply(
                            workspace_id=reserved.budget.workspace_id,
                            budget_id=reserved.budget.id,
                            period_start=reserved.period_start,
                            spent=ZERO,
                            unreserve=reserved.amount_usd,
                            now=self._clock.now(),
                        )
        except SQLAlchemyError:  # the sweeper releases it once it expires
            logger.exception("could not release a reservation; the sweeper will")


def exceeded_message(budget: BudgetView, state: CounterState, amount: Decimal, context: SpendContext) -> str:
    """The 402 text: the real cause is this request's worst-case reservation, so it comes first,
    with what it is made of and how to shrink it (``max_tokens``)."""
    size = ""
    if context.prompt_tokens is not None and context.output_tokens is not None:
        size = f" (~{context.prompt_tokens} prompt tokens + up to {context.output_tokens} output tokens)"
    left = max(ZERO, budget.limit_usd - state.spent_usd - state.reserved_usd)
    return (
        f"Budget '{budget.name}' cannot fit this request: its worst-case reservation is "
        f"{format_usd(amount)} USD{size}, but only {format_usd(left)} USD is left "
        f"(limit {format_usd(budget.limit_usd)} USD, spent {format_usd(state.spent_usd)} USD, "
        f"reserved by calls in flight {format_usd(state.reserved_usd)} USD). "
        "Set max_tokens (or max_completion_tokens) lower to reserve less."
    )


def _exceeded(
    budget: BudgetView, state: CounterState, period_end: datetime | None, amount: Decimal, context: SpendContext
) -> BudgetExceeded:
    return BudgetExceeded(
        exceeded_message(budget, state, amount, context),
        details={
            "budget_id": str(budget.id),
            "limit_usd": format_usd(budget.limit_usd),
            "spent_usd": format_usd(state.spent_usd),
            "reserved_usd": format_usd(state.reserved_usd),
            "reservation_usd": format_usd(amount),
            "period_end": period_end.isoformat() if period_end else None,
        },
    )
