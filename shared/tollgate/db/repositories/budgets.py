"""Budget rows: tenant-scoped CRUD (soft delete) and the active list the guard caches."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tollgate.budgets.periods import Period
from tollgate.budgets.spec import Action, BudgetSpec, BudgetView, Scope
from tollgate.db.models import Budget


def to_view(row: Budget) -> BudgetView:
    return BudgetView(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        scope=Scope(row.scope),
        scope_value=row.scope_value,
        period=Period(row.period),
        timezone=row.timezone,
        limit_usd=row.limit_usd,
        thresholds=tuple(Decimal(str(t)) for t in row.thresholds),
        action=Action(row.action),
        downgrade_model=row.downgrade_model,
        channel_ids=tuple(uuid.UUID(c) for c in row.channel_ids),
    )


def _apply(row: Budget, spec: BudgetSpec) -> None:
    row.name = spec.name
    row.scope = spec.scope.value
    row.scope_value = spec.scope_value
    row.period = spec.period.value
    row.timezone = spec.timezone
    row.limit_usd = spec.limit_usd
    row.thresholds = [float(t) for t in spec.thresholds]
    row.action = spec.action.value
    row.downgrade_model = spec.downgrade_model
    row.channel_ids = [str(c) for c in spec.channel_ids]


class BudgetRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, workspace_id: uuid.UUID, spec: BudgetSpec, now: datetime) -> Budget:
        row = Budget(id=uuid.uuid4(), workspace_id=workspace_id, created_at=now, updated_at=now)
        _apply(row, spec)
        self._session.add(row)
        self._session.flush()
        return row

    def replace(self, row: Budget, spec: BudgetSpec, now: datetime) -> Budget:
        _apply(row, spec)
        row.updated_at = now
        self._session.flush()
        return row

    def get(self, workspace_id: uuid.UUID, budget_id: uuid.UUID, *, for_update: bool = False) -> Budget | None:
        query = select(Budget).where(
            Budget.workspace_id == workspace_id, Budget.id == budget_id, Budget.deleted_at.is_(None)
        )
        if for_update:
            query = query.with_for_update()
        return self._session.scalars(query).first()

    def list_page(self, workspace_id: uuid.UUID, limit: int, after: uuid.UUID | None) -> Sequence[Budget]:
        query = select(Budget).where(Budget.workspace_id == workspace_id, Budget.deleted_at.is_(None))
        if after is not None:
            query = query.where(Budget.id > after)
        return self._session.scalars(query.order_by(Budget.id).limit(limit)).all()

    def active(self, workspace_id: uuid.UUID) -> list[BudgetView]:
        rows = self._session.scalars(
            select(Budget).where(Budget.workspace_id == workspace_id, Budget.deleted_at.is_(None)).order_by(Budget.id)
        ).all()
        return [to_view(r) for r in rows]

    def by_ids(self, budget_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, BudgetView]:
        if not budget_ids:
            return {}
        rows = self._session.scalars(select(Budget).where(Budget.id.in_(list(budget_ids)))).all()
        return {r.id: to_view(r) for r in rows}
