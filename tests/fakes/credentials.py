"""An in-memory-keyed CredentialSource for tests: credential rows live in the database (so priority,
is_active, credential_health and /v1/models behave as in production) while plaintext keys are held in
a dict instead of being KMS/local-wrapped (that is the key-custody module's job)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tollgate.db.models import ProviderCredential
from tollgate.providers.base import ProviderTarget


class FakeCredentialSource:
    def __init__(self, sessions: sessionmaker[Session], cache_ttl_s: float = 0.0) -> None:
        self._sessions = sessions
        self._keys: dict[uuid.UUID, str] = {}
        self._ttl = cache_ttl_s  # the benchmark caches like a production source would (decrypted-key TTL)
        self._cache: dict[tuple[uuid.UUID, str | None, str | None], tuple[list[ProviderTarget], float]] = {}

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
        key = (workspace_id, provider, name)
        hit = self._cache.get(key)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        targets = self._load(workspace_id, provider, name)
        if self._ttl > 0:
            self._cache[key] = (targets, time.monotonic() + self._ttl)
        return targets

    def _load(self, workspace_id: uuid.UUID, provider: str | None, name: str | None) -> list[ProviderTarget]:
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
