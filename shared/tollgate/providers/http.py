"""The upstream transport: one pooled async HTTP client per event loop, and the pure wire helpers.

Adapters are sans-IO: they build an ``UpstreamRequest`` and parse what comes back (a ``JsonReply``
or a stream's lines); ``UpstreamHttp`` does the only I/O, on one ``aiohttp.ClientSession`` per
event loop with keep-alive connections and explicit timeouts, so no thread waits on a provider.
(aiohttp, not httpx, on the hot path: its C HTTP parser and O(1) connection pool cost the loop a
fraction of httpx/httpcore's pure-Python h11 parsing and per-request pool scan; see
docs/decisions.md.) Credential checks (``verify``, called from the synchronous management routes)
use a small synchronous httpx client (``tollgate.providers.http_sync``, imported on first use).

Adapters never retry: they make one attempt and raise a classified ``ProviderCallError``; the
invoker owns retries, failover and cooldown. Error bodies are read (bounded) only to classify
them; they never reach a message, a log line or the client.
"""

from __future__ import annotations

import asyncio
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
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson
from yarl import URL

from tollgate.execution import deadline as deadlines
from tollgate.providers.errors import FailureKind, ProviderCallError, upstream_error
from tollgate.providers.guard import BlockedTarget, GuardedConnector
from tollgate.providers.upstream_response import UpstreamResponse

if TYPE_CHECKING:
    import httpx

    from tollgate.providers.http_sync import SyncUpstream

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
    headers: Mapping[str, str]
    body: Any


@contextmanager
def transport_failures(
    provider: str,
    *,
    timeouts: tuple[type[BaseException], ...] = (TimeoutError,),
    network: tuple[type[BaseException], ...] = (aiohttp.ClientError, OSError),
) -> Iterator[None]:
    """Map transport failures to ``ProviderCallError``: timeouts (unless the call's deadline has
    passed, which ``deadlines.check`` raises), refused targets, and network errors (connect errors,
    resets, a body cut short, malformed responses). The exception classes default to aiohttp's (the
    async path); the synchronous client passes httpx's (``tollgate.providers.http_sync``). A refused
    target is checked before network errors: its httpx form is also an httpx transport error."""
    try:
        yield
    except timeouts:
        deadlines.check()
        raise upstream_error(provider, FailureKind.TIMEOUT) from None
    except BlockedTarget:
        raise upstream_error(provider, FailureKind.BLOCKED) from None
    except network:
        raise upstream_error(provider, FailureKind.NETWORK) from None


def json_request(request: UpstreamRequest) -> tuple[dict[str, str], bytes | None]:
    """The headers and body of a JSON request/response exchange for ``request`` (either client)."""
    headers = {"content-type": "application/json", "accept": "application/json", **request.headers}
    return headers, None if request.payload is None else dumps(request.payload)


@dataclass(frozen=True)
class Timeouts:
    """The transport's timeouts in seconds: ``connect`` (TCP and TLS set-up), ``read`` (each wait
    for bytes, so a stream may run long as long as it keeps sending) and ``pool`` (waiting for a
    free pooled connection)."""

    connect: float
    read: float
    pool: float

    def capped(self) -> Timeouts:
        """Each timeout capped by the current call's deadline (``DeadlineExceeded`` when passed)."""
        return Timeouts(capped_timeout_s(self.connect), capped_timeout_s(self.read), capped_timeout_s(self.pool))

    def aiohttp(self) -> aiohttp.ClientTimeout:
        # aiohttp's ``connect`` covers the pool wait and the connection set-up together.
        return aiohttp.ClientTimeout(
            total=None, connect=self.pool + self.connect, sock_connect=self.connect, sock_read=self.read
        )


