"""The port between execution and budgets: admit (reserve worst case) before, settle after."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class SpendContext:
    """Everything a budget scope can match on."""

    workspace_id: uuid.UUID
    key_id: uuid.UUID | None
    provider: str
    model: str
    workflow: str | None
    agent: str | None
    request_id: str
    user: str | None = None
    # The size behind the worst-case reservation, named in a 402 (None when the caller does not say).
    prompt_tokens: int | None = None
    output_tokens: int | None = None


@dataclass
class Admission:
    """The outcome of admission: reservations to settle, and a model to switch to (downgrade)."""

    reservations: list[Any] = field(default_factory=list)
    downgrade_model: str | None = None
    remaining_usd: Decimal | None = None
    # The worst case the call was admitted at: what a call cut by its deadline is charged.
    worst_case_usd: Decimal | None = None


class BudgetGuard(Protocol):
    def admit(self, context: SpendContext, worst_case_usd: Decimal, *, allow_downgrade: bool = True) -> Admission:
        """Reserve ``worst_case_usd`` on every matching budget or raise ``BudgetExceeded``."""
        ...

    def settle(self, session: Session, admission: Admission, actual_usd: Decimal) -> None:
        """Replace the reservations with the actual cost, inside the usage-row transaction."""
        ...

    def settle_many(self, session: Session, settlements: Sequence[tuple[Admission, Decimal]]) -> None:
        """``settle`` for several calls (``(admission, actual_usd)`` each) in the same transaction."""
        ...

    def settle_on(
        self, connection: Connection, settlements: Sequence[tuple[Admission, Decimal]]
    ) -> list[dict[str, Any]]:
        """``settle_many`` on a Core connection (the execute hot path); returns the alert messages to
        ``publish`` once the caller's transaction committed."""
        ...

    def publish(self, messages: Sequence[dict[str, Any]]) -> None:
        """Publish what ``settle_on`` returned, after the commit."""
        ...

    def release(self, admission: Admission) -> None:
        """Give the reservations back (the call failed before any cost was incurred)."""
        ...

    def mark_started(self, admission: Admission) -> None:
        """Record durably that the upstream call is about to start (crash safety: the sweeper then
        charges an expired reservation instead of releasing it). Fails closed: raises
        ``ServiceUnavailable`` (after releasing the reservations) when the mark cannot be written."""
        ...

    def mark_started_many(self, admissions: Sequence[Admission]) -> None:
        """``mark_started`` for several calls in one transaction, all or nothing; raises the database
        error (the caller then marks each call alone)."""
        ...
