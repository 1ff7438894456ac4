"""Provider credentials, always scoped to a workspace. Stores ciphertext as given; never plaintext."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tollgate.db.models import CredentialHealth, ProviderCredential


class CredentialRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, credential: ProviderCredential) -> ProviderCredential:
        self._session.add(credential)
        self._session.flush()
        return credential

    def get(
        self, workspace_id: uuid.UUID, credential_id: uuid.UUID, *, for_update: bool = False
    ) -> ProviderCredential | None:
        query = select(ProviderCredential).where(
            ProviderCredential.id == credential_id, ProviderCredential.workspace_id == workspace_id
        )
        if for_update:
            query = query.with_for_update()
        return self._session.scalars(query).first()

    def by_name(self, workspace_id: uuid.UUID, name: str) -> ProviderCredential | None:
        return self._session.scalars(
            select(ProviderCredential).where(
                ProviderCredential.workspace_id == workspace_id, ProviderCredential.name == name
            )
        ).first()

    def list_page(
        self, workspace_id: uuid.UUID, *, limit: int, after: uuid.UUID | None = None, provider: str | None = None
    ) -> Sequence[ProviderCredential]:
        query = (
            select(ProviderCredential)
            .where(ProviderCredential.workspace_id == workspace_id)
            .order_by(ProviderCredential.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(ProviderCredential.id > after)
        if provider is not None:
            query = query.where(ProviderCredential.provider == provider)
        return self._session.scalars(query).all()

    def active(self, workspace_id: uuid.UUID, provider: str | None = None) -> Sequence[ProviderCredential]:
        """Active credentials with a key, best first: priority asc, then the primary, then oldest."""
        query = select(ProviderCredential).where(
            ProviderCredential.workspace_id == workspace_id,
            ProviderCredential.is_active.is_(True),
            ProviderCredential.key_ciphertext.is_not(None),
        )
        if provider is not None:
            query = query.where(ProviderCredential.provider == provider)
        query = query.order_by(
            ProviderCredential.priority, ProviderCredential.is_primary.desc(), ProviderCredential.created_at
        )
        return self._session.scalars(query).all()

    def clear_primary(self, workspace_id: uuid.UUID, *, except_id: uuid.UUID | None = None) -> None:
        statement = update(ProviderCredential).where(
            ProviderCredential.workspace_id == workspace_id, ProviderCredential.is_primary.is_(True)
        )
        if except_id is not None:
            statement = statement.where(ProviderCredential.id != except_id)
        self._session.execute(statement.values(is_primary=False))

    def set_fields(self, credential: ProviderCredential, values: dict[str, Any]) -> None:
        for name, value in values.items():
            setattr(credential, name, value)
        self._session.flush()

    def delete(self, credential: ProviderCredential) -> None:
        self._session.execute(delete(CredentialHealth).where(CredentialHealth.credential_id == credential.id))
        self._session.delete(credential)
        self._session.flush()
