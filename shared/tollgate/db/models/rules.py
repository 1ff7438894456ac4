"""Routing rules, guardrail settings and security events (one workspace each)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from tollgate.db.models.base import Base, created_at_column, id_column
from tollgate.db.types import UtcDateTime


class RoutingRuleRow(Base):
    """``match`` and ``action`` are stored as the API spells them (see tollgate.routing.rules)."""

    __tablename__ = "routing_rules"

    id: Mapped[uuid.UUID] = id_column()
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=100)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    match: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    action: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()

    __table_args__ = (Index("ix_routing_rules_ws_priority", "workspace_id", "priority"),)


class GuardrailSettingsRow(Base):
    """``detectors`` maps a detector name to ``{"action": off|warn|redact|block}``; a missing
    detector has its default action (tollgate.guardrails.policy)."""

    __tablename__ = "guardrail_settings"

    id: Mapped[uuid.UUID] = id_column()
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), nullable=False, unique=True)
    detectors: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    scan_responses: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    updated_at: Mapped[datetime] = created_at_column()


class SecurityEvent(Base):
    """One guardrail hit: where and what kind, never the matched text or the prompt."""

    __tablename__ = "security_events"

    id: Mapped[uuid.UUID] = id_column()
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid(), nullable=False)
    request_id: Mapped[str] = mapped_column(String(64), nullable=False)
    detector: Mapped[str] = mapped_column(String(32), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    message_index: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)

    __table_args__ = (Index("ix_security_events_ws_created", "workspace_id", "created_at", "id"),)
