"""Workspaces and gateway keys: create (secret shown once), list, revoke, root key bootstrap."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tollgate.clock import Clock
from tollgate.db.models import GatewayKey, Workspace
from tollgate.db.repositories.gateway_keys import GatewayKeyRepository
from tollgate.db.repositories.workspaces import WorkspaceRepository
from tollgate.errors import NotFound
from tollgate.keys.auth import Authenticator
from tollgate.keys.gateway_keys import generate_key

_WORKSPACE_FIELDS = frozenset({"name", "unpriced_policy", "display_currency"})
KEY_LIMIT_FIELDS = frozenset({"allowed_models", "rpm_limit", "tpm_limit", "max_cost_per_request_usd", "expires_at"})


@dataclass(frozen=True)
class CreatedKey:
    row: GatewayKey
    plaintext: str


class WorkspaceService:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def create(self, name: str, unpriced_policy: str = "block_unpriced") -> Workspace:
        with self._sessions.begin() as session:
            return WorkspaceRepository(session).add(name, unpriced_policy=unpriced_policy)

    def get(self, workspace_id: uuid.UUID) -> Workspace:
        """Raises ``NotFound`` for an unknown id or another workspace's."""
        with self._sessions() as session:
            workspace = WorkspaceRepository(session).get(workspace_id)
        if workspace is None:
            raise NotFound("No such workspace")
        return workspace

    def list_page(self, limit: int, after: uuid.UUID | None) -> Sequence[Workspace]:
        with self._sessions() as session:
            return WorkspaceRepository(session).list_page(limit=limit, after=after)

    def update(self, workspace_id: uuid.UUID, changes: Mapping[str, Any]) -> Workspace:
        """Set ``name``, ``unpriced_policy`` and/or ``display_currency`` (already validated); 404 if unknown."""
        with self._sessions.begin() as session:
            workspace = WorkspaceRepository(session).get(workspace_id)
            if workspace is None:
                raise NotFound("No such workspace")
            for name in _WORKSPACE_FIELDS & changes.keys():
                setattr(workspace, name, changes[name])
        return workspace


class GatewayKeyService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        authenticator: Authenticator,
        on_change: Callable[[uuid.UUID], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._auth = authenticator
        self._on_change = on_change

    def create(
        self, workspace_id: uuid.UUID, name: str, role: str, limits: Mapping[str, Any] | None = None
    ) -> CreatedKey:
        """Create a gateway key; its secret is only in the result. ``limits`` may set the fields of
        :data:`KEY_LIMIT_FIELDS` (validated by the API schema). Raises ``NotFound`` for an unknown workspace."""
        new = generate_key()
        with self._sessions.begin() as session:
            if WorkspaceRepository(session).get(workspace_id) is None:
                raise NotFound("No such workspace")
            row = GatewayKeyRepository(session).add(
                workspace_id=workspace_id,
                public_id=new.public_id,
                secret_hash=new.secret_hash,
                name=name,
                role=role,
                created_at=self._clock.now(),
            )
            for field_name in KEY_LIMIT_FIELDS & (limits or {}).keys():
                setattr(row, field_name, (limits or {})[field_name])
        return CreatedKey(row=row, plaintext=new.plaintext)

    def update(self, workspace_id: uuid.UUID, key_id: uuid.UUID, changes: Mapping[str, Any]) -> GatewayKey:
        """Change a key's ``name`` and limits (None removes a limit); 404 for unknown or other workspaces' keys.

        This instance applies the change at once; other instances within their 5 s caches.
        """
        with self._sessions.begin() as session:
            row = GatewayKeyRepository(session).get(workspace_id, key_id)
            if row is None:
                raise NotFound("No such key")
            for field_name in (KEY_LIMIT_FIELDS | {"name"}) & changes.keys():
                setattr(row, field_name, changes[field_name])
        self._auth.forget(row.public_id)
        if self._on_change is not None:
            self._on_change(row.id)
        return row

    def list_page(self, workspace_id: uuid.UUID, limit: int, after: uuid.UUID | None) -> Sequence[GatewayKey]:
        with self._sessions() as session:
            return GatewayKeyRepository(session).list_page(workspace_id, limit=limit, after=after)

    def revoke(self, workspace_id: uuid.UUID, key_id: uuid.UUID) -> GatewayKey:
        """Raises ``NotFound`` for an unknown id or another workspace's."""
        with self._sessions.begin() as session:
            repo = GatewayKeyRepository(session)
            row = repo.get(workspace_id, key_id)
            if row is None:
                raise NotFound("No such key")
            repo.revoke(workspace_id, key_id, self._clock.now())
            session.refresh(row)
        self._auth.forget(row.public_id)
        return row

    def ensure_root_key(self) -> str | None:
        """Create the local root key on first start; returns its plaintext once, else None."""
        new = generate_key()
        with self._sessions.begin() as session:
            repo = GatewayKeyRepository(session)
            if repo.has_root_key():
                return None
            repo.add(
                workspace_id=None,
                public_id=new.public_id,
                secret_hash=new.secret_hash,
                name="root",
                role="root",
                created_at=self._clock.now(),
            )
        return new.plaintext
