"""Gateway keys. Lookups by public id serve authentication; everything else is tenant-scoped."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tollgate.db.models import GatewayKey


class GatewayKeyRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self,
        *,
        workspace_id: uuid.UUID | None,
        public_id: str,
        secret_hash: str,
        name: str,
        role: str,
        created_at: datetime,
    ) -> GatewayKey:
        key = GatewayKey(
            id=uuid.uuid4(),
            workspace_id=workspace_id,
            public_id=public_id,
            secret_hash=secret_hash,
            name=name,
            role=role,
            created_at=created_at,
        )
        self._session.add(key)
        self._session.flush()
        return key

    def by_public_id(self, public_id: str) -> GatewayKey | None:
        return self._session.scalars(select(GatewayKey).where(GatewayKey.public_id == public_id)).first()

    def get(self, workspace_id: uuid.UUID, key_id: uuid.UUID) -> GatewayKey | None:
        return self._session.scalars(
            select(GatewayKey).where(GatewayKey.id == key_id, GatewayKey.workspace_id == workspace_id)
        ).first()

    def list_page(self, workspace_id: uuid.UUID, *, limit: int, after: uuid.UUID | None = None) -> Sequence[GatewayKey]:
        query = select(GatewayKey).where(GatewayKey.workspace_id == workspace_id).order_by(GatewayKey.id).limit(limit)
        if after is not None:
            query = query.where(GatewayKey.id > after)
        return self._session.scalars(query).all()

    def has_root_key(self) -> bool:
        return (
            self._session.scalars(select(GatewayKey.id).where(GatewayKey.role == "root").limit(1)).first() is not None
        )

    def revoke(self, workspace_id: uuid.UUID, key_id: uuid.UUID, at: datetime) -> bool:
        result = self._session.execute(
            update(GatewayKey)
            .where(GatewayKey.id == key_id, GatewayKey.workspace_id == workspace_id, GatewayKey.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def touch(self, key_id: uuid.UUID, at: datetime) -> None:
        self._session.execute(update(GatewayKey).where(GatewayKey.id == key_id).values(last_used_at=at))
