"""Provider name → adapter. Adapters are stateless apart from the shared HTTP client."""

from __future__ import annotations

from tollgate.errors import InvalidRequest
from tollgate.providers.base import ProviderClient


class ProviderRegistry:
    def __init__(self, clients: dict[str, ProviderClient]) -> None:
        self._clients = dict(clients)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._clients)

    def get(self, name: str) -> ProviderClient:
        client = self._clients.get(name)
        if client is None:
            raise InvalidRequest(f"Unknown provider '{name}'", code="unknown_provider")
        return client
