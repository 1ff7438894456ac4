"""Budget management: create, replace, soft delete, reset, status and daily history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session, sessionmaker

from tollgate.budgets.reservations import ReservingBudgetGuard
from tollgate.budgets.spec import Action, BudgetSpec, BudgetView, Scope
from tollgate.clock import Clock
from tollgate.db.models import Budget, UsageDaily
from tollgate.db.repositories.alerts import AlertChannelRepository, AlertSentRepository
from tollgate.db.repositories.budget_counters import CounterRepository
from tollgate.db.repositories.budgets import BudgetRepository, to_view
from tollgate.errors import InvalidRequest, NotFound
from tollgate.money import ZERO


@dataclass(frozen=True)
class BudgetStatus:
    budget: BudgetView
    spent_usd: Decimal
    reserved_usd: Decimal
    period_start: datetime
    period_end: datetime | None
    thresholds_crossed: list[Decimal]

    @property
    def remaining_usd(self) -> Decimal:
        return max(ZERO, self.budget.limit_usd - self.spent_usd - self.reserved_usd)


@dataclass(frozen=True)
class DaySpend:
    day: date
    spent_usd: Decimal


class BudgetService:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, guard: ReservingBudgetGuard) -> None:
        self._sessions = sessions
        self._clock = clock
        self._guard = guard

    def create(self, workspace_id: uuid.UUID, spec: BudgetSpec) -> Budget:
        with self._sessions.begin() as session:
            self._check(session, workspace_id, spec)
            row = BudgetRepository(session).add(workspace_id, spec, self._clock.now())
        self._guard.forget(workspace_id)
        return row

    def replace(self, workspace_id: uuid.UUID, budget_id: uuid.UUID, spec: BudgetSpec) -> Budget:
        with self._sessions.begin() as session:
            repo = BudgetRepository(session)
            row = self._get(repo, workspace_id, budget_id)
            self._check(session, workspace_id, spec)
            repo.replace(row, spec, self._clock.now())
        self._guard.forget(workspace_id)
        return row

    def delete(self, workspace_id: uuid.UUID, budget_id: uuid.UUID) -> Budget:
        with self._sessions.begin() as session:
            row = self._get(BudgetRepository(session), workspace_id, budget_id)
            row.deleted_at = self._clock.now()
        self._guard.forget(workspace_id)
        return row

    def get(self, workspace_id: uuid.UUID, budget_id: uuid.UUID) -> Budget:
        with self._sessions() as session:
            return self._get(BudgetRepository(session), workspace_id, budget_id)

    def list_page(self, workspace_id: uuid.UUID, limit: int, after: uuid.UUID | None) -> Sequence[Budget]:
        with self._sessions() as session:
            return BudgetRepository(session).list_page(workspace_id, limit, after)

    def reset(self, workspace_id: uuid.UUID, budget_id: uuid.UUID) -> BudgetStatus:
        """Zero the current period's spend (in-flight reservations stay) and re-arm its alerts."""
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = self._get(BudgetRepository(session), workspace_id, budget_id, for_update=True)
            start, _ = to_view(row).bounds(now)
            CounterRepository(session).reset_spent(row.id, start, now)
            AlertSentRepository(session).forget_period(row.id, start)
        return self.status(workspace_id, budget_id)

    def status(self, workspace_id: uuid.UUID, budget_id: uuid.UUID) -> BudgetStatus:
        with self._sessions() as session:
            view = to_view(self._get(BudgetRepository(session), workspace_id, budget_id))
            return self._status(session, view)

    def status_all(self, workspace_id: uuid.UUID) -> list[BudgetStatus]:
        with self._sessions() as session:
            return [self._status(session, view) for view in BudgetRepository(session).active(workspace_id)]

    def history(self, workspace_id: uuid.UUID, budget_id: uuid.UUID, days: int) -> list[DaySpend]:
        """Spend in the budget's scope per UTC day for the last ``days`` days (from the usage rollup)."""
        today = self._clock.now().date()
        first = today - timedelta(days=days - 1)
        with self._sessions() as session:
            view = to_view(self._get(BudgetRepository(session), workspace_id, budget_id))
            query = (
                select(UsageDaily.day, func.sum(UsageDaily.cost_usd))
                .where(UsageDaily.workspace_id == workspace_id, UsageDaily.day >= first, UsageDaily.day <= today)
                .group_by(UsageDaily.day)
            )
            query = _scope_filter(query, view)
            found = {day: total or ZERO for day, total in session.execute(query).all()}
        return [DaySpend(day, found.get(day, ZERO)) for day in (first + timedelta(days=i) for i in range(days))]

    # -- helpers ------------------------------------------------------------------------------

    def _status(self, session: Session, view: BudgetView) -> BudgetStatus:
        start, end = view.bounds(self._clock.now())
        state = CounterRepository(session).state(view.id, start)
        crossed = sorted(Decimal(t) for t in AlertSentRepository(session).thresholds(view.id, start))
        return BudgetStatus(view, state.spent_usd, state.reserved_usd, start, end, crossed)

    @staticmethod
    def _get(repo: BudgetRepository, workspace_id: uuid.UUID, budget_id: uuid.UUID, for_update: bool = False) -> Budget:
        row = repo.get(workspace_id, budget_id, for_update=for_update)
        if row is None:
            raise NotFound("No such budget")
        return row

    @staticmethod
    def _check(session: Session, workspace_id: uuid.UUID, spec: BudgetSpec) -> None:
        if spec.action is Action.DOWNGRADE and not spec.downgrade_model:
            raise InvalidRequest("body.downgrade_model: required when action is downgrade", code="validation_error")
        if spec.scope is not Scope.WORKSPACE and not spec.scope_value:
            raise InvalidRequest(f"body.scope_value: required for scope {spec.scope.value}", code="validation_error")
        if spec.scope is Scope.WORKSPACE and spec.scope_value:
            raise InvalidRequest("body.scope_value: must be empty for scope workspace", code="validation_error")
        missing = set(spec.channel_ids) - AlertChannelRepository(session).existing_ids(workspace_id, spec.channel_ids)
        if missing:
            raise NotFound(f"No such alert channel: {sorted(str(m) for m in missing)[0]}")


def _scope_filter(query: Any, view: BudgetView) -> Any:
    value = view.scope_value or ""
    if view.scope is Scope.KEY:
        return query.where(UsageDaily.key_id == value)
    if view.scope is Scope.PROVIDER:
        return query.where(UsageDaily.provider == value)
    if view.scope is Scope.MODEL:
        provider, sep, model = value.partition("/")
        if sep:
            return query.where(UsageDaily.provider == provider, UsageDaily.model == model)
        return query.where(UsageDaily.model == value)
    if view.scope is Scope.WORKFLOW:
        return query.where(UsageDaily.workflow == value)
    if view.scope is Scope.AGENT:
        return query.where(UsageDaily.agent == value)
    if view.scope is Scope.USER:
        return query.where(false())  # the daily rollup does not keep end users: history comes from counters only
    return query
