"""Authenticate gateway keys: hash lookup, constant-time compare, a ≤5 s cache, coarse last-used.

``cached`` answers a recently seen key from memory (the event loop's fast path); ``authenticate``
does the rest, database included (on a worker thread)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from tollgate.clock import Clock
from tollgate.db.repositories.gateway_keys import GatewayKeyRepository
from tollgate.errors import AuthenticationFailed
from tollgate.keys.gateway_keys import key_matches, parse_key, secret_matches

Role = Literal["root", "admin", "member"]


@dataclass(frozen=True)
class Principal:
    role: Role
    workspace_id: uuid.UUID | None
    key_id: uuid.UUID | None

    @property
    def is_root(self) -> bool:
        return self.role == "root"


@dataclass(frozen=True)
class _CachedKey:
    key_id: uuid.UUID
    workspace_id: uuid.UUID | None
    role: Role
    secret_hash: str
    revoked: bool
    expires_at: datetime | None  # the key's own expiry (UTC)
    expires: float  # this cache entry's

    @property
    def principal(self) -> Principal:
        return Principal(role=self.role, workspace_id=self.workspace_id, key_id=self.key_id)

    def refusal(self, secret: str, now: datetime) -> AuthenticationFailed | None:
        """Why a presented ``secret`` may not use this key at ``now`` (UTC), or None when it may: the one
        check both ``Authenticator.authenticate`` (raises it) and ``Authenticator.cached`` (falls back) use."""
        if not secret_matches(secret, self.secret_hash):
            return AuthenticationFailed("Invalid API key")
        if self.revoked:
            return AuthenticationFailed("This API key has been revoked", code="revoked_api_key")
        if self.expires_at is not None and self.expires_at <= now:
            return AuthenticationFailed("This API key has expired", code="expired_api_key")
        return None


class Authenticator:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        *,
        root_key: str | Callable[[bool], str | None] | None = None,
        cache_ttl_s: float = 5.0,
        last_used_resolution_s: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = session_factory
        self._clock = clock
        self._root_key = root_key
        self._ttl = min(cache_ttl_s, 5.0)
        self._touch_every = last_used_resolution_s
        self._cache: dict[str, _CachedKey] = {}
        self._last_touch: dict[uuid.UUID, float] = {}
        self._lock = threading.Lock()
        self._monotonic = monotonic

    def authenticate(self, presented: str | None) -> Principal:
        """The principal behind a presented key. Raises ``AuthenticationFailed`` for a missing, malformed,
        unknown or revoked key."""
        if not presented:
            raise AuthenticationFailed("Missing API key: send 'Authorization: Bearer tg_...'", code="missing_api_key")
        root = self._root(refresh=False)
        if root and key_matches(presented, root):
            return Principal(role="root", workspace_id=None, key_id=None)
        parsed = parse_key(presented)
        if parsed is None:
            raise AuthenticationFailed("Invalid API key")
        cached = self._lookup(parsed.public_id)
        if cached is None and self._rotated_root_matches(presented, root):
            return Principal(role="root", workspace_id=None, key_id=None)
        if cached is None:
            raise AuthenticationFailed("Invalid API key")
        refusal = cached.refusal(parsed.secret, self._clock.now())
        if refusal is not None:
            raise refusal
        self._maybe_touch(cached.key_id)
        return cached.principal

    def cached(self, presented: str | None) -> Principal | None:
        """The principal of a workspace key when this instance can answer from memory alone: a fresh
        cache entry whose secret matches, not revoked or expired, and no last-used write due. None
        in every other case (unknown, stale, failing or root keys): ``authenticate`` then decides.
        Never touches the database or the root key's secret, so it may run on the event loop."""
        parsed = parse_key(presented) if presented else None
        if parsed is None or (isinstance(self._root_key, str) and key_matches(presented or "", self._root_key)):
            return None
        cached = self._cache.get(parsed.public_id)
        now = self._monotonic()
        if cached is None or cached.expires <= now or cached.refusal(parsed.secret, self._clock.now()) is not None:
            return None
        last = self._last_touch.get(cached.key_id)
        if last is None or now - last >= self._touch_every:
            return None
        return cached.principal

    def _root(self, *, refresh: bool) -> str | None:
        source = self._root_key
        return source(refresh) if callable(source) else source

    def _rotated_root_matches(self, presented: str, seen: str | None) -> bool:
        """An unknown key may be a root key rotated since it was read: re-read it (throttled by the reader)."""
        if not callable(self._root_key):
            return False
        fresh = self._root(refresh=True)
        return bool(fresh) and fresh != seen and key_matches(presented, fresh or "")

    def forget(self, public_id: str | None = None) -> None:
        """Drop cached entries (this instance); other instances expire theirs within the TTL."""
        with self._lock:
            if public_id is None:
                self._cache.clear()
            else:
                self._cache.pop(public_id, None)

    def _lookup(self, public_id: str) -> _CachedKey | None:
        now = self._monotonic()
        cached = self._cache.get(public_id)
        if cached is not None and cached.expires > now:
            return cached
        with self._sessions() as session:
            row = GatewayKeyRepository(session).by_public_id(public_id)
            if row is None:
                return None
            cached = _CachedKey(
                key_id=row.id,
                workspace_id=row.workspace_id,
                role=row.role,  # type: ignore[arg-type]
                secret_hash=row.secret_hash,
                revoked=row.revoked_at is not None,
                expires_at=row.expires_at,
                expires=now + self._ttl,
            )
        with self._lock:
            self._cache[public_id] = cached
        return cached

    def _maybe_touch(self, key_id: uuid.UUID) -> None:
        now = self._monotonic()
        last = self._last_touch.get(key_id)
        if last is not None and now - last < self._touch_every:
            return
        self._last_touch[key_id] = now
        with self._sessions.begin() as session:
            GatewayKeyRepository(session).touch(key_id, self._clock.now())
