"""The one pooled HTTP client of a process, and the single-attempt calls adapters make with it.

Adapters never retry: they make one attempt and raise a classified ``ProviderCallError``; the
invoker owns retries, failover and cooldown. Error bodies are read (bounded) only to classify
them; they never reach a message, a log line or the client.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from tollgate.execution import deadline as deadlines
from tollgate.providers.errors import FailureKind, ProviderCallError, upstream_error

MAX_ERROR_BODY_BYTES = 64 * 1024

# Builds the classified error from (status, parsed error body or None, response headers).
Classifier = Callable[[int, Any, Mapping[str, str]], ProviderCallError]


def build_http_client(connect_timeout_s: float, read_timeout_s: float, max_connections: int) -> httpx.Client:
    """One client per process: pooled keep-alive connections, explicit timeouts, no env proxies."""
    timeout = httpx.Timeout(
        connect=connect_timeout_s, read=read_timeout_s, write=read_timeout_s, pool=connect_timeout_s
    )
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return httpx.Client(timeout=timeout, limits=limits, trust_env=False, follow_redirects=False)


@dataclass
class JsonReply:
    status: int
    headers: httpx.Headers
    body: Any


class UpstreamHttp:
    """Thin wrapper over the shared client that turns transport failures into ``ProviderCallError``."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def post_json(
        self, provider: str, url: str, headers: Mapping[str, str], payload: Any, classify: Classifier
    ) -> JsonReply:
        return self.request_json(provider, "POST", url, headers, payload, classify=classify)

    def request_json(
        self,
        provider: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        payload: Any,
        *,
        classify: Classifier,
    ) -> JsonReply:
        content = None if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        all_headers = {"content-type": "application/json", "accept": "application/json", **headers}
        try:
            response = self._client.request(method, url, headers=all_headers, content=content, timeout=self._timeout())
        except httpx.TimeoutException:
            deadlines.check()
            raise upstream_error(provider, FailureKind.TIMEOUT) from None
        except httpx.TransportError:
            raise upstream_error(provider, FailureKind.NETWORK) from None
        if response.status_code >= 400:
            raise classify(response.status_code, _parse_error_body(response.content), response.headers)
        try:
            body = json.loads(response.content) if response.content.strip() else None
        except ValueError:
            raise upstream_error(provider, FailureKind.PROTOCOL, status=response.status_code) from None
        return JsonReply(response.status_code, response.headers, body)

    def open_stream(
        self, provider: str, url: str, headers: Mapping[str, str], payload: Any, classify: Classifier
    ) -> httpx.Response:
        """Send the request and return the open response once a 2xx status arrived."""
        content = json.dumps(payload, separators=(",", ":")).encode()
        all_headers = {"content-type": "application/json", "accept": "text/event-stream", **headers}
        request = self._client.build_request("POST", url, headers=all_headers, content=content, timeout=self._timeout())
        try:
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException:
            deadlines.check()
            raise upstream_error(provider, FailureKind.TIMEOUT) from None
        except httpx.TransportError:
            raise upstream_error(provider, FailureKind.NETWORK) from None
        if response.status_code >= 400:
            try:
                raw = _read_bounded(response)
            finally:
                response.close()
            raise classify(response.status_code, _parse_error_body(raw), response.headers)
        return response

    def _timeout(self) -> httpx.Timeout:
        """The client's timeouts, each capped by the current call's deadline (``DeadlineExceeded``
        when it has passed)."""
        base = self._client.timeout
        if deadlines.current() is None:
            return base
        return httpx.Timeout(
            connect=_capped(base.connect),
            read=_capped(base.read),
            write=_capped(base.write),
            pool=_capped(base.pool),
        )


def _capped(timeout_s: float | None) -> float:
    return deadlines.capped_timeout(timeout_s if timeout_s is not None else float("inf"))


def iter_lines(provider: str, response: httpx.Response) -> Iterator[str]:
    """Lines of a streamed body; transport failures mid-stream become classified errors. The
    deadline in force when the stream opened ends it (``DeadlineExceeded``) once it passes."""
    deadline = deadlines.current()
    try:
        for line in response.iter_lines():
            if deadline is not None:
                deadline.check()
            yield line
    except httpx.TimeoutException:
        if deadline is not None:
            deadline.check()
        raise upstream_error(provider, FailureKind.TIMEOUT) from None
    except (httpx.TransportError, httpx.StreamError):
        raise upstream_error(provider, FailureKind.NETWORK) from None


@dataclass(frozen=True)
class SseEvent:
    event: str | None
    data: str


def iter_sse(lines: Iterator[str]) -> Iterator[SseEvent]:
    """Server-sent events: ``event:``/``data:`` fields up to a blank line; ``:`` comments skipped."""
    event: str | None = None
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield SseEvent(event, "\n".join(data))
            event, data = None, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
    if data:
        yield SseEvent(event, "\n".join(data))


def parse_json_event(provider: str, data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise upstream_error(provider, FailureKind.PROTOCOL) from None


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """The server's requested wait: ``retry-after-ms``, ``retry-after`` (seconds or HTTP date), then
    the OpenAI-style ``x-ratelimit-reset-requests``/``-tokens`` durations (``1s``, ``6m0s``, ``12ms``)."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is not None:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                current = now or datetime.now(UTC)
                return max(0.0, (when - current).total_seconds())
    resets = [
        parse_duration(headers.get(name, "")) for name in ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens")
    ]
    known = [r for r in resets if r is not None]
    return max(known) if known else None


_UNITS = (("ms", 0.001), ("h", 3600.0), ("m", 60.0), ("s", 1.0))


def parse_duration(text: str) -> float | None:
    """Go-style durations (``1s``, ``6m0s``, ``1.5s``, ``12ms``) and proto durations (``37s``)."""
    text = text.strip()
    if not text:
        return None
    total, number = 0.0, ""
    index = 0
    while index < len(text):
        char = text[index]
        if char.isdigit() or char == ".":
            number += char
            index += 1
            continue
        for unit, factor in _UNITS:
            if text.startswith(unit, index) and number:
                total += float(number) * factor
                number, index = "", index + len(unit)
                break
        else:
            return None
    if number:
        return None
    return total


def _read_bounded(response: httpx.Response) -> bytes:
    buffer = bytearray()
    try:
        for chunk in response.iter_bytes():
            buffer.extend(chunk)
            if len(buffer) >= MAX_ERROR_BODY_BYTES:
                break
    except (httpx.TransportError, httpx.StreamError):
        pass
    return bytes(buffer[:MAX_ERROR_BODY_BYTES])


def _parse_error_body(raw: bytes) -> Any:
    try:
        return json.loads(raw[:MAX_ERROR_BODY_BYTES]) if raw.strip() else None
    except ValueError:
        return None


def error_object(body: Any) -> dict[str, Any]:
    """The ``error`` object of an error body (OpenAI, Anthropic, Google and grpc-gateway shapes)."""
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict):
            return inner
        return body
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return error_object(body[0])
    return {}
