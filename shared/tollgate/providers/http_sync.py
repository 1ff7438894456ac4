"""The synchronous upstream client: credential checks (``POST /v1/credentials/{id}/verify``...) and
model discovery, called from the synchronous management routes on a worker thread, never from the
execute path (async, on aiohttp: ``tollgate.providers.http``).

httpx is imported here only, when a process first checks a credential: the execute path, and so
the execute Lambda's cold start, does not load it (with its command-line extras, ~55 ms of imports
on the 2-core VM; ``python -m tests.bench.bench_lambda_init``).

With local network access off, every request resolves its host, checks every address with the
outbound rule and is sent to a checked address (``GuardedTransport``; the rule and the async twin
are in ``tollgate.providers.guard``).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import httpx

from tollgate.execution import deadline as deadlines
from tollgate.providers.guard import BlockedTarget, checked_address, lookup_name
from tollgate.providers.http import (
    JsonReply,
    UpstreamRequest,
    capped_timeout_s,
    json_request,
    read_json_reply,
    transport_failures,
)


class BlockedSyncTarget(BlockedTarget, httpx.TransportError):
    """``BlockedTarget`` raised inside httpx: also its transport error, so code that handles httpx's
    errors (model discovery) handles a refused host as one."""


def pinned(request: httpx.Request, address: str) -> None:
    """Send ``request`` to ``address``; TLS still verifies and sends SNI for the original host name."""
    host = request.url.host
    request.url = request.url.copy_with(host=address)
    if request.url.scheme == "https":
        request.extensions = {**request.extensions, "sni_hostname": host}


def _port(request: httpx.Request) -> int:
    return request.url.port or (443 if request.url.scheme == "https" else 80)


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport that checks every request's host (``guard.checked_address``) and pins the
    request to the checked address; one inner transport (pool) per host name. Raises
    ``BlockedSyncTarget``, or ``httpx.ConnectError`` for a name that does not resolve."""

    def __init__(self, factory: Callable[[], httpx.BaseTransport]) -> None:
        self._factory = factory
        self._by_host: dict[str, httpx.BaseTransport] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        try:
            infos = socket.getaddrinfo(lookup_name(host), _port(request), proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            raise httpx.ConnectError(f"cannot resolve {host}") from exc
        with self._lock:
            inner = self._by_host.get(host) or self._by_host.setdefault(host, self._factory())
        try:
            address = checked_address(host, list(infos))
        except BlockedTarget as blocked:
            raise BlockedSyncTarget(str(blocked)) from None
        pinned(request, address)
        return inner.handle_request(request)

    def close(self) -> None:
        with self._lock:
            for inner in self._by_host.values():
                inner.close()


# httpx's exceptions, for ``http.transport_failures``
_TIMEOUTS = (httpx.TimeoutException,)
_NETWORK = (httpx.TransportError, OSError)


class SyncUpstream:
    """One pooled ``httpx.Client`` (8 connections, no environment proxies), explicit timeouts in
    seconds capped by the current call's deadline, hosts checked unless ``allow_local_network``."""

    def __init__(self, connect_timeout_s: float, read_timeout_s: float, *, allow_local_network: bool) -> None:
        self._timeout = httpx.Timeout(
            connect=connect_timeout_s, read=read_timeout_s, write=read_timeout_s, pool=connect_timeout_s
        )

        def inner() -> httpx.BaseTransport:
            return httpx.HTTPTransport(limits=httpx.Limits(max_connections=8), trust_env=False)

        transport = inner() if allow_local_network else GuardedTransport(inner)
        self.client = httpx.Client(timeout=self._timeout, trust_env=False, transport=transport)

    def send_json(self, request: UpstreamRequest) -> JsonReply:
        """One JSON request/response; ``ProviderCallError`` on transport failure or status >= 400."""
        headers, content = json_request(request)
        with transport_failures(request.provider, timeouts=_TIMEOUTS, network=_NETWORK):
            response = self.client.request(
                request.method, request.url, headers=headers, content=content, timeout=self._call_timeout()
            )
        return read_json_reply(request, response.status_code, response.headers, response.content)

    def _call_timeout(self) -> httpx.Timeout:
        base = self._timeout
        if deadlines.current() is None:
            return base
        return httpx.Timeout(
            connect=capped_timeout_s(base.connect),
            read=capped_timeout_s(base.read),
            write=capped_timeout_s(base.write),
            pool=capped_timeout_s(base.pool),
        )

    def close(self) -> None:
        self.client.close()
