"""ASGI adapter for the local server: the same GatewayApp, run in a thread pool, streamed chunk by chunk.

Route code is synchronous (it is the same code Lambda runs); the event loop only moves bytes.
When the client disconnects mid-stream the relay generator is closed, which records the usage
of what was produced so far.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tollgate.api.app import GatewayApp, error_response
from tollgate.api.http import ApiRequest, ApiResponse
from tollgate.errors import InvalidRequest
from tollgate.ids import new_request_id

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_END = object()


class AsgiGateway:
    def __init__(
        self,
        app: GatewayApp,
        *,
        max_body_bytes: int,
        workers: int = 64,
        on_startup: Callable[[], None] | None = None,
        on_shutdown: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tollgate")
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request_id = new_request_id()
        body = await self._read_body(scope, receive)
        loop = asyncio.get_running_loop()
        if body is None:
            error = InvalidRequest(
                f"Request body exceeds {self.max_body_bytes} bytes", code="body_too_large", status=413
            )
            await self._send_response(send, receive, error_response(error, request_id), loop)
            return
        request = ApiRequest(
            method=scope["method"],
            path=scope["path"],
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            query=_parse_query(scope.get("query_string", b"")),
            body=body,
            request_id=request_id,
            source_ip=(scope.get("client") or (None,))[0],
        )
        response = await loop.run_in_executor(self.executor, self.app.handle, request)
        await self._send_response(send, receive, response, loop)

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

    async def _send_response(
        self, send: Send, receive: Receive, response: ApiResponse, loop: asyncio.AbstractEventLoop
    ) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.all_headers().items()]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if response.stream is None:
            await send({"type": "http.response.body", "body": response.body})
            return
        await self._stream(send, receive, response.stream, loop)

    async def _stream(
        self, send: Send, receive: Receive, chunks: Iterator[bytes], loop: asyncio.AbstractEventLoop
    ) -> None:
        disconnected = asyncio.Event()

        async def watch() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected.set()
                    return

        watcher = asyncio.create_task(watch())
        try:
            while not disconnected.is_set():
                chunk = await loop.run_in_executor(self.executor, next, chunks, _END)
                if chunk is _END:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if not disconnected.is_set():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            close = getattr(chunks, "close", None)
            if close is not None:
                await loop.run_in_executor(self.executor, close)

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
                    self._on_shutdown()
                self.executor.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return


def _parse_query(raw: bytes) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
