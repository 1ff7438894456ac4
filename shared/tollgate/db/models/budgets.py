"""Budgets, their per-period counters, in-flight reservations, alerts and alert channels."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from tollgate.db.models.base import Base, created_at_column, id_column
from tollgate.db.types import Money, UtcDateTime


class Budget(Base):
    __tablename__ = "budgets"

    id: Mapped[uuid.UUID] = id_column()
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    scope: Mapped[str] = mapped_column(String(16), nullable=False)
    scope_value: Mapped[str | None] = mapped_column(String(255), nullable=True)
    period: Mapped[str] = mapped_column(String(16), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    limit_usd: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    thresholds: Mapped[list[float]] = mapped_column(JSON, nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    downgrade_model: Mapped[str | None] = mapped_column(String(255), nullable=True)
    channel_ids: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    __table_args__ = (Index("ix_budgets_workspace_active", "workspace_id", "deleted_at"),)


class BudgetCounter(Base):
    """Spend and in-flight reservations of one budget in one calendar period."""

    __tablename__ = "budget_counters"

    budget_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("budgets.id"), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid(), nullable=False)
    spent_usd: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal(0))
    reserved_usd: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal(0))
    updated_at: Mapped[datetime] = created_at_column()


class Reservation(Base):
    __tablename__ = "reservations"

    id: Mapped[uuid.UUID] = id_column()
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid(), nullable=False)
    request_id: Mapped[str] = mapped_column(String(64), nullable=False)
    budget_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("budgets.id"), nullable=False)
    period_start: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    amount_usd: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    # Set (one UPDATE) just before the provider request goes out: from then on the call may cost
    # money, so an expired reservation is charged by the sweeper instead of released (0605).
    upstream_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The call's attribution, so the sweeper can write the interrupted call's usage row.
    key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), nullable=True)
    provider: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model: Mapped[str | None] = mapped_column(String(255), nullable=True)
    workflow: Mapped[str | None] = mapped_column(String(200), nullable=True)
    agent: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (
        Index("ix_reservations_expires_at", "expires_at"),
        Index("ix_reservations_request", "request_id"),
    )


class AlertSent(Base):
    """The unique key makes 'only the inserter sends the alert' hold across concurrent instances."""

    __tablename__ = "alerts_sent"

    id: Mapped[uuid.UUID] = id_column()
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid(), nullable=False)
    budget_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("budgets.id"), nullable=False)
    period_start: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    threshold: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    # Outbox marker: set once the alert is on the queue; the sweeper re-enqueues rows left NULL.
    enqueued_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("budget_id", "period_start", "threshold"),
        Index("ix_alerts_sent_unenqueued", "enqueued_at", "created_at"),
    )


class AlertCooldown(Base):
    """When a channel last got the alert for one (budget, period, threshold), and which alert it was.

    Keyed by period: a new period's alert is never held by the previous period's delivery."""

    __tablename__ = "alert_cooldowns"

    channel_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("alert_channels.id"), primary_key=True)
    budget_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("budgets.id"), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    threshold: Mapped[str] = mapped_column(String(16), primary_key=True)
    alert_id: Mapped[uuid.UUID] = mapped_column(Uuid(), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class AlertChannel(Base):
    __tablename__ = "alert_channels"

    id: Mapped[uuid.UUID] = id_column()
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), nullable=False)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    target: Mapped[str] = mapped_column(String(1000), nullable=False)
    secret_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    last_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
