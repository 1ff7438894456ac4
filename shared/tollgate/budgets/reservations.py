"""The real ``BudgetGuard``: reserve the worst case before the call, settle or release after.

* ``admit`` runs one transaction: the durable reservation rows, then per matching budget (in id
  order, so concurrent transactions lock counters in the same order) one conditional upsert on
  the period's counter. Admissions submitted at the same time by several threads share one
  transaction (``budgets.admission.reserve_group``: one lock per counter for the whole group,
  each call still checked in order against the limit). ``mark_started_many`` marks several
  calls in one UPDATE (the execute path groups marks on its event loop). A ``block`` budget
  that cannot fit the reservation refuses the call with ``BudgetExceeded`` (nothing of it stays
  reserved); a ``downgrade`` budget past its threshold asks the caller to retry with
  ``downgrade_model``; ``alert_only`` always reserves.
* ``settle`` runs inside the usage-row transaction: it deletes the reservation rows and moves
  the amounts from reserved to spent; thresholds crossed by this settle are claimed in
  ``alerts_sent`` and, after commit, published through the ``AlertOutbox``.
* The execute path's transactions (admit, mark, ``settle_on``, release) run on SQLAlchemy Core
  connections with statements built once: no ORM session per call.
* Any database failure fails closed with ``ServiceUnavailable``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tollgate.budgets.admission import (
    AdmitRequest,
    Downgrade,
    Reserved,
    ceiling,
    exceeded,
    reservation_rows,
    reserve_group,
)
from tollgate.budgets.guard import Admission, SpendContext
from tollgate.budgets.outbox import AlertOutbox, alert_message
from tollgate.budgets.spec import Action, BudgetView, crossed, threshold_key
from tollgate.clock import Clock
from tollgate.db.batch import Batcher
from tollgate.db.engine import engine_of, one_statement
from tollgate.db.repositories.alerts import AlertSentRepository
from tollgate.db.repositories.budget_counters import CounterRepository
from tollgate.db.repositories.budgets import BudgetRepository
from tollgate.errors import ServiceUnavailable
from tollgate.money import ZERO
from tollgate.observability import logger

UNAVAILABLE = "Budgets cannot be checked right now (database unreachable); the request was refused"


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
        self._engine = engine_of(sessions)  # the hot-path transactions run on Core connections
        self._clock = clock
        self._outbox = outbox
        self._ttl = timedelta(seconds=reservation_ttl_s)
        self._cache_ttl_s = cache_ttl_s
        self._cache: dict[uuid.UUID, tuple[float, list[BudgetView]]] = {}
        self._lock = threading.Lock()
        self._admissions: Batcher[AdmitRequest, Admission] = Batcher(self._admit_group, self._admit_one)

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
        """Reserve ``worst_case_usd`` on every matching budget. Calls admitted at the same time from
        several threads are reserved in one transaction (``reserve_group``), checked in order.

        Raises ``BudgetExceeded`` when a ``block`` budget cannot fit it (nothing stays reserved) and
        ``ServiceUnavailable`` when the database cannot be reached (fail closed)."""
        budgets = [b for b in self.active_budgets(context.workspace_id) if b.matches(context)]
        if not budgets:
            return Admission(worst_case_usd=worst_case_usd)
        request = AdmitRequest(budgets, context, worst_case_usd, allow_downgrade, self._clock.now())
        return self._admissions.submit(request)

    def _admit_group(self, requests: Sequence[AdmitRequest]) -> list[Admission | Exception]:
        """Several admissions in ONE transaction (a database error fails the group; the batcher
        then admits each alone)."""
        with self._engine.begin() as connection:
            return reserve_group(connection, list(requests), self._ttl)

    def _admit_one(self, request: AdmitRequest) -> Admission:
        try:
            with self._engine.begin() as connection:
                return self._reserve(connection, request)
        except Downgrade as switch:
            return Admission(downgrade_model=switch.model, worst_case_usd=request.amount)
        except SQLAlchemyError as exc:
            logger.exception("budget reservation failed")
            raise ServiceUnavailable(UNAVAILABLE) from exc

    def _reserve(self, connection: Connection, request: AdmitRequest) -> Admission:
        """One call alone: one conditional upsert per budget (three statements for one budget)."""
        repo = CounterRepository(connection)
        context, amount, now = request.context, request.amount, request.now
        held = request.held()  # budget id order: one lock order for every request, no deadlocks
        # The reservation rows go in first: nobody else contends for them. The counter rows are the hot
        # ones (every request on a budget updates the same row), so their locks are taken last and held
        # only until the commit, one round trip less than inserting the reservations after them. A refusal
        # below rolls the whole transaction back, reservation rows included.
        repo.add_reservations(reservation_rows(request, held, self._ttl))
        remaining: Decimal | None = None
        for reserved in held:
            budget, start, end = reserved.budget, reserved.period_start, reserved.period_end
            state = repo.reserve(
                workspace_id=budget.workspace_id,
                budget_id=budget.id,
                period_start=start,
                amount=amount,
                ceiling=ceiling(budget, context, request.allow_downgrade),
                now=now,
            )
            if state is None:
                if budget.action is Action.DOWNGRADE and budget.downgrade_model:
                    raise Downgrade(budget.downgrade_model)
                raise exceeded(budget, repo.state(budget.id, start), end, amount, context)
            left = max(ZERO, budget.limit_usd - state.spent_usd - state.reserved_usd)
            remaining = left if remaining is None else min(remaining, left)
        return Admission(reservations=list(held), remaining_usd=remaining, worst_case_usd=amount)

    # -- upstream started ---------------------------------------------------------------------

    def mark_started(self, admission: Admission) -> None:
        """Durably note that the provider call is about to go out (one UPDATE in its own transaction).

        From here on the call may cost money: if the process dies before the settle, the sweeper
        charges the reservation as an ``estimated`` usage row instead of releasing it. Fails
        closed: when the mark cannot be written the reservations are released and
        ``ServiceUnavailable`` is raised, so no call goes out that a crash could lose from spend.
        Calls marked at the same time share one transaction through ``mark_started_many`` (the
        execute path groups them on its event loop, ``execution.outcomes``).
        """
        held: list[Reserved] = admission.reservations
        if not held:
            return
        try:
            with one_statement(self._engine) as connection:
                CounterRepository(connection).mark_started((r.id for r in held), self._clock.now())
        except SQLAlchemyError as exc:
            logger.exception("could not mark a reservation started")
            self.release(admission)
            raise ServiceUnavailable(UNAVAILABLE) from exc

    def mark_started_many(self, admissions: Sequence[Admission]) -> None:
        """``mark_started`` for several calls in ONE transaction (one UPDATE), all or nothing: on a
        failure nothing is marked and the error propagates (the caller then marks each alone, which
        fails closed per call)."""
        ids = [r.id for admission in admissions for r in admission.reservations]
        if ids:
            with one_statement(self._engine) as connection:  # one UPDATE: autocommit on PostgreSQL
                CounterRepository(connection).mark_started(ids, self._clock.now())

    # -- settle / release ---------------------------------------------------------------------

    def settle(self, session: Session, admission: Admission, actual_usd: Decimal) -> None:
        self.settle_many(session, [(admission, actual_usd)])

    def settle_many(self, session: Session, settlements: Sequence[tuple[Admission, Decimal]]) -> None:
        """``settle_on`` inside an ORM session's transaction; crossed thresholds are published once
        the session commits."""
        messages = self.settle_on(session.connection(), settlements)
        if messages:
            event.listen(session, "after_commit", lambda _s: self._outbox.publish(messages), once=True)

    def settle_on(
        self, connection: Connection, settlements: Sequence[tuple[Admission, Decimal]]
    ) -> list[dict[str, Any]]:
        """Settle several calls inside ``connection``'s (group-commit) transaction: one DELETE of
        their reservation rows, then one update per counter with the sums (counters in budget id
        order, like admissions). A threshold crossed by the group is claimed once. The group settles
        what the same settles one after the other would: a reservation row listed twice (the same
        admission settled twice) is taken and given back once.

        Returns the alert messages of thresholds this group claimed: the caller hands them to
        ``publish`` AFTER its commit (never before: a rolled-back claim must not alert)."""
        pairs = [(r, actual) for admission, actual in settlements for r in admission.reservations]
        if not pairs:
            return []
        now = self._clock.now()
        repo = CounterRepository(connection)
        taken = repo.take_reservations(r.id for r, _ in pairs)
        sums: dict[tuple[uuid.UUID, datetime], tuple[Reserved, Decimal, Decimal]] = {}
        for reserved, actual in pairs:
            key = (reserved.budget.id, reserved.period_start)
            _, spent, unreserve = sums.get(key, (reserved, ZERO, ZERO))
            back = reserved.amount_usd if reserved.id in taken else ZERO
            taken.discard(reserved.id)  # a row gives its amount back once (an admission settled twice)
            sums[key] = (reserved, spent + actual, unreserve + back)
        messages: list[dict[str, Any]] = []
        for key in sorted(sums):
            reserved, spent, unreserve = sums[key]
            budget = reserved.budget
            state = repo.apply(
                workspace_id=budget.workspace_id,
                budget_id=budget.id,
                period_start=reserved.period_start,
                spent=spent,
                unreserve=unreserve,
                now=now,
            )
            before = state.spent_usd - spent
            for threshold in crossed(budget.thresholds, budget.limit_usd, before, state.spent_usd):
                with Session(bind=connection) as session:  # rare: a threshold crossed
                    alert_id = AlertSentRepository(session).claim(
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
        return messages

    def publish(self, messages: Sequence[dict[str, Any]]) -> None:
        """Publish the alert messages ``settle_on`` returned, once their transaction committed."""
        if messages:
            self._outbox.publish(messages)

    def release(self, admission: Admission) -> None:
        held: list[Reserved] = admission.reservations
        if not held:
            return
        try:
            with self._engine.begin() as connection:
                repo = CounterRepository(connection)
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
