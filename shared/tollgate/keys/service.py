"""Workspaces and gateway keys: create (secret shown once), list, revoke, root key bootstrap."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from tollgate.clock import Clock
from tollgate.db.models import GatewayKey, Workspace
from tollgate.db.repositories.gateway_keys import GatewayKeyRepository
from tollgate.db.repositories.workspaces import WorkspaceRepository
from tollgate.errors import NotFound
from tollgate.keys.auth import Authenticator
from tollgate.keys.gateway_keys import generate_key


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


class GatewayKeyService:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, authenticator: Authenticator) -> None:
        self._sessions = sessions
        self._clock = clock
        self._auth = authenticator

    def create(self, workspace_id: uuid.UUID, name: str, role: str) -> CreatedKey:
        """Create a gateway key; its secret is only in the result. Raises ``NotFound`` for an unknown workspace."""
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
        return CreatedKey(row=row, plaintext=new.plaintext)

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
