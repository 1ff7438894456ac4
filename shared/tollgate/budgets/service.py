"""Budget management: create, replace, soft delete, reset, status and daily history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session, sessionmaker

from tollgate.budgets.reservations import ReservingBudgetGuard
from tollgate.budgets.scopes import normalize_scope_value, rule_for
from tollgate.budgets.spec import Action, BudgetSpec, BudgetView
from tollgate.clock import Clock
from tollgate.db.models import Budget, GatewayKey, UsageDaily, UsageRecord
from tollgate.db.repositories.alerts import AlertChannelRepository, AlertSentRepository
from tollgate.db.repositories.budget_counters import CounterRepository
from tollgate.db.repositories.budgets import BudgetRepository, to_view
from tollgate.errors import InvalidRequest, NotFound
from tollgate.money import ZERO
from tollgate.providers.registry import PROVIDER_NAMES, unknown_provider_message, unknown_provider_of

KNOWN_PROVIDERS = PROVIDER_NAMES


@dataclass(frozen=True)
class BudgetStatus:
    budget: BudgetView
    spent_usd: Decimal
    reserved_usd: Decimal
    period_start: datetime
    period_end: datetime | None
    thresholds_crossed: list[Decimal]
    thresholds_notified: list[Decimal]
    thresholds_pending: list[Decimal]

    @property
    def remaining_usd(self) -> Decimal:
        return max(ZERO, self.budget.limit_usd - self.spent_usd - self.reserved_usd)


@dataclass(frozen=True)
class DaySpend:
    day: date
    spent_usd: Decimal


class BudgetService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        guard: ReservingBudgetGuard,
        known_providers: frozenset[str] = KNOWN_PROVIDERS,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._guard = guard
        self._known_providers = known_providers

    def create(self, workspace_id: uuid.UUID, spec: BudgetSpec) -> Budget:
        """Create a budget. Its current period starts with the spend already recorded in usage rows
        of its scope (thresholds that spend already passed do not alert). Raises ``InvalidRequest``
        (a scope value that is invalid or could never match, named) and ``NotFound`` (channel)."""
        now = self._clock.now()
        with self._sessions.begin() as session:
            spec = self._check(session, workspace_id, spec)
            row = BudgetRepository(session).add(workspace_id, spec, now)
            self._seed_spend(session, to_view(row))
        self._guard.forget(workspace_id)
        return row

    def replace(self, workspace_id: uuid.UUID, budget_id: uuid.UUID, spec: BudgetSpec) -> Budget:
        """Replace a budget; a changed scope, period or timezone recounts the period's spend."""
        now = self._clock.now()
        with self._sessions.begin() as session:
            repo = BudgetRepository(session)
            row = self._get(repo, workspace_id, budget_id, for_update=True)
            spec = self._check(session, workspace_id, spec)
            before = to_view(row)
            repo.replace(row, spec, now)
            after = to_view(row)
            if (before.scope, before.scope_value, before.period, before.timezone) != (
                after.scope,
                after.scope_value,
                after.period,
                after.timezone,
            ):
                CounterRepository(session).reset_spent(row.id, after.bounds(now)[0], now)
                self._seed_spend(session, after)
        self._guard.forget(workspace_id)
        return row

    def _seed_spend(self, session: Session, view: BudgetView) -> None:
        now = self._clock.now()
        start, _ = view.bounds(now)
        query = select(func.sum(UsageRecord.cost_usd)).where(
            UsageRecord.workspace_id == view.workspace_id,
            UsageRecord.created_at >= start,
            UsageRecord.created_at <= now,
        )
        columns = rule_for(view.scope).usage(view.scope_value or "")
        if columns is None:  # usage rows do not keep this scope's value (end users): start from zero
            return
        for column, value in columns:
            query = query.where(getattr(UsageRecord, column) == value)
        spent = session.scalar(query) or ZERO
        if spent > ZERO:
            CounterRepository(session).apply(
                workspace_id=view.workspace_id,
                budget_id=view.id,
                period_start=start,
                spent=spent,
                unreserve=ZERO,
                now=now,
            )

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
        alerts = AlertSentRepository(session)
        crossed = sorted(Decimal(t) for t in alerts.thresholds(view.id, start))
        notified = sorted(Decimal(t) for t in alerts.notified(view.id, start))
        pending = [t for t in crossed if t not in notified] if view.channel_ids else []
        return BudgetStatus(view, state.spent_usd, state.reserved_usd, start, end, crossed, notified, pending)

    @staticmethod
    def _get(repo: BudgetRepository, workspace_id: uuid.UUID, budget_id: uuid.UUID, for_update: bool = False) -> Budget:
        row = repo.get(workspace_id, budget_id, for_update=for_update)
        if row is None:
            raise NotFound("No such budget")
        return row

    def _check(self, session: Session, workspace_id: uuid.UUID, spec: BudgetSpec) -> BudgetSpec:
        """``spec`` with its scope value normalized (``budgets.scopes``). Raises ``InvalidRequest``
        naming the field, ``NotFound`` for an unknown alert channel."""
        if spec.action is Action.DOWNGRADE and not spec.downgrade_model:
            raise InvalidRequest("body.downgrade_model: required when action is downgrade", code="validation_error")
        unknown = unknown_provider_of(spec.downgrade_model or "", self._known_providers)
        if unknown is not None:  # the execute path would refuse every downgraded call (400 unknown_model)
            message = unknown_provider_message(unknown, self._known_providers)
            raise InvalidRequest(f"body.downgrade_model: {message}", code="validation_error")
        check = _WorkspaceCheck(session, workspace_id, self._known_providers)
        value = normalize_scope_value(spec.scope, spec.scope_value, check)
        missing = set(spec.channel_ids) - AlertChannelRepository(session).existing_ids(workspace_id, spec.channel_ids)
        if missing:
            raise NotFound(f"No such alert channel: {sorted(str(m) for m in missing)[0]}")
        return replace(spec, scope_value=value)


@dataclass(frozen=True)
class _WorkspaceCheck:
    session: Session
    workspace_id: uuid.UUID
    known_providers: frozenset[str]

    def key_exists(self, key_id: uuid.UUID) -> bool:
        found = self.session.scalar(
            select(GatewayKey.id).where(GatewayKey.id == key_id, GatewayKey.workspace_id == self.workspace_id)
        )
        return found is not None


def _scope_filter(query: Any, view: BudgetView) -> Any:
    """``query`` on the daily rollup narrowed to the budget's scope (``budgets.scopes``); a scope the
    rollup does not keep (``user``) matches no day, so its history comes from its counters only."""
    columns = rule_for(view.scope).usage(view.scope_value or "")
    if columns is None:
        return query.where(false())
    for column, value in columns:
        query = query.where(getattr(UsageDaily, column) == (str(value) if column == "key_id" else value))
    return query
