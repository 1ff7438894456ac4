"""What one execute call does at the provider, when it is not a chat completion.

``ExecuteService`` runs every call the same way (resolve → price → reserve → retries/failover →
meter → usage row → settle). A ``CallOperation`` on ``ExecuteCall.operation`` replaces only the
provider-facing steps: the prompt estimate for the reservation, the adapter call per candidate, and
how a stream's chunks are framed for the client. ``None`` is the chat-completions path.
Implementations: ``tollgate.anthropic_api.operation.MessagesOperation`` (``/v1/messages``) and
``tollgate.execution.embeddings.EmbeddingsOperation`` (``/v1/embeddings``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from tollgate.errors import TollgateError
from tollgate.providers.base import ChatResponse, ChatStream, ProviderClient, Usage

if TYPE_CHECKING:
    from tollgate.execution.resolver import Candidate


class StreamFraming(Protocol):
    """Turns the chunks of an opened stream into the bytes the client reads. Stateful, no I/O."""

    def chunk(self, chunk: dict[str, Any]) -> list[bytes]: ...

    def finish(self, usage: Usage) -> list[bytes]:
        """After the last chunk (the call is already recorded)."""
        ...

    def error(self, error: TollgateError, request_id: str) -> list[bytes]:
        """A failure after the first byte went out."""
        ...


class CallOperation(Protocol):
    kind: str  # "messages" | "embeddings"

    def prompt_tokens(self, candidate: Candidate) -> int:
        """The input estimate the budget reservation is priced with."""
        ...

    def max_output_tokens(self) -> int | None:
        """The output bound of the reservation (0 for embeddings); None: the model's cap."""
        ...

    async def complete(self, client: ProviderClient, candidate: Candidate, body: dict[str, Any]) -> ChatResponse:
        """One attempt at one candidate; ``body`` is ``ExecuteCall.body`` minus gateway fields. The
        response body is already in the API's own shape. Failures raise ``ProviderCallError``."""
        ...

    async def stream(self, client: ProviderClient, candidate: Candidate, body: dict[str, Any]) -> ChatStream:
        """One attempt at opening a stream (an async iterator of chunks with ``usage`` and ``aclose``)."""
        ...

    def framing(self, candidate: Candidate, request_id: str) -> StreamFraming: ...
