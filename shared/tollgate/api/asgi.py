"""ASGI adapter for the local server: the same GatewayApp, async routes on the event loop.

The execute path is async end to end: its handler is awaited here, upstream I/O and open streams
hold no thread, and a stream is relayed from its async generator chunk by chunk. Synchronous
(management) routes run on the app's small bounded pool; a synchronous streamed body (exports)
is pulled on that pool too. When the client disconnects mid-stream the relay is closed (or its
wait cancelled), which records the usage of what was produced so far.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from tollgate.api.app import GatewayApp, error_response
from tollgate.api.headers import decode_headers, encode_headers
from tollgate.api.http import ApiRequest, ApiResponse
from tollgate.errors import InvalidRequest
from tollgate.ids import new_request_id

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_END = object()
_NO_BODY_STATUS = frozenset({204, 304})


class AsgiGateway:
    def __init__(
        self,
        app: GatewayApp,
        *,
        max_body_bytes: int,
        on_startup: Callable[[], None] | None = None,
        on_shutdown: Callable[[], Awaitable[None] | None] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        received = time.perf_counter()
        request_id = new_request_id()
        body = await self._read_body(scope, receive)
        if body is None:
            error = InvalidRequest(
                f"Request body exceeds {self.max_body_bytes} bytes", code="body_too_large", status=413
            )
            await self._send_response(send, receive, error_response(error, request_id))
            return
        try:
            headers = decode_headers(scope["headers"])
        except InvalidRequest as exc:
            await self._send_response(send, receive, error_response(exc, request_id))
            return
        request = ApiRequest(
            method=scope["method"],
            path=scope["path"],
            headers=headers,
            query=_parse_query(scope.get("query_string", b"")),
            body=body,
            request_id=request_id,
            source_ip=(scope.get("client") or (None,))[0],
            received=received,
        )
        response = await self.app.handle_async(request)
        await self._send_response(send, receive, response)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        for name, value in scope["headers"]:
            if name.lower() == b"content-length" and value.isdigit() and int(value) > self.max_body_bytes:
                return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _send_response(self, send: Send, receive: Receive, response: ApiResponse) -> None:
        stream = response.stream
        chunks = None if stream is None else stream if isinstance(stream, AsyncIterator) else self._pulled(stream)
        try:
            headers = encode_headers(response.all_headers())
            if chunks is None and response.status not in _NO_BODY_STATUS:
                # a whole body: its length, so the server need not frame it as chunks (nor the client parse them)
                headers.append((b"content-length", b"%d" % len(response.body)))
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
        except BaseException:
            # nothing was relayed: closing the stream still ends the upstream call and records its usage
            aclose = getattr(stream, "aclose", None) or getattr(stream, "close", None)
            if aclose is not None:
                done = aclose()
                if done is not None:
                    await done
            raise
        if chunks is None:
            await send({"type": "http.response.body", "body": response.body})
            return
        await self._relay(send, receive, chunks)

    async def _relay(self, send: Send, receive: Receive, chunks: AsyncIterator[bytes]) -> None:
        """Send chunks until the end or a client disconnect; on disconnect the wait for the next
        chunk is cancelled and the iterator closed, so the stream's usage is recorded at once."""
        task = asyncio.current_task()
        disconnected = False

        async def watch() -> None:
            nonlocal disconnected
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected = True
                    if task is not None:
                        task.cancel()
                    return

        watcher = asyncio.create_task(watch())
        try:
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not disconnected or task is None:
                raise
            task.uncancel()
        finally:
            watcher.cancel()
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _pulled(self, chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
        """A synchronous body iterated on the sync pool (never on the loop), closed there too."""
        pool = self.app.sync_pool
        try:
            while True:
                chunk = await pool.run(next, chunks, _END)
                if chunk is _END:
                    return
                if not isinstance(chunk, bytes):
                    raise TypeError(f"a response body must yield bytes, not {type(chunk).__name__}")
                yield chunk
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                await pool.run(close)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self._on_startup:
                        self._on_startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": type(exc).__name__})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._on_shutdown:
                    done = self._on_shutdown()
                    if done is not None:
                        await done
                await send({"type": "lifespan.shutdown.complete"})
                return


def _parse_query(raw: bytes) -> dict[str, str]:
    if not raw:  # the execute path's requests carry no query string
        return {}
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
