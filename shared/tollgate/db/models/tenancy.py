"""Workspaces, gateway keys, provider credentials and their health."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tollgate.db.models.base import Base, created_at_column, id_column
from tollgate.db.types import Money, UtcDateTime


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    unpriced_policy: Mapped[str] = mapped_column(String(20), nullable=False, default="block_unpriced")
    # ISO 4217 code amounts are also shown in (USD stays the stored truth); None: USD only.
    display_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    store_prompts: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = created_at_column()


class GatewayKey(Base):
    """A caller's key. Only the SHA-256 of the secret part is stored. Root keys have no workspace."""

    __tablename__ = "gateway_keys"

    id: Mapped[uuid.UUID] = id_column()
    workspace_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workspaces.id"), nullable=True)
    public_id: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Limits (all optional; see tollgate.keys.limits): globs on "provider/model", per-minute caps,
    # a per-request worst-case cap in USD and an expiry.
    allowed_models: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    rpm_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tpm_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_cost_per_request_usd: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    __table_args__ = (Index("ix_gateway_keys_workspace", "workspace_id", "created_at"),)


class KeyRateWindow(Base):
    """A gateway key's current one-minute window: requests admitted and tokens used, shared by every instance."""

    __tablename__ = "key_rate_windows"

    key_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("gateway_keys.id", ondelete="CASCADE"), primary_key=True
    )
    window_start: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    requests: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    tokens: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class ProviderCredential(Base):
    """A workspace's provider API key, stored only as aws-encryption-sdk ciphertext."""

    __tablename__ = "provider_credentials"

    id: Mapped[uuid.UUID] = id_column()
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    base_url: Mapped[str] = mapped_column(String(500), nullable=False)
    default_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=100)
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    rpm_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # custom only: models are priced at an explicit zero (source "free"), e.g. a local Ollama
    free: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    # custom only: the model ids POST /v1/credentials/{id}/discover read from the server
    models: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    key_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    key_hint: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        Index(
            "uq_provider_credentials_one_primary",
            "workspace_id",
            unique=True,
            sqlite_where=text("is_primary = 1"),
            postgresql_where=text("is_primary"),
        ),
    )


class CredentialHealth(Base):
    """Cooldown and request-rate state shared by every gateway instance."""

    __tablename__ = "credential_health"

    credential_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("provider_credentials.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid(), nullable=False)
    cooldown_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_failure_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    rpm_window_start: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    rpm_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Written at most once a minute per process, and at once on recovery.
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Claim marker of the provider.failover alert: one per cooldown window across instances.
    failover_alerted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
