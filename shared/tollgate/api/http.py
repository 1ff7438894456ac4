"""Transport-neutral request and response objects shared by the Lambda and ASGI adapters."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel

from tollgate.execution.deadline import Deadline
from tollgate.money import format_usd

JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream"


@dataclass
class ApiRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # lower-cased names
    query: Mapping[str, str]
    body: bytes
    request_id: str
    source_ip: str | None = None  # the direct peer (the local server does not read X-Forwarded-For)
    # The invocation's deadline when the platform gives one (the Lambda context); see api/deadlines.
    deadline: Deadline | None = None
    # ``time.perf_counter()`` when the adapter received the request (before its body was read): a
    # usage row's ``latency_ms`` counts from here, so time queued on the event loop is included.
    received: float | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class ApiResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Streamed body: an async iterator (the execute relay, consumed on the event loop) or a sync
    # iterator (exports; pulled on a worker thread). Closing it (``aclose``/``close``) ends the work.
    stream: AsyncIterator[bytes] | Iterator[bytes] | None = None
    content_type: str = JSON_TYPE

    def all_headers(self) -> dict[str, str]:
        return {"content-type": self.content_type, **self.headers}


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format_usd(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dump_json(payload: Any) -> bytes:
    if isinstance(payload, BaseModel):
        return payload.model_dump_json().encode()
    try:
        return orjson.dumps(payload, default=_default)
    except TypeError:  # beyond orjson (e.g. integers over 64 bits): the standard library
        return json.dumps(payload, default=_default, separators=(",", ":")).encode()


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> ApiResponse:
    return ApiResponse(status=status, body=dump_json(payload), headers=headers or {})


def sse_response(stream: AsyncIterator[bytes] | Iterator[bytes], headers: dict[str, str] | None = None) -> ApiResponse:
    merged = {"cache-control": "no-cache", **(headers or {})}
    return ApiResponse(status=200, headers=merged, stream=stream, content_type=SSE_TYPE)