class UpstreamHttp:
    """The process's upstream transport.

    Per running event loop (a server process has one loop; tests and a Lambda container may have
    others) one ``aiohttp.ClientSession``, created on first use, with pooled keep-alive connections
    (``max_connections`` in total, pooled per host name), one TLS context for the process (system
    CAs via certifi), no redirects, no environment proxies, and explicit connect/read/pool timeouts
    in seconds. With local network access off, every new connection resolves its host, checks every
    address and connects to a checked one (``tollgate.providers.guard.GuardedConnector``).
    """

    def __init__(
        self, connect_timeout_s: float, read_timeout_s: float, max_connections: int, *, allow_local_network: bool
    ) -> None:
        self._allow_local = allow_local_network
        self._timeouts = Timeouts(connect_timeout_s, read_timeout_s, connect_timeout_s)
        self._default_timeout = self._timeouts.aiohttp()
        self._longest_timeout_s = max(connect_timeout_s, read_timeout_s)
        self._max_connections = max(1, max_connections)
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
            weakref.WeakKeyDictionary()
        )
        self._sync: SyncUpstream | None = None
        self._lock = threading.Lock()
        self._ssl: ssl.SSLContext | None = None

    def _ssl_context(self) -> ssl.SSLContext:
        """One TLS context (system CAs via certifi) for every loop's session: building one loads the
        CA bundle (tens of ms), so it is never built per request or per connection."""
        with self._lock:
            if self._ssl is None:
                import certifi

                self._ssl = ssl.create_default_context(cafile=certifi.where())
            return self._ssl

    def session(self) -> aiohttp.ClientSession:
        """The running loop's pooled session (created on first use)."""
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            tls = self._ssl_context()
            limit = self._max_connections
            connector: aiohttp.TCPConnector = (
                aiohttp.TCPConnector(ssl=tls, limit=limit, limit_per_host=0)
                if self._allow_local
                else GuardedConnector(ssl=tls, limit=limit, limit_per_host=0)
            )
            session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeouts.aiohttp(), trust_env=False, raise_for_status=False
            )
            self._sessions[loop] = session
        return session

    def _sync_upstream(self) -> SyncUpstream:
        with self._lock:
            if self._sync is None:
                from tollgate.providers.http_sync import SyncUpstream

                timeouts = self._timeouts
                self._sync = SyncUpstream(timeouts.connect, timeouts.read, allow_local_network=self._allow_local)
            return self._sync

    def sync_client(self) -> httpx.Client:
        """The process's synchronous client (``tollgate.providers.http_sync``; created on first use)."""
        return self._sync_upstream().client

    async def send_json(self, request: UpstreamRequest) -> JsonReply:
        """One JSON request/response; ``ProviderCallError`` on transport failure or status >= 400."""
        headers, content = json_request(request)
        timeout = self._call_timeout()
        with transport_failures(request.provider):
            async with self.session().request(
                request.method, URL(request.url), headers=headers, data=content, allow_redirects=False, timeout=timeout
            ) as response:
                body = await response.read()
                status, reply_headers = response.status, response.headers
        return read_json_reply(request, status, reply_headers, body)

    def send_json_sync(self, request: UpstreamRequest) -> JsonReply:
        """The same as ``send_json`` from synchronous code (credential checks only)."""
        return self._sync_upstream().send_json(request)

    async def open_stream(self, request: UpstreamRequest) -> UpstreamResponse:
        """Send the request and return the open response once a 2xx status arrived (caller closes it).
        The read timeout is fixed when it opens, capped by the call's deadline, so a stalled stream
        times out at the deadline at the latest."""
        headers = {"content-type": "application/json", "accept": "text/event-stream", **request.headers}
        timeout = self._call_timeout()
        with transport_failures(request.provider):
            raw = await self.session().request(
                request.method,
                URL(request.url),
                headers=headers,
                data=dumps(request.payload),
                allow_redirects=False,
                timeout=timeout,
            )
        response = UpstreamResponse(raw)
        if response.status_code >= 400:
            try:
                body = await response.read_bounded(MAX_ERROR_BODY_BYTES)
            finally:
                await response.aclose()
            raise request.classify(response.status_code, _parse_error_body(body), response.headers)
        return response

    def _call_timeout(self) -> aiohttp.ClientTimeout:
        """The transport's timeouts, capped by the current call's deadline when there is one. Always
        passed explicitly: aiohttp reads ``timeout=None`` as "no timeout at all"."""
        deadline = deadlines.current()
        if deadline is None or deadline.remaining_s() > self._longest_timeout_s:  # no cap would bite
            return self._default_timeout
        return self._timeouts.capped().aiohttp()

    def open_clients(self) -> int:
        """How many event loops have a pooled session (one per loop; diagnostics and tests)."""
        return len(self._sessions)

    async def aclose(self) -> None:
        """Close the current loop's session and its connections (server shutdown)."""
        loop = asyncio.get_running_loop()
        session = self._sessions.pop(loop, None)
        if session is not None:
            await session.close()

    def close(self) -> None:
        """Close the synchronous client and forget the async sessions. A session whose loop is
        closed has no live sockets left; its connector is marked closed so it is not reported as
        leaked."""
        with self._lock:
            if self._sync is not None:
                self._sync.close()
                self._sync = None
        for loop, session in list(self._sessions.items()):
            if loop.is_closed() and not session.closed:
                session.detach()
        self._sessions.clear()


def capped_timeout_s(timeout_s: float | None) -> float:
    """``timeout_s`` (None: no timeout) capped by the current call's deadline."""
    return deadlines.capped_timeout(timeout_s if timeout_s is not None else float("inf"))


def build_http_client(
    connect_timeout_s: float, read_timeout_s: float, max_connections: int, *, allow_local_network: bool
) -> UpstreamHttp:
    """The transport of a process: pooled keep-alive connections, explicit timeouts, no env proxies;
    base URLs checked at connect time unless ``allow_local_network`` (``tollgate.providers.guard``)."""
    return UpstreamHttp(connect_timeout_s, read_timeout_s, max_connections, allow_local_network=allow_local_network)


def read_json_reply(request: UpstreamRequest, status: int, headers: Mapping[str, str], content: bytes) -> JsonReply:
    """Classify an error status, else parse the JSON body (pure)."""
    if status >= 400:
        raise request.classify(status, _parse_error_body(content), headers)
    try:
        body = loads(content) if content.strip() else None
    except ValueError:
        raise upstream_error(request.provider, FailureKind.PROTOCOL, status=status) from None
    return JsonReply(status, headers, body)


async def aiter_lines(
    provider: str, response: UpstreamResponse, deadline: deadlines.Deadline | None = None
) -> AsyncIterator[str]:
    """Lines of a streamed body; transport failures mid-stream (a read timeout, a reset, a body cut
    short) become classified errors. ``deadline`` (the one in force when the stream opened; the
    relay runs outside it) ends the stream with ``DeadlineExceeded`` once it passes."""
    try:
        async for line in response.aiter_lines():
            if deadline is not None:
                deadline.check()
            yield line
    except TimeoutError:
        if deadline is not None:
            deadline.check()
        raise upstream_error(provider, FailureKind.TIMEOUT) from None
    except (aiohttp.ClientError, OSError):
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
