"""Reserving the worst case of calls on their budget counters: one call, or a group of calls in ONE
transaction (``reserve_group``).

Rules (the same for both ways, so a group admits exactly what the same calls admitted one after
the other would):

* a call's budgets are taken in budget id order (one lock order for everyone: no deadlocks);
* a ``block`` budget admits when ``spent + reserved + amount <= limit``; a ``downgrade`` budget
  (while downgrading is allowed and the call is not already on its downgrade model) when it stays
  at or under its threshold, else the call is asked to switch to ``downgrade_model``;
  ``alert_only`` always reserves;
* a call refused by one of its budgets reserves nothing on any of them.

``reserve_group`` locks each counter the group touches once (in budget id order), checks the calls
in submission order against the running totals, and adds what it admitted in one update per
counter: N admissions cost one lock acquisition and one commit per counter instead of N. Because
the counter rows stay locked until the commit, a concurrent transaction (another thread, another
``--workers`` process) sees either none or all of the group, so a ``block`` budget is never
overspent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from tollgate.budgets.guard import Admission, SpendContext
from tollgate.budgets.spec import Action, BudgetView
from tollgate.db.repositories.budget_counters import CounterRepository, CounterState
from tollgate.errors import BudgetExceeded
from tollgate.money import ZERO, format_usd


@dataclass(frozen=True)
class Reserved:
    """One reservation row held by an admitted request."""

    id: uuid.UUID
    budget: BudgetView
    period_start: datetime
    period_end: datetime | None
    amount_usd: Decimal


@dataclass(frozen=True)
class AdmitRequest:
    """One call to admit: its matching budgets, context, worst case and clock reading."""

    budgets: list[BudgetView]
    context: SpendContext
    amount: Decimal
    allow_downgrade: bool
    now: datetime

    def held(self) -> list[Reserved]:
        """The reservations this call would hold, in budget id order."""
        ordered = sorted(self.budgets, key=lambda b: b.id)
        return [Reserved(uuid.uuid4(), b, *b.bounds(self.now), self.amount) for b in ordered]


class Downgrade(Exception):  # noqa: N818 - control flow: the caller retries with ``model``
    def __init__(self, model: str) -> None:
        super().__init__(model)
        self.model = model


def ceiling(budget: BudgetView, context: SpendContext, allow_downgrade: bool) -> Decimal | None:
    """The most ``spent + reserved`` may reach with this call admitted; None: no ceiling."""
    if budget.action is Action.BLOCK:
        return budget.limit_usd
    if budget.action is Action.DOWNGRADE and allow_downgrade and budget.downgrade_model:
        current = (context.model, f"{context.provider}/{context.model}")
        return None if budget.downgrade_model in current else budget.downgrade_at
    return None


def reservation_rows(request: AdmitRequest, held: list[Reserved], ttl: timedelta) -> list[dict[str, Any]]:
    context, now = request.context, request.now
    return [
        {
            "id": r.id,
            "workspace_id": context.workspace_id,
            "request_id": context.request_id,
            "budget_id": r.budget.id,
            "period_start": r.period_start,
            "amount_usd": r.amount_usd,
            "created_at": now,
            "expires_at": now + ttl,
            "key_id": context.key_id,
            "provider": context.provider,
            "model": context.model,
            "workflow": context.workflow,
            "agent": context.agent,
        }
        for r in held
    ]


def reserve_group(
    db: Session | Connection, requests: list[AdmitRequest], ttl: timedelta
) -> list[Admission | Exception]:
    """Admit ``requests`` in order inside ``db``'s transaction (the caller commits).

    Returns per request its ``Admission`` (``downgrade_model`` set when it must switch model) or the
    ``BudgetExceeded`` it is refused with. Database errors propagate (nothing of the group is kept
    once the caller rolls back)."""
    repo = CounterRepository(db)
    helds = [request.held() for request in requests]
    # Reservation rows first (nobody contends for them); the hot counter locks are taken after.
    rows = [row for req, held in zip(requests, helds, strict=True) for row in reservation_rows(req, held, ttl)]
    repo.add_reservations(rows)
    states: dict[tuple[uuid.UUID, datetime], CounterState] = {}
    now = max(request.now for request in requests)
    counters = {(r.budget.id, r.period_start): r.budget for held in helds for r in held}
    for (budget_id, start), budget in sorted(counters.items(), key=lambda item: item[0]):
        states[(budget_id, start)] = repo.lock(
            workspace_id=budget.workspace_id, budget_id=budget_id, period_start=start, now=now
        )
    added: dict[tuple[uuid.UUID, datetime], Decimal] = {}
    outcomes: list[Admission | Exception] = []
    refused: list[uuid.UUID] = []
    for request, held in zip(requests, helds, strict=True):
        outcome = _check(request, held, states)
        if isinstance(outcome, Admission) and outcome.reservations:
            for r in held:
                key = (r.budget.id, r.period_start)
                state = states[key]
                states[key] = CounterState(state.spent_usd, state.reserved_usd + r.amount_usd)
                added[key] = added.get(key, ZERO) + r.amount_usd
        else:
            refused.extend(r.id for r in held)
        outcomes.append(outcome)
    repo.drop_reservations(refused)
    repo.add_reserved([(budget_id, start, amount) for (budget_id, start), amount in sorted(added.items())], now)
    return outcomes


def _check(
    request: AdmitRequest, held: list[Reserved], states: dict[tuple[uuid.UUID, datetime], CounterState]
) -> Admission | Exception:
    """Whether ``request`` fits every budget at the running ``states`` (not updated here)."""
    context, amount = request.context, request.amount
    remaining: Decimal | None = None
    for reserved in held:
        budget = reserved.budget
        state = states[(budget.id, reserved.period_start)]
        limit = ceiling(budget, context, request.allow_downgrade)
        if limit is not None and (amount > limit or state.spent_usd + state.reserved_usd + amount > limit):
            if budget.action is Action.DOWNGRADE and budget.downgrade_model:
                return Admission(downgrade_model=budget.downgrade_model, worst_case_usd=amount)
            return exceeded(budget, state, reserved.period_end, amount, context)
        left = max(ZERO, budget.limit_usd - state.spent_usd - state.reserved_usd - amount)
        remaining = left if remaining is None else min(remaining, left)
    return Admission(reservations=list(held), remaining_usd=remaining, worst_case_usd=amount)


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


def exceeded(
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
