"""Provider credentials: create, read, change, rotate and delete, with the key wrapped at rest.

Rules: one primary per workspace (cleared on the old primary in the same transaction; a partial
unique index is the final guard), unique names per workspace, validated base URLs, the options the
provider registry requires (Yandex ``options.folder_id``). The plaintext key exists only in the
arguments of ``create``/``rotate``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tollgate.clock import Clock
from tollgate.db.models import ProviderCredential
from tollgate.db.repositories.credential_health import CredentialHealthRepository
from tollgate.db.repositories.credentials import CredentialRepository
from tollgate.errors import Conflict, InvalidRequest, NotFound
from tollgate.keys.base_url import resolve_base_url
from tollgate.keys.redaction import mask_key
from tollgate.keys.wrapping import KeyWrapper, credential_context
from tollgate.providers.base import ProviderTarget
from tollgate.providers.health_status import HealthStatus, health_status
from tollgate.providers.registry import find_provider

UNSET: Any = object()


@dataclass(frozen=True)
class CredentialSpec:
    provider: str
    name: str
    api_key: str = field(repr=False)
    base_url: str | None = None
    default_model: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 100
    is_primary: bool = False
    is_active: bool = True
    free: bool = False


def check_free(provider: str, free: bool | None) -> None:
    """Raises ``InvalidRequest`` when ``free`` is set on a provider that is not self-hosted
    (registry ``self_hosted``: custom)."""
    spec = find_provider(provider)
    if free and (spec is None or not spec.self_hosted):
        raise InvalidRequest("body.free: only custom credentials (local servers) can be free", code="validation_error")


def check_options(provider: str, options: Mapping[str, Any]) -> None:
    """Raises ``InvalidRequest`` when one of the provider's ``required_options`` (registry; Yandex
    ``folder_id``) is missing or blank."""
    spec = find_provider(provider)
    for option in spec.required_options if spec is not None else ():
        if not str(options.get(option) or "").strip():
            raise InvalidRequest(f"body.options.{option}: required for provider '{provider}'", code="validation_error")


class CredentialService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        wrapper: KeyWrapper,
        clock: Clock,
        *,
        allow_local_network: bool,
        on_change: Callable[[uuid.UUID], None] = lambda _ws: None,
    ) -> None:
        self._sessions = sessions
        self._wrapper = wrapper
        self._clock = clock
        self._allow_local = allow_local_network
        self._on_change = on_change

    # --- reads -------------------------------------------------------------------------------

    def get(self, workspace_id: uuid.UUID, credential_id: uuid.UUID) -> ProviderCredential:
        """Raises ``NotFound`` for an unknown id or another workspace's."""
        with self._sessions() as session:
            row = CredentialRepository(session).get(workspace_id, credential_id)
        if row is None:
            raise NotFound("No such credential")
        return row

    def list_page(self, workspace_id: uuid.UUID, limit: int, after: uuid.UUID | None) -> Sequence[ProviderCredential]:
        with self._sessions() as session:
            return CredentialRepository(session).list_page(workspace_id, limit=limit, after=after)

    def health(self, workspace_id: uuid.UUID, credential_id: uuid.UUID) -> HealthStatus:
        """The credential's shared health (see tollgate.providers.health_status); 404 for other workspaces'."""
        self.get(workspace_id, credential_id)
        with self._sessions() as session:
            row = CredentialHealthRepository(session).get(credential_id)
        return health_status(row, self._clock.now())

    def discover(
        self, workspace_id: uuid.UUID, credential_id: uuid.UUID, list_models: Callable[[ProviderTarget], list[str]]
    ) -> ProviderCredential:
        """Read a custom server's model list (``list_models``) and store it on the credential.

        Raises InvalidRequest (``discover_unsupported``) for other providers; upstream failures propagate.
        """
        row = self.get(workspace_id, credential_id)
        spec = find_provider(row.provider)
        if spec is None or not spec.self_hosted:
            raise InvalidRequest(
                "Only custom credentials (Ollama, vLLM, LM Studio, ...) can discover models; "
                f"{row.provider} models are listed from the price feeds",
                code="discover_unsupported",
            )
        models = list_models(self.target_for(workspace_id, credential_id))
        with self._write(workspace_id) as session:
            repo = CredentialRepository(session)
            fresh = repo.get(workspace_id, credential_id, for_update=True)
            if fresh is None:
                raise NotFound("No such credential")
            repo.set_fields(fresh, {"models": models, "updated_at": self._clock.now()})
        return fresh

    def target_for(self, workspace_id: uuid.UUID, credential_id: uuid.UUID) -> ProviderTarget:
        """The decrypted target of one stored credential (for ``test``), whether active or not.

        Raises ``NotFound`` (unknown id), ``InvalidRequest`` (``no_key``) and ``KeyUnwrapError``."""
        row = self.get(workspace_id, credential_id)
        if row.key_ciphertext is None:
            raise InvalidRequest("This credential has no key; rotate one in first", code="no_key")
        return decrypt_target(self._wrapper, row)

    def target_for_spec(self, spec: CredentialSpec) -> ProviderTarget:
        """A target for a credential that is not saved yet (test before save)."""
        base_url = resolve_base_url(spec.provider, spec.base_url, allow_local_network=self._allow_local)
        check_options(spec.provider, spec.options)
        return ProviderTarget(spec.provider, base_url, spec.api_key, dict(spec.options), None, spec.name)

    # --- writes ------------------------------------------------------------------------------

    def create(self, workspace_id: uuid.UUID, spec: CredentialSpec) -> ProviderCredential:
        """Store a new credential with its key encrypted. Raises ``Conflict`` when the name is taken (or
        another change won the race) and ``InvalidRequest`` for bad options or base URL."""
        base_url = resolve_base_url(spec.provider, spec.base_url, allow_local_network=self._allow_local)
        check_options(spec.provider, spec.options)
        check_free(spec.provider, spec.free)
        credential_id = uuid.uuid4()
        now = self._clock.now()
        row = ProviderCredential(
            id=credential_id,
            workspace_id=workspace_id,
            provider=spec.provider,
            name=spec.name,
            base_url=base_url,
            default_model=spec.default_model,
            options=dict(spec.options),
            priority=spec.priority,
            is_primary=spec.is_primary,
            is_active=spec.is_active,
            free=spec.free,
            key_ciphertext=self._wrap(workspace_id, credential_id, spec.api_key),
            key_hint=mask_key(spec.api_key),
            created_at=now,
            updated_at=now,
        )
        with self._write(workspace_id) as session:
            repo = CredentialRepository(session)
            if repo.by_name(workspace_id, spec.name) is not None:
                raise _name_taken(spec.name)
            if spec.is_primary:
                repo.clear_primary(workspace_id)
            repo.add(row)
        return row

    def update(
        self, workspace_id: uuid.UUID, credential_id: uuid.UUID, changes: Mapping[str, Any]
    ) -> ProviderCredential:
        """Apply a PATCH. ``changes`` holds only the fields the caller sent; ``api_key`` rotates.

        Raises ``NotFound``, ``InvalidRequest`` (a required field set to null, bad options or base URL)
        and ``Conflict`` (name taken)."""
        changes = dict(changes)
        new_key: str | None = changes.pop("api_key", None)
        for required in ("name", "priority", "is_primary", "is_active", "free"):
            if required in changes and changes[required] is None:
                raise InvalidRequest(f"body.{required}: must not be null", code="validation_error")
        with self._write(workspace_id) as session:
            repo = CredentialRepository(session)
            row = repo.get(workspace_id, credential_id, for_update=True)
            if row is None:
                raise NotFound("No such credential")
            if "name" in changes and changes["name"] != row.name and repo.by_name(workspace_id, changes["name"]):
                raise _name_taken(changes["name"])
            if "base_url" in changes:
                changes["base_url"] = resolve_base_url(
                    row.provider, changes["base_url"], allow_local_network=self._allow_local
                )
            if "options" in changes:
                changes["options"] = dict(changes["options"] or {})
                check_options(row.provider, changes["options"])
            check_free(row.provider, changes.get("free"))
            if changes.get("is_primary"):
                repo.clear_primary(workspace_id, except_id=row.id)
            now = self._clock.now()
            if new_key is not None:
                changes.update(self._rotation_values(workspace_id, row.id, new_key, now))
            changes["updated_at"] = now
            repo.set_fields(row, changes)
        return row

    def rotate(self, workspace_id: uuid.UUID, credential_id: uuid.UUID, new_key: str) -> ProviderCredential:
        """Write the new ciphertext over the old one in one transaction (the old one is gone)."""
        return self.update(workspace_id, credential_id, {"api_key": new_key})

    def delete(self, workspace_id: uuid.UUID, credential_id: uuid.UUID) -> None:
        """Hard-delete the credential and its ciphertext. Raises ``NotFound`` for an unknown id or another
        workspace's."""
        with self._write(workspace_id) as session:
            repo = CredentialRepository(session)
            row = repo.get(workspace_id, credential_id, for_update=True)
            if row is None:
                raise NotFound("No such credential")
            repo.delete(row)

    # --- helpers -----------------------------------------------------------------------------

    def _rotation_values(self, workspace_id: uuid.UUID, credential_id: uuid.UUID, key: str, now: Any) -> dict[str, Any]:
        return {
            "key_ciphertext": self._wrap(workspace_id, credential_id, key),
            "key_hint": mask_key(key),
            "rotated_at": now,
        }

    def _wrap(self, workspace_id: uuid.UUID, credential_id: uuid.UUID, key: str) -> bytes:
        return self._wrapper.encrypt(key.encode(), credential_context(workspace_id, credential_id))

    def _write(self, workspace_id: uuid.UUID) -> _WriteTransaction:
        return _WriteTransaction(self._sessions, lambda: self._on_change(workspace_id))


