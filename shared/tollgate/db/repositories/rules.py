"""Routing rules, guardrail settings and security events: tenant-scoped rows and their domain views."""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from tollgate.db.models import GuardrailSettingsRow, RoutingRuleRow, SecurityEvent
from tollgate.routing.rules import ActionType, RoutingRule, RuleAction, RuleMatch


def match_from_json(data: dict[str, Any]) -> RuleMatch:
    key_id = data.get("key_id")
    return RuleMatch(
        model=data.get("model"),
        workflow=data.get("workflow"),
        agent=data.get("agent"),
        tags=tuple(data.get("tags") or ()),
        key_id=uuid.UUID(str(key_id)) if key_id else None,
    )


def action_from_json(data: dict[str, Any]) -> RuleAction:
    return RuleAction(ActionType(data["type"]), tuple(data.get("targets") or ()), data.get("message"))


def to_rule(row: RoutingRuleRow) -> RoutingRule:
    return RoutingRule(
        id=row.id,
        name=row.name,
        priority=row.priority,
        is_active=row.is_active,
        match=match_from_json(row.match or {}),
        action=action_from_json(row.action),
    )


class RoutingRuleRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, workspace_id: uuid.UUID, rule_id: uuid.UUID) -> RoutingRuleRow | None:
        row = self._session.get(RoutingRuleRow, rule_id)
        return row if row is not None and row.workspace_id == workspace_id else None

    def page(
        self, workspace_id: uuid.UUID, limit: int, after: tuple[int, uuid.UUID] | None
    ) -> Sequence[RoutingRuleRow]:
        """Rules in evaluation order (priority, id); ``after`` is the last (priority, id) seen."""
        c = RoutingRuleRow
        query = select(c).where(c.workspace_id == workspace_id)
        if after is not None:
            priority, last_id = after
            query = query.where(or_(c.priority > priority, and_(c.priority == priority, c.id > last_id)))
        return self._session.scalars(query.order_by(c.priority, c.id).limit(limit)).all()

    def all(self, workspace_id: uuid.UUID) -> Sequence[RoutingRuleRow]:
        return self._session.scalars(select(RoutingRuleRow).where(RoutingRuleRow.workspace_id == workspace_id)).all()

    def stamp(self, workspace_id: uuid.UUID) -> tuple[int, datetime | None]:
        c = RoutingRuleRow
        row = self._session.execute(
            select(func.count(), func.max(c.updated_at)).where(c.workspace_id == workspace_id)
        ).one()
        return int(row[0]), row[1]


class DbRuleStore:
    """tollgate.routing.cache.RuleStore over the database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def stamp(self, workspace_id: uuid.UUID) -> Hashable:
        with self._sessions() as session:
            count, newest = RoutingRuleRepository(session).stamp(workspace_id)
        return (count, newest.isoformat() if newest is not None else None)

    def load(self, workspace_id: uuid.UUID) -> list[RoutingRule]:
        with self._sessions() as session:
            return [to_rule(row) for row in RoutingRuleRepository(session).all(workspace_id)]


class GuardrailSettingsRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, workspace_id: uuid.UUID) -> GuardrailSettingsRow | None:
        return self._session.scalars(
            select(GuardrailSettingsRow).where(GuardrailSettingsRow.workspace_id == workspace_id)
        ).one_or_none()

    def put(
        self, workspace_id: uuid.UUID, detectors: dict[str, Any], scan_responses: bool, now: datetime
    ) -> GuardrailSettingsRow:
        row = self.get(workspace_id)
        if row is None:
            row = GuardrailSettingsRow(id=uuid.uuid4(), workspace_id=workspace_id)
            self._session.add(row)
        row.detectors = detectors
        row.scan_responses = scan_responses
        row.updated_at = now
        self._session.flush()
        return row


class SecurityEventRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_all(self, events: Sequence[SecurityEvent]) -> None:
        self._session.add_all(events)

    def page(
        self, workspace_id: uuid.UUID, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> Sequence[SecurityEvent]:
        """Newest first; ``before`` is the last (created_at, id) seen."""
        c = SecurityEvent
        query = select(c).where(c.workspace_id == workspace_id)
        if before is not None:
            at, last_id = before
            query = query.where(or_(c.created_at < at, and_(c.created_at == at, c.id < last_id)))
        return self._session.scalars(query.order_by(c.created_at.desc(), c.id.desc()).limit(limit)).all()
