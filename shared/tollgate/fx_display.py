"""Amounts in a workspace's display currency, next to the USD truth.

Where a workspace has ``display_currency``, reads also show ``display_currency`` and ``*_display``
amounts: ``cost_display`` of a usage record converts with the rate effective at the record's
``created_at``; budget status, summaries and alerts convert with the rate effective now. Amounts are
``Decimal`` (USD × rate per USD), rendered like USD amounts (plain decimal string, at most 12
decimals, no trailing zeros). Without a rate for the time asked (none stored yet, or a record older
than the first rate) the display amount is ``null`` — never a guess.
"""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tollgate.clock import ensure_utc
from tollgate.db.models import FxRate, Workspace
from tollgate.money import format_usd


@dataclass(frozen=True)
class DisplayCurrency:
    """One currency's rate versions, loaded once per request; conversions are in memory."""

    currency: str
    starts: tuple[datetime, ...]
    rates: tuple[Decimal, ...]

    def rate_at(self, when: datetime) -> Decimal | None:
        if self.currency == "USD":
            return Decimal(1)
        index = bisect_right(self.starts, ensure_utc(when)) - 1
        return self.rates[index] if index >= 0 else None

    def amount(self, usd: Decimal | None, when: datetime) -> Decimal | None:
        rate = self.rate_at(when)
        return None if usd is None or rate is None else usd * rate

    def text(self, usd: Decimal | None, when: datetime) -> str | None:
        """The display amount as a decimal string (None when there is no rate for ``when``)."""
        value = self.amount(usd, when)
        return None if value is None else format_usd(value)


def load_display(session: Session, workspace_id: uuid.UUID) -> DisplayCurrency | None:
    """The workspace's display currency with its rate history, or None when it has none."""
    currency = session.scalar(select(Workspace.display_currency).where(Workspace.id == workspace_id))
    if not currency:
        return None
    rows = session.execute(
        select(FxRate.effective_from, FxRate.rate_per_usd)
        .where(FxRate.currency == currency)
        .order_by(FxRate.effective_from)
    ).all()
    return DisplayCurrency(currency, tuple(ensure_utc(r[0]) for r in rows), tuple(r[1] for r in rows))


def display_fields(
    display: DisplayCurrency | None, amounts: Mapping[str, Decimal | None], when: datetime
) -> dict[str, str | None]:
    """``{"display_currency": ..., "<name>_display": ...}`` for each USD amount (``spent_usd`` → ``spent_display``);
    all None when the workspace has no display currency."""
    fields: dict[str, str | None] = {"display_currency": display.currency if display else None}
    for name, usd in amounts.items():
        key = name.removesuffix("_usd") + "_display"
        fields[key] = display.text(usd, when) if display is not None else None
    return fields


def alert_display(
    session: Session, workspace_id: uuid.UUID, payload: Mapping[str, object], now: datetime
) -> dict[str, str | None]:
    """Display fields of a budget alert payload (``spent_display``, ``limit_display`` at the rate now);
    empty when the workspace has no display currency."""
    display = load_display(session, workspace_id)
    if display is None:
        return {}
    amounts = {
        name: Decimal(str(payload[name])) for name in ("spent_usd", "limit_usd") if payload.get(name) is not None
    }
    return display_fields(display, amounts, now)
