"""An in-memory-keyed CredentialSource for tests: credential rows live in the database (so priority,
is_active, credential_health and /v1/models behave as in production) while plaintext keys are held in
a dict instead of being KMS/local-wrapped (that is the key-custody module's job)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tollgate.db.models import ProviderCredential
from tollgate.providers.base import ProviderTarget


class FakeCredentialSource:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._keys: dict[uuid.UUID, str] = {}

    def add(
        self,
        workspace_id: uuid.UUID,
        provider: str,
        name: str,
        base_url: str,
        api_key: str,
        *,
        priority: int = 100,
        options: dict[str, Any] | None = None,
        default_model: str | None = None,
        rpm_limit: int | None = None,
        is_primary: bool = False,
    ) -> uuid.UUID:
        row = ProviderCredential(
            workspace_id=workspace_id,
            provider=provider,
            name=name,
            base_url=base_url,
            default_model=default_model,
            options=options or {},
            priority=priority,
            is_primary=is_primary,
            is_active=True,
            rpm_limit=rpm_limit,
            key_ciphertext=None,
            key_hint=api_key[-4:],
        )
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            credential_id = row.id
        self._keys[credential_id] = api_key
        return credential_id

    def targets_for(
        self, workspace_id: uuid.UUID, provider: str | None, name: str | None = None
    ) -> list[ProviderTarget]:
        query = select(ProviderCredential).where(
            ProviderCredential.workspace_id == workspace_id, ProviderCredential.is_active.is_(True)
        )
        if provider is not None:
            query = query.where(ProviderCredential.provider == provider)
        if name is not None:
            query = query.where(ProviderCredential.name == name)
        query = query.order_by(
            ProviderCredential.priority, ProviderCredential.is_primary.desc(), ProviderCredential.name
        )
        with self._sessions() as session:
            rows = list(session.scalars(query))
        return [
            ProviderTarget(
                provider=row.provider,
                base_url=row.base_url,
                api_key=self._keys[row.id],
                options=dict(row.options or {}),
                credential_id=row.id,
                credential_name=row.name,
            )
            for row in rows
            if row.id in self._keys
        ]
