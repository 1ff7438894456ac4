"""Test doubles for key custody: an in-memory OS keyring and a provider adapter that records keys."""

from __future__ import annotations

from typing import Any

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from tollgate.providers.base import ChatRequest, ChatResponse, ProviderTarget
from tollgate.providers.errors import FailureKind, ProviderCallError
from tollgate.providers.mock import MockProvider, MockStream


class MemoryKeyring(KeyringBackend):
    """An OS keyring that lives in a dict, so tests never touch the developer's real one."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring ships no annotations
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class RecordingAdapter:
    """A provider adapter that answers like ``mock`` and remembers which targets it was called with.

    ``verify`` rejects keys ending in ``-bad`` (401) and ``-poor`` (quota) like a real provider would."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.targets: list[ProviderTarget] = []
        self._mock = MockProvider()

    async def complete(self, target: ProviderTarget, request: ChatRequest) -> ChatResponse:
        self.targets.append(target)
        self._reject(target)
        return await self._mock.complete(target, request)

    async def stream(self, target: ProviderTarget, request: ChatRequest) -> MockStream:
        self.targets.append(target)
        self._reject(target)
        return await self._mock.stream(target, request)

    def verify(self, target: ProviderTarget) -> None:
        self.targets.append(target)
        self._reject(target)

    def _reject(self, target: ProviderTarget) -> None:
        if target.api_key.endswith("-bad"):
            raise ProviderCallError(FailureKind.AUTH, "key rejected", provider=self.name, status=401)
        if target.api_key.endswith("-poor"):
            raise ProviderCallError(FailureKind.QUOTA, "no credits", provider=self.name, status=429)

    @property
    def keys_seen(self) -> list[str]:
        return [t.api_key for t in self.targets]


def registry_with(*adapters: Any) -> Any:
    from tollgate.providers.registry import ProviderRegistry

    return ProviderRegistry({"mock": MockProvider(), **{a.name: a for a in adapters}})
