"""Server-sent-event framing of the execute relay, and the once-only recorder of a stream's end."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

from tollgate.errors import InternalError, TollgateError
from tollgate.providers.http import dumps


class StreamRecorder:
    """Writes a streamed call's usage row exactly once, whichever way the stream ends."""

    def __init__(self, record: Callable[[str, str | None], Awaitable[None]]) -> None:
        self._record = record
        self._done = False

    async def finish(self, status: str, error_type: str | None) -> None:
        if not self._done:
            self._done = True
            await self._record(status, error_type)


class RecordedRelay:
    """A stream relay whose ``aclose`` records the usage even when the relay never started (a
    response that failed before its first chunk): an unstarted async generator runs no ``finally``."""

    def __init__(self, relay: AsyncGenerator[bytes, None], recorder: StreamRecorder) -> None:
        self._relay = relay
        self._recorder = recorder

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        return await self._relay.__anext__()

    async def aclose(self) -> None:
        try:
            await self._relay.aclose()
        finally:
            await self._recorder.finish("cancelled", "client_disconnected")


def sse_error(request_id: str, error: Exception) -> bytes:
    if not isinstance(error, TollgateError):
        error = InternalError("The stream failed")
    return sse(error.body(request_id))


def sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + dumps(payload) + b"\n\n"
