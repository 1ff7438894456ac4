"""Response guardrails on a streamed answer, in the async relay (``ExecuteService._relay``).

When the workspace scans responses, the relay reads ``StreamScreen.chunks(stream)`` instead of the
upstream stream and writes with ``StreamScreen.framing(framing)``: each upstream chunk goes through
the ``ChunkScreen`` (redacted text, held-back text released later), then the client's framing.
What the client sees on a hit:

- ``redact`` / ``block``: the span arrives as ``[REDACTED:<detector>]`` (the text runs up to
  ``HOLD`` characters behind the upstream while a workspace redacts);
- ``warn``: the headers went out with the first byte, so the ``x-tollgate-guardrail`` header cannot
  name it; an SSE comment line ``: x-tollgate-guardrail: <detector>[,<detector>…]`` (every detector
  warned so far) follows the chunk in which the hit settled. SSE clients ignore comments (the
  ``openai`` and ``anthropic`` SDKs skip them), so it is informative only.
- every hit writes its security event when it is found (on the blocking pool; a failure to write
  is logged, the stream goes on).

CPU: a delta of up to ``INLINE_CHARS`` characters is scanned on the event loop (the scan covers
the delta plus a window of a few hundred characters: tens of microseconds, measured in
``tests/bench/bench_guardrails_routing.py``); a bigger one is scanned on the blocking pool.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from tollgate.errors import TollgateError
from tollgate.execution.blocking import BlockingPool
from tollgate.execution.operations import StreamFraming
from tollgate.guardrails.chunks import ChunkScreen
from tollgate.guardrails.scanner import Hit
from tollgate.guardrails.service import GUARDRAIL_HEADER
from tollgate.observability import logger
from tollgate.providers.base import Usage

# Deltas longer than this are scanned on the blocking pool (a provider that sends its answer in a
# few large chunks); typical deltas are a few tokens.
INLINE_CHARS = 2048

Record = Callable[[uuid.UUID, str, list[Hit]], None]


def warning_comment(detectors: list[str]) -> bytes:
    """The SSE comment that tells a streaming client about ``warn`` hits found after the headers."""
    return f": {GUARDRAIL_HEADER}: {','.join(detectors)}\n\n".encode()


class StreamScreen:
    """``chunks(stream)`` screens the upstream chunks; ``framing(framing)`` wraps the client's framing
    so the warning comments go out between the chunks (and before the closing or error events)."""

    def __init__(
        self,
        screen: ChunkScreen,
        record: Record,
        blocking: BlockingPool,
        workspace_id: uuid.UUID,
        request_id: str,
    ) -> None:
        self._screen = screen
        self._record = record
        self._blocking = blocking
        self._workspace_id = workspace_id
        self._request_id = request_id
        self._warned: list[str] = []
        self._notes: list[bytes] = []  # warning comments not written yet

    async def chunks(self, stream: AsyncIterator[dict[str, Any]]) -> AsyncGenerator[dict[str, Any], None]:
        """``stream``'s chunks with their text screened. Held text is released when the stream ends,
        and also when it fails (before the relay writes the error event)."""
        try:
            async for chunk in stream:
                if self._screen.text_size(chunk) > INLINE_CHARS:
                    pieces = await self._blocking.run(self._screen.feed, chunk)
                else:
                    pieces = self._screen.feed(chunk)
                for piece in pieces:
                    yield piece
                await self._settle()
        except Exception:
            for piece in await self._flush():
                yield piece
            raise
        for piece in await self._flush():
            yield piece

    def framing(self, framing: StreamFraming) -> StreamFraming:
        return _NotedFraming(framing, self._notes)

    async def _flush(self) -> list[dict[str, Any]]:
        pieces = self._screen.flush()
        await self._settle()
        return pieces

    async def _settle(self) -> None:
        """Write new hits as security events; queue a comment when the set of warned detectors grew."""
        scanner = self._screen.scanner
        hits = scanner.take_hits()
        if not hits:
            return
        try:
            await self._blocking.run(self._record, self._workspace_id, self._request_id, hits)
        except Exception:
            logger.exception("could not record a streamed answer's security events")
        warned = scanner.warned()
        if warned != self._warned:
            self._warned = warned
            self._notes.append(warning_comment(warned))


class _NotedFraming:
    """A framing that writes the queued warning comments before whatever it writes next."""

    def __init__(self, inner: StreamFraming, notes: list[bytes]) -> None:
        self._inner = inner
        self._notes = notes

    def _take(self) -> list[bytes]:
        if not self._notes:
            return []
        notes = list(self._notes)
        self._notes.clear()
        return notes

    def chunk(self, chunk: dict[str, Any]) -> list[bytes]:
        return self._take() + self._inner.chunk(chunk) if self._notes else self._inner.chunk(chunk)

    def finish(self, usage: Usage) -> list[bytes]:
        return self._take() + self._inner.finish(usage)

    def error(self, error: TollgateError, request_id: str) -> list[bytes]:
        return self._take() + self._inner.error(error, request_id)
