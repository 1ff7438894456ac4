"""Versioned model prices (USD per 1M tokens) and the refresh status singleton."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from tollgate.db.models.base import Base, created_at_column, id_column
from tollgate.db.types import Price, UtcDateTime


class ModelPrice(Base):
    """One version of one source's price for (provider, model); ``effective_to`` NULL means current.

    ``workspace_id`` NULL: a global row (a feed, or root's manual override); set: a workspace
    admin's manual override, applied to that workspace only."""

    __tablename__ = "model_prices"

    id: Mapped[uuid.UUID] = id_column()
    workspace_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), nullable=True)
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    model: Mapped[str] = mapped_column(String(255), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    input_per_1m: Mapped[Decimal] = mapped_column(Price(), nullable=False)
    output_per_1m: Mapped[Decimal] = mapped_column(Price(), nullable=False)
    cache_read_per_1m: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    cache_write_per_1m: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    cache_write_1h_per_1m: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    reasoning_per_1m: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    tier_threshold_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    input_above_tier_per_1m: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    output_above_tier_per_1m: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    cache_read_above_tier_per_1m: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    cache_write_above_tier_per_1m: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    cache_write_1h_above_tier_per_1m: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    max_output_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_input_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_free: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    effective_to: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        Index(
            "uq_model_prices_global_version",
            "provider",
            "model",
            "source",
            "effective_from",
            unique=True,
            sqlite_where=text("workspace_id IS NULL"),
            postgresql_where=text("workspace_id IS NULL"),
        ),
        Index(
            "uq_model_prices_workspace_version",
            "workspace_id",
            "provider",
            "model",
            "source",
            "effective_from",
            unique=True,
            sqlite_where=text("workspace_id IS NOT NULL"),
            postgresql_where=text("workspace_id IS NOT NULL"),
        ),
        Index("ix_model_prices_current", "provider", "model", "effective_to"),
    )


class PricingStatus(Base):
    """Singleton row (id = 1) describing the last refresh of the price feeds."""

    __tablename__ = "pricing_status"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    source_versions: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    model_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_written: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class FxRate(Base):
    """One version of a currency's rate, in units of the currency per 1 USD; ``effective_to`` NULL means current.

    Versioned like prices so a usage record is shown in its display currency at the rate of its time.
    """

    __tablename__ = "fx_rates"

    id: Mapped[uuid.UUID] = id_column()
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    rate_per_usd: Mapped[Decimal] = mapped_column(Price(), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    effective_to: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        UniqueConstraint("currency", "effective_from"),
        Index("ix_fx_rates_currency_current", "currency", "effective_to"),
    )
