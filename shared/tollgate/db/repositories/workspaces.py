"""Workspaces (root-managed)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tollgate.db.models import Workspace


class WorkspaceRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, name: str, *, unpriced_policy: str = "block_unpriced") -> Workspace:
        workspace = Workspace(id=uuid.uuid4(), name=name, unpriced_policy=unpriced_policy)
        self._session.add(workspace)
        self._session.flush()
        return workspace

    def get(self, workspace_id: uuid.UUID) -> Workspace | None:
        return self._session.get(Workspace, workspace_id)

    def list_page(self, *, limit: int, after: uuid.UUID | None = None) -> Sequence[Workspace]:
        query = select(Workspace).order_by(Workspace.id).limit(limit)
        if after is not None:
            query = query.where(Workspace.id > after)
        return self._session.scalars(query).all()
