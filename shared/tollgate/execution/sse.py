"""Server-sent-event framing of the execute relay, and the once-only recorder of a stream's end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


def sse_error(request_id: str, error: Exception) -> bytes:
    if not isinstance(error, TollgateError):
        error = InternalError("The stream failed")
    return sse(error.body(request_id))


def sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + dumps(payload) + b"\n\n"