class _WriteTransaction:
    """``sessions.begin()`` that turns constraint races into 409s and tells caches after commit."""

    def __init__(self, sessions: sessionmaker[Session], after_commit: Callable[[], None]) -> None:
        self._sessions = sessions
        self._after_commit = after_commit
        self._context: Any = None

    def __enter__(self) -> Session:
        self._context = self._sessions.begin()
        session: Session = self._context.__enter__()
        return session

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self._context.__exit__(exc_type, exc, tb)  # commit, or roll back on error
        except IntegrityError:
            raise _race() from None
        if isinstance(exc, IntegrityError):
            raise _race() from None
        if exc_type is None:
            self._after_commit()


def _race() -> Conflict:
    return Conflict(
        "Another change to this workspace's credentials won the race "
        "(the name is taken or another credential just became primary); retry",
        code="credential_conflict",
    )


def _name_taken(name: str) -> Conflict:
    return Conflict(f"A credential named '{name}' already exists in this workspace", code="duplicate_name")


def decrypt_target(wrapper: KeyWrapper, row: ProviderCredential) -> ProviderTarget:
    """The call target with the decrypted key. Raises ``InvalidRequest`` (``no_key``) for a credential
    without a key and ``KeyUnwrapError`` when the ciphertext does not decrypt."""
    if row.key_ciphertext is None:
        raise InvalidRequest("This credential has no key", code="no_key")
    plaintext = wrapper.decrypt(row.key_ciphertext, credential_context(row.workspace_id, row.id))
    return ProviderTarget(
        provider=row.provider,
        base_url=row.base_url,
        api_key=plaintext.decode(),
        options=dict(row.options or {}),
        credential_id=row.id,
        credential_name=row.name,
        free=row.free,
    )
