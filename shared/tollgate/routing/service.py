"""Routing rules CRUD for a workspace. Every change invalidates this process's rule cache; other
instances see it within the cache's revalidation interval (tollgate.routing.cache)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tollgate.clock import Clock
from tollgate.db.models import RoutingRuleRow
from tollgate.db.repositories.rules import RoutingRuleRepository
from tollgate.errors import NotFound
from tollgate.routing.rules import RuleAction, RuleMatch


@dataclass(frozen=True)
class RuleSpec:
    name: str
    priority: int
    is_active: bool
    match: RuleMatch
    action: RuleAction


def match_json(match: RuleMatch) -> dict[str, Any]:
    """The stored (and API) shape of a match: only the conditions that are set."""
    out: dict[str, Any] = {}
    for name in ("model", "workflow", "agent"):
        value = getattr(match, name)
        if value is not None:
            out[name] = value
    if match.tags:
        out["tags"] = list(match.tags)
    if match.key_id is not None:
        out["key_id"] = str(match.key_id)
    return out


def action_json(action: RuleAction) -> dict[str, Any]:
    if action.targets:
        return {"type": action.type.value, "targets": list(action.targets)}
    return {"type": action.type.value, "message": action.message or ""}


class RoutingRuleService:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock, on_change: Callable[[uuid.UUID], None] | None = None
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._on_change = on_change or (lambda _ws: None)

    def create(self, workspace_id: uuid.UUID, spec: RuleSpec) -> RoutingRuleRow:
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = RoutingRuleRow(id=uuid.uuid4(), workspace_id=workspace_id, created_at=now)
            _apply(row, spec, now)
            session.add(row)
            session.flush()
            session.expunge(row)
        self._on_change(workspace_id)
        return row

    def list_page(
        self, workspace_id: uuid.UUID, limit: int, after: tuple[int, uuid.UUID] | None
    ) -> Sequence[RoutingRuleRow]:
        with self._sessions() as session:
            rows = RoutingRuleRepository(session).page(workspace_id, limit, after)
            session.expunge_all()
        return rows

    def get(self, workspace_id: uuid.UUID, rule_id: uuid.UUID) -> RoutingRuleRow:
        with self._sessions() as session:
            row = _found(RoutingRuleRepository(session).get(workspace_id, rule_id))
            session.expunge(row)
        return row

    def replace(self, workspace_id: uuid.UUID, rule_id: uuid.UUID, spec: RuleSpec) -> RoutingRuleRow:
        with self._sessions.begin() as session:
            row = _found(RoutingRuleRepository(session).get(workspace_id, rule_id))
            _apply(row, spec, self._clock.now())
            session.flush()
            session.expunge(row)
        self._on_change(workspace_id)
        return row

    def delete(self, workspace_id: uuid.UUID, rule_id: uuid.UUID) -> RoutingRuleRow:
        with self._sessions.begin() as session:
            row = _found(RoutingRuleRepository(session).get(workspace_id, rule_id))
            session.delete(row)
            session.flush()
            session.expunge(row)
        self._on_change(workspace_id)
        return row


def _apply(row: RoutingRuleRow, spec: RuleSpec, now: Any) -> None:
    row.name = spec.name
    row.priority = spec.priority
    row.is_active = spec.is_active
    row.match = match_json(spec.match)
    row.action = action_json(spec.action)
    row.updated_at = now


def _found(row: RoutingRuleRow | None) -> RoutingRuleRow:
    if row is None:
        raise NotFound("No such routing rule", code="routing_rule_not_found")
    return row
