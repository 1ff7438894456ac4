"""API Gateway HTTP API (payload v2) ⇄ ApiRequest/ApiResponse.

A Lambda container keeps ONE event loop for its whole life (``asyncio.Runner``): each invocation
runs the same async ``GatewayApp.handle_async`` the local server runs, so the upstream connection
pool and its keep-alive connections survive between invocations. A streamed answer is buffered
into one SSE body: API Gateway HTTP APIs do not stream.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tollgate.api.app import GatewayApp
from tollgate.api.headers import encode_value, repair_text
from tollgate.api.http import ApiRequest, ApiResponse
from tollgate.api.routes import routers_for
from tollgate.config import get_settings
from tollgate.execution.deadline import Deadline
from tollgate.ids import new_request_id
from tollgate.wiring import Services, get_services


def request_from_event(event: dict[str, Any]) -> ApiRequest:
    received = time.perf_counter()
    http = event.get("requestContext", {}).get("http", {})
    headers = {k.lower(): repair_text(k.lower(), v) for k, v in (event.get("headers") or {}).items()}
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    return ApiRequest(
        method=http.get("method", "GET").upper(),
        path=event.get("rawPath") or http.get("path", "/"),
        headers=headers,
        query=dict(event.get("queryStringParameters") or {}),
        body=body,
        request_id=new_request_id(),
        source_ip=http.get("sourceIp"),
        received=received,
    )


async def read_body(response: ApiResponse) -> bytes:
    """The whole body, a streamed one drained (async or sync iterator)."""
    stream = response.stream
    if stream is None:
        return response.body
    if isinstance(stream, AsyncIterator):
        return b"".join([chunk async for chunk in stream])
    return b"".join(stream)


def response_to_result(response: ApiResponse, body: bytes) -> dict[str, Any]:
    return {
        "statusCode": response.status,
        "headers": {k: encode_value(v) for k, v in response.all_headers().items()},
        "body": body.decode(),
        "isBase64Encoded": False,
    }


def lambda_app(function: str, services: Callable[[], Services] = get_services) -> GatewayApp:
    return GatewayApp(routers_for(function), services)


_local = threading.local()


def container_loop() -> asyncio.Runner:
    """The event loop of this container (one per thread: Lambda runs invocations on one thread)."""
    runner: asyncio.Runner | None = getattr(_local, "runner", None)
    if runner is None:
        runner = asyncio.Runner()
        _local.runner = runner
    return runner


async def _handle(app: GatewayApp, request: ApiRequest) -> dict[str, Any]:
    response = await app.handle_async(request)
    return response_to_result(response, await read_body(response))


def handle_event(app: GatewayApp, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Serve one event on this thread's container loop. If the calling thread already runs an event
    loop (never in Lambda; e.g. a host that embeds the handler), one helper thread with its own
    persistent loop serves it instead.

    ``context``: the Lambda context; its remaining time (minus the margin) is the request's deadline."""
    request = request_from_event(event)
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        request.deadline = Deadline.from_lambda_context(context, get_settings().deadline_margin_s)
    if asyncio._get_running_loop() is None:
        return container_loop().run(_handle(app, request))
    return _helper().submit(lambda: container_loop().run(_handle(app, request))).result()


_helper_lock = threading.Lock()
_helper_pool: ThreadPoolExecutor | None = None


def _helper() -> ThreadPoolExecutor:
    global _helper_pool
    with _helper_lock:
        if _helper_pool is None:
            _helper_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tollgate-lambda-loop")
        return _helper_pool
