"""Usage records (one per gateway call) and the daily rollup that keeps summaries fast."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Boolean, Date, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from tollgate.db.models.base import Base, created_at_column, id_column
from tollgate.db.types import Money
from tollgate.usage.latency import COLUMNS as LATENCY_COLUMNS


class UsageRecord(Base):
    __tablename__ = "usage_records"

    id: Mapped[uuid.UUID] = id_column()
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid(), nullable=False)
    request_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), nullable=True)
    credential_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), nullable=True)
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    model: Mapped[str] = mapped_column(String(255), nullable=False)
    requested_model: Mapped[str] = mapped_column(String(255), nullable=False)
    workflow: Mapped[str | None] = mapped_column(String(200), nullable=True)
    agent: Mapped[str | None] = mapped_column(String(200), nullable=True)
    tags: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    error_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    input_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reasoning_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    price_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), nullable=True)
    estimated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    latency_ms: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    upstream_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stream: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    fallback_from: Mapped[str | None] = mapped_column(String(64), nullable=True)
    routing_rule_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), nullable=True)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        Index("ix_usage_records_ws_created", "workspace_id", "created_at", "id"),
        Index("ix_usage_records_ws_key_created", "workspace_id", "key_id", "created_at"),
        Index("ix_usage_records_ws_provider_model", "workspace_id", "provider", "model", "created_at"),
        Index("ix_usage_records_ws_workflow", "workspace_id", "workflow", "created_at"),
        Index("ix_usage_records_ws_agent", "workspace_id", "agent", "created_at"),
        Index("ix_usage_records_ws_rule", "workspace_id", "routing_rule_id", "created_at"),
    )


class UsageDaily(Base):
    """Per-day rollup keyed by every group-by dimension; '' stands for 'none' in key columns.

    ``lat_00`` … ``lat_59`` count requests per latency bucket (tollgate.usage.latency), so p50/p95
    come from the rollup too.
    """

    __tablename__ = "usage_daily"

    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(255), primary_key=True)
    workflow: Mapped[str] = mapped_column(String(200), primary_key=True)
    agent: Mapped[str] = mapped_column(String(200), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    successes: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    failures: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    reasoning_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal(0))
    latency_ms_sum: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    updated_at: Mapped[datetime] = created_at_column()
    # One BigInteger count per latency bucket; declared in a loop (read them through __table__.c).
    locals().update(
        {name: mapped_column(BigInteger, nullable=False, default=0, server_default="0") for name in LATENCY_COLUMNS}
    )

    __table_args__ = (Index("ix_usage_daily_ws_day", "workspace_id", "day"),)
