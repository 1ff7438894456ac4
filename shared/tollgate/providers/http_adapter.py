"""The sans-IO shape every HTTP adapter has, and the one place its requests meet the transport.

An adapter only describes requests (``*_request``) and interprets answers (``parse_completion``,
``decoder``); ``HttpProvider`` sends them through the shared ``UpstreamHttp``. So translation and
parsing are pure functions, tested without sockets, and there is one async I/O path for all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from tollgate.errors import InvalidRequest
from tollgate.providers.base import ChatRequest, ChatResponse, ProviderTarget
from tollgate.providers.http import JsonReply, UpstreamHttp, UpstreamRequest
from tollgate.providers.registry import ProviderSpec
from tollgate.providers.streams import MeteredStream, StreamDecoder


class HttpProvider(ABC):
    """``name`` and ``default_base_url`` come from the provider's registry entry
    (``tollgate.providers.registry``); a credential's own ``base_url`` wins over the default."""

    def __init__(self, http: UpstreamHttp, spec: ProviderSpec) -> None:
        self._http = http
        self.name = spec.name
        self._default_base_url = spec.default_base_url or ""

    def url(self, target: ProviderTarget, path: str) -> str:
        """The credential's base URL (or the provider's default) joined with ``path``.

        Raises ``InvalidRequest`` (``credential_misconfigured``) when there is neither."""
        base = target.base_url or self._default_base_url
        if not base:
            raise InvalidRequest(f"The {self.name} credential needs a base_url", code="credential_misconfigured")
        return base.rstrip("/") + path

    @abstractmethod
    def complete_request(self, target: ProviderTarget, request: ChatRequest) -> UpstreamRequest:
        """The non-streaming upstream request for ``request``."""

    @abstractmethod
    def parse_completion(self, reply: JsonReply, request: ChatRequest) -> ChatResponse:
        """An OpenAI ``chat.completion`` and normalized usage from a 2xx reply; raises ``ProviderCallError``."""

    @abstractmethod
    def stream_request(self, target: ProviderTarget, request: ChatRequest) -> UpstreamRequest:
        """The streaming upstream request for ``request``."""

    @abstractmethod
    def decoder(self, request: ChatRequest) -> StreamDecoder:
        """A fresh decoder of this provider's streamed body."""

    @abstractmethod
    def verify_request(self, target: ProviderTarget) -> UpstreamRequest:
        """The cheapest authenticated request (a credential check)."""

    async def complete(self, target: ProviderTarget, request: ChatRequest) -> ChatResponse:
        reply = await self._http.send_json(self.complete_request(target, request))
        return self.parse_completion(reply, request)

    async def stream(self, target: ProviderTarget, request: ChatRequest) -> MeteredStream:
        decoder = self.decoder(request)
        response = await self._http.open_stream(self.stream_request(target, request))
        return MeteredStream(self.name, response, decoder)

    def verify(self, target: ProviderTarget) -> None:
        self._http.send_json_sync(self.verify_request(target))
