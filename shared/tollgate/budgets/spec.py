"""Budget vocabulary shared by the service, the guard and the API: scopes, actions, specs, views."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from tollgate.budgets.guard import SpendContext
from tollgate.budgets.periods import Period, period_bounds
from tollgate.budgets.scopes import Scope, rule_for

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Action",
    "BudgetSpec",
    "BudgetView",
    "Scope",
    "crossed",
    "threshold_key",
]

DEFAULT_THRESHOLDS = (Decimal("0.5"), Decimal("0.75"), Decimal("0.9"), Decimal("1.0"))


class Action(StrEnum):
    ALERT_ONLY = "alert_only"
    BLOCK = "block"
    DOWNGRADE = "downgrade"


@dataclass(frozen=True)
class BudgetSpec:
    """What a caller asks for; validated by the API schema and by ``BudgetService``."""

    name: str
    scope: Scope
    scope_value: str | None
    period: Period
    timezone: str
    limit_usd: Decimal
    thresholds: tuple[Decimal, ...] = DEFAULT_THRESHOLDS
    action: Action = Action.ALERT_ONLY
    downgrade_model: str | None = None
    channel_ids: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True)
class BudgetView:
    """An immutable snapshot of an active budget, cheap to cache and to match on the hot path."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    scope: Scope
    scope_value: str | None
    period: Period
    timezone: str
    limit_usd: Decimal
    thresholds: tuple[Decimal, ...]
    action: Action
    downgrade_model: str | None
    channel_ids: tuple[uuid.UUID, ...] = field(default=())

    def matches(self, context: SpendContext) -> bool:
        """Whether a request is in scope (``budgets.scopes``; an unknown scope raises ``LookupError``)."""
        return rule_for(self.scope).matches(self.scope_value, context)

    def bounds(self, now: datetime) -> tuple[datetime, datetime | None]:
        return period_bounds(self.period, self.timezone, now)

    @property
    def downgrade_at(self) -> Decimal:
        """Spend (USD) above which a ``downgrade`` budget switches model: its highest threshold ≤ 100%."""
        eligible = [t for t in self.thresholds if t <= 1] or [Decimal(1)]
        return self.limit_usd * max(eligible)


def threshold_key(threshold: Decimal) -> str:
    """The canonical spelling stored in ``alerts_sent.threshold`` ("0.75", "1")."""
    text = format(threshold.normalize(), "f")
    return text


def crossed(thresholds: tuple[Decimal, ...], limit: Decimal, before: Decimal, after: Decimal) -> list[Decimal]:
    """Thresholds whose amount lies in ``(before, after]``: crossed by a spend going before → after."""
    return [t for t in thresholds if before < limit * t <= after]
