"""The upstream transport: one pooled async HTTP client per event loop, and the pure wire helpers.

Adapters are sans-IO: they build an ``UpstreamRequest`` and parse what comes back (a ``JsonReply``
or a stream's lines); ``UpstreamHttp`` does the only I/O, on an ``httpx.AsyncClient`` with
keep-alive connections and explicit timeouts, so no thread waits on a provider. Credential checks
(``verify``, called from the synchronous management routes) use a small synchronous client.

Adapters never retry: they make one attempt and raise a classified ``ProviderCallError``; the
invoker owns retries, failover and cooldown. Error bodies are read (bounded) only to classify
them; they never reach a message, a log line or the client.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import ssl
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from tollgate.execution import deadline as deadlines
from tollgate.providers.errors import FailureKind, ProviderCallError, upstream_error
from tollgate.providers.guard import BlockedTarget, GuardedAsyncTransport, GuardedTransport

MAX_ERROR_BODY_BYTES = 64 * 1024

# Builds the classified error from (status, parsed error body or None, response headers).
Classifier = Callable[[int, Any, Mapping[str, str]], ProviderCallError]


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(payload: Any) -> bytes:
    """Compact JSON bytes (orjson: the hot path serialises every request and chunk). What orjson
    refuses (integers beyond 64 bits, which a client may send in a pass-through field) is written by
    the standard library, so a valid request body never becomes a 500."""
    try:
        return orjson.dumps(payload, default=_default)
    except TypeError:
        return json.dumps(payload, separators=(",", ":"), default=_default).encode()


def loads(raw: bytes | str) -> Any:
    """An upstream JSON body. orjson first (the hot path); what it refuses is read by the standard
    library, which also accepts what a broken upstream sends (``NaN``/``Infinity``, integers beyond
    64 bits): such values reach the usage check (``usage_check``), which discards them, instead of
    failing the whole call. Raises ``ValueError`` for anything that is not JSON (or nests too deep)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


@dataclass(frozen=True)
class UpstreamRequest:
    """One upstream HTTP request as an adapter describes it (no I/O): ``payload`` is JSON or None."""

    provider: str
    method: str
    url: str
    headers: Mapping[str, str]
    payload: Any
    classify: Classifier


@dataclass
class JsonReply:
    status: int
    headers: httpx.Headers
    body: Any


@contextmanager
def transport_failures(provider: str) -> Iterator[None]:
    """Map httpx transport failures to ``ProviderCallError``: timeouts (unless the call's deadline has
    passed, which ``deadlines.check`` raises), refused targets, and network errors."""
    try:
        yield
    except httpx.TimeoutException:
        deadlines.check()
        raise upstream_error(provider, FailureKind.TIMEOUT) from None
    except BlockedTarget:
        raise upstream_error(provider, FailureKind.BLOCKED) from None
    except httpx.TransportError:
        raise upstream_error(provider, FailureKind.NETWORK) from None


