"""API Gateway HTTP API (payload v2) ⇄ ApiRequest/ApiResponse.

A streamed answer is buffered into one SSE body: API Gateway HTTP APIs do not stream.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from tollgate.api.app import GatewayApp
from tollgate.api.http import ApiRequest, ApiResponse
from tollgate.api.routes import routers_for
from tollgate.config import get_settings
from tollgate.execution.deadline import Deadline
from tollgate.ids import new_request_id
from tollgate.wiring import Services, get_services


def request_from_event(event: dict[str, Any]) -> ApiRequest:
    http = event.get("requestContext", {}).get("http", {})
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
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
    )


def response_to_result(response: ApiResponse) -> dict[str, Any]:
    body = response.body
    if response.stream is not None:
        body = b"".join(response.stream)
    return {
        "statusCode": response.status,
        "headers": response.all_headers(),
        "body": body.decode(),
        "isBase64Encoded": False,
    }


def lambda_app(function: str, services: Callable[[], Services] = get_services) -> GatewayApp:
    return GatewayApp(routers_for(function), services)


def handle_event(app: GatewayApp, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """``context``: the Lambda context; its remaining time (minus the margin) is the request's deadline."""
    request = request_from_event(event)
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        request.deadline = Deadline.from_lambda_context(context, get_settings().deadline_margin_s)
    return response_to_result(app.handle(request))
