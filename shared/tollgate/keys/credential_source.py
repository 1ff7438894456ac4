"""The database-backed ``CredentialSource``: active credentials of a workspace, decrypted, best first.

Decrypted targets are cached in memory for at most 5 s (``key_cache_ttl_s``), so a rotation,
deactivation or deletion made on another instance is seen within that time; changes made through
this instance drop the workspace's entries at once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from tollgate.db.models import ProviderCredential
from tollgate.db.repositories.credentials import CredentialRepository
from tollgate.keys.credentials import decrypt_target
from tollgate.keys.wrapping import KeyUnwrapError, KeyWrapper
from tollgate.observability import logger
from tollgate.providers.base import ProviderTarget

MAX_TTL_S = 5.0
_CacheKey = tuple[uuid.UUID, str | None, str | None]


class DbCredentialSource:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        wrapper: Callable[[], KeyWrapper],
        *,
        ttl_s: float = MAX_TTL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._wrapper = wrapper  # built on first decrypt, so mock-only traffic never loads a master key
        self._ttl = min(ttl_s, MAX_TTL_S)
        self._monotonic = monotonic
        self._cache: dict[_CacheKey, tuple[float, list[ProviderTarget]]] = {}
        self._lock = threading.Lock()

    def targets_for(
        self, workspace_id: uuid.UUID, provider: str | None, name: str | None = None
    ) -> list[ProviderTarget]:
        key = (workspace_id, provider, name)
        now = self._monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return list(cached[1])
        targets = self._load(workspace_id, provider, name)
        with self._lock:
            self._cache[key] = (now + self._ttl, targets)
        return list(targets)

    def invalidate(self, workspace_id: uuid.UUID | None = None) -> None:
        with self._lock:
            if workspace_id is None:
                self._cache.clear()
            else:
                for key in [k for k in self._cache if k[0] == workspace_id]:
                    del self._cache[key]

    def _load(self, workspace_id: uuid.UUID, provider: str | None, name: str | None) -> list[ProviderTarget]:
        with self._sessions() as session:
            rows = list(CredentialRepository(session).active(workspace_id, provider))
        if name is not None:
            rows = [r for r in rows if r.name == name]
        if provider is None:  # a bare model id: the primary first, then the rest by priority
            rows.sort(key=lambda r: not r.is_primary)
        return self._decrypt_all(rows)

    def _decrypt_all(self, rows: Sequence[ProviderCredential]) -> list[ProviderTarget]:
        if not rows:
            return []
        targets: list[ProviderTarget] = []
        failed = 0
        wrapper = self._wrapper()
        for row in rows:
            try:
                targets.append(decrypt_target(wrapper, row))
            except KeyUnwrapError:
                failed += 1
                logger.error("stored credential could not be decrypted", credential_id=str(row.id))
        if failed and not targets:
            raise KeyUnwrapError("Stored provider keys could not be decrypted; check the key backend configuration")
        return targets