class UpstreamHttp:
    """The process's upstream transport.

    Per running event loop (a server process has one loop; tests and a Lambda container may have
    others) a small set of ``httpx.AsyncClient`` shards, created on first use, with pooled
    keep-alive connections (``max_connections`` in total) and explicit connect/read/write/pool
    timeouts in seconds. Requests go round-robin over the shards: httpcore's pool does work linear
    in its connection count on every request, so one pool of 1,000 connections costs the loop
    quadratic CPU under load, while shards of ``SHARD_CONNECTIONS`` keep it flat.
    """

    SHARD_CONNECTIONS = 32

    def __init__(
        self, connect_timeout_s: float, read_timeout_s: float, max_connections: int, *, allow_local_network: bool
    ) -> None:
        self._allow_local = allow_local_network
        self._timeout = httpx.Timeout(
            connect=connect_timeout_s, read=read_timeout_s, write=read_timeout_s, pool=connect_timeout_s
        )
        self._shard_count = max(1, -(-max_connections // self.SHARD_CONNECTIONS))
        per_shard = -(-max_connections // self._shard_count)
        self._limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Shards] = weakref.WeakKeyDictionary()
        self._sync: httpx.Client | None = None
        self._lock = threading.Lock()
        self._ssl: ssl.SSLContext | None = None

    def _ssl_context(self) -> ssl.SSLContext:
        """One TLS context (system CAs via certifi) shared by every shard: building one loads the CA
        bundle (tens of ms each), which for 16 shards made a cold first call wait seconds."""
        with self._lock:
            if self._ssl is None:
                import certifi

                self._ssl = ssl.create_default_context(cafile=certifi.where())
            return self._ssl

    def client(self) -> httpx.AsyncClient:
        """The next client shard of the running loop's pool."""
        loop = asyncio.get_running_loop()
        shards = self._clients.get(loop)
        if shards is None:
            verify = self._ssl_context()
            shards = _Shards(
                [
                    httpx.AsyncClient(
                        timeout=self._timeout,
                        trust_env=False,
                        follow_redirects=False,
                        transport=self._async_transport(verify),
                    )
                    for _ in range(self._shard_count)
                ]
            )
            self._clients[loop] = shards
        return shards.next()

    def sync_client(self) -> httpx.Client:
        with self._lock:
            if self._sync is None:

                def inner() -> httpx.BaseTransport:
                    return httpx.HTTPTransport(limits=httpx.Limits(max_connections=8), trust_env=False)

                transport = inner() if self._allow_local else GuardedTransport(inner)
                self._sync = httpx.Client(timeout=self._timeout, trust_env=False, transport=transport)
            return self._sync

    def _async_transport(self, verify: ssl.SSLContext) -> httpx.AsyncBaseTransport:
        """Pooled connections; with local network access off, every request is resolved, checked
        and pinned first (``tollgate.providers.guard``)."""

        def inner() -> httpx.AsyncBaseTransport:
            return httpx.AsyncHTTPTransport(verify=verify, limits=self._limits, trust_env=False)

        return inner() if self._allow_local else GuardedAsyncTransport(inner)

    async def send_json(self, request: UpstreamRequest) -> JsonReply:
        """One JSON request/response; ``ProviderCallError`` on transport failure or status >= 400."""
        headers = {"content-type": "application/json", "accept": "application/json", **request.headers}
        content = None if request.payload is None else dumps(request.payload)
        with transport_failures(request.provider):
            response = await self.client().request(
                request.method, request.url, headers=headers, content=content, timeout=self._call_timeout()
            )
        return read_json_reply(request, response.status_code, response.headers, response.content)

    def send_json_sync(self, request: UpstreamRequest) -> JsonReply:
        """The same as ``send_json`` from synchronous code (credential checks only)."""
        headers = {"content-type": "application/json", "accept": "application/json", **request.headers}
        content = None if request.payload is None else dumps(request.payload)
        with transport_failures(request.provider):
            response = self.sync_client().request(
                request.method, request.url, headers=headers, content=content, timeout=self._call_timeout()
            )
        return read_json_reply(request, response.status_code, response.headers, response.content)

    async def open_stream(self, request: UpstreamRequest) -> httpx.Response:
        """Send the request and return the open response once a 2xx status arrived (caller closes it)."""
        headers = {"content-type": "application/json", "accept": "text/event-stream", **request.headers}
        client = self.client()
        built = client.build_request(
            request.method, request.url, headers=headers, content=dumps(request.payload), timeout=self._call_timeout()
        )
        with transport_failures(request.provider):
            response = await client.send(built, stream=True)
        if response.status_code >= 400:
            try:
                raw = await _read_bounded(response)
            finally:
                await response.aclose()
            raise request.classify(response.status_code, _parse_error_body(raw), response.headers)
        return response

    def _call_timeout(self) -> httpx.Timeout:
        """The transport's timeouts, each capped by the current call's deadline (a context
        variable; ``DeadlineExceeded`` when it has passed). A stream's read timeout is fixed when
        it opens, so a stalled stream times out at the deadline at the latest."""
        base = self._timeout
        if deadlines.current() is None:
            return base
        return httpx.Timeout(
            connect=_capped(base.connect),
            read=_capped(base.read),
            write=_capped(base.write),
            pool=_capped(base.pool),
        )

    def open_clients(self) -> int:
        """How many event loops have a pooled client (one per loop; diagnostics and tests)."""
        return len(self._clients)

    async def aclose(self) -> None:
        """Close the current loop's client (server shutdown)."""
        loop = asyncio.get_running_loop()
        shards = self._clients.pop(loop, None)
        if shards is not None:
            for client in shards.clients:
                await client.aclose()

    def close(self) -> None:
        """Close the synchronous client and forget the async ones (their loop closes their sockets)."""
        with self._lock:
            if self._sync is not None:
                self._sync.close()
                self._sync = None
        self._clients.clear()


class _Shards:
    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self.clients = clients
        self._turn = itertools.cycle(clients)

    def next(self) -> httpx.AsyncClient:
        return next(self._turn)


def _capped(timeout_s: float | None) -> float:
    return deadlines.capped_timeout(timeout_s if timeout_s is not None else float("inf"))


def build_http_client(
    connect_timeout_s: float, read_timeout_s: float, max_connections: int, *, allow_local_network: bool
) -> UpstreamHttp:
    """The transport of a process: pooled keep-alive connections, explicit timeouts, no env proxies;
    base URLs checked at connect time unless ``allow_local_network`` (``tollgate.providers.guard``)."""
    return UpstreamHttp(connect_timeout_s, read_timeout_s, max_connections, allow_local_network=allow_local_network)


def read_json_reply(request: UpstreamRequest, status: int, headers: httpx.Headers, content: bytes) -> JsonReply:
    """Classify an error status, else parse the JSON body (pure)."""
    if status >= 400:
        raise request.classify(status, _parse_error_body(content), headers)
    try:
        body = loads(content) if content.strip() else None
    except ValueError:
        raise upstream_error(request.provider, FailureKind.PROTOCOL, status=status) from None
    return JsonReply(status, headers, body)


async def aiter_lines(
    provider: str, response: httpx.Response, deadline: deadlines.Deadline | None = None
) -> AsyncIterator[str]:
    """Lines of a streamed body; transport failures mid-stream become classified errors.
    ``deadline`` (the one in force when the stream opened; the relay runs outside it) ends the
    stream with ``DeadlineExceeded`` once it passes."""
    try:
        async for line in response.aiter_lines():
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


class SseParser:
    """Push parser for server-sent events: ``event:``/``data:`` fields up to a blank line; ``:``
    comments skipped. ``feed`` returns the event a line completed, ``flush`` the pending one at EOF."""

    def __init__(self) -> None:
        self._event: str | None = None
        self._data: list[str] = []

    def feed(self, line: str) -> SseEvent | None:
        if not line:
            done = SseEvent(self._event, "\n".join(self._data)) if self._data else None
            self._event, self._data = None, []
            return done
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None

    def flush(self) -> SseEvent | None:
        done = SseEvent(self._event, "\n".join(self._data)) if self._data else None
        self._event, self._data = None, []
        return done


def iter_sse(lines: Iterable[str]) -> Iterator[SseEvent]:
    """Server-sent events of a whole body (pure; tests and tools)."""
    parser = SseParser()
    for line in lines:
        event = parser.feed(line)
        if event is not None:
            yield event
    last = parser.flush()
    if last is not None:
        yield last


def parse_json_event(provider: str, data: str) -> Any:
    """One SSE ``data`` payload as JSON. Raises ``ProviderCallError`` (protocol) when it is not JSON."""
    try:
        return loads(data)
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


async def _read_bounded(response: httpx.Response) -> bytes:
    buffer = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            buffer.extend(chunk)
            if len(buffer) >= MAX_ERROR_BODY_BYTES:
                break
    except (httpx.TransportError, httpx.StreamError):
        pass
    return bytes(buffer[:MAX_ERROR_BODY_BYTES])


def _parse_error_body(raw: bytes) -> Any:
    try:
        return loads(raw[:MAX_ERROR_BODY_BYTES]) if raw.strip() else None
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
