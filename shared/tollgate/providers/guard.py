"""Connect-time guard of provider base URLs (issue: a base URL reached 127.0.0.1 through
``0x7f000001``, ``127.1``, ``2130706433``, ``0``, ``localhost.`` or a DNS name resolving privately).

With ``TOLLGATE_ALLOW_LOCAL_NETWORK`` off, every upstream connection resolves its host first,
checks EVERY address with the webhook rule (``tollgate.ssrf.refused_address``) and connects
to a checked address (TLS still verifies and sends SNI for the original host name), so a DNS
answer that changes after the check cannot reach a refused address. The async execute transport
does it in ``GuardedConnector`` (aiohttp: every new pooled connection, IP literals included); the
synchronous credential check in ``GuardedTransport`` (httpx: every request, the URL rewritten to
the checked address; ``tollgate.providers.http_sync``, so that httpx is imported only where the
synchronous client is used). A credential saved while local access was on stops working once it
is turned off. A refused host raises ``BlockedTarget`` (mapped to 424 ``base_url_blocked``).
With local access on, nothing is checked (local development and the test suite's fake servers).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp.abc import ResolveResult

from tollgate.ssrf import refused_address

RULE = (
    "the credential's base URL resolves to a private, loopback, link-local or metadata address, which is "
    "refused while TOLLGATE_ALLOW_LOCAL_NETWORK is off"
)
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedTarget(Exception):
    """The upstream host resolves to an address the outbound rule refuses. Not an ``OSError``:
    aiohttp would report that as a DNS failure (a network error) instead of letting it through."""


def checked_address(host: str, infos: list[Any]) -> str:
    """The address to connect to, from ``getaddrinfo`` results for ``host``; raises
    ``BlockedTarget`` when there is none or ANY of them is refused."""
    addresses: list[Address] = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses or any(refused_address(a, False) for a in addresses):
        raise BlockedTarget(RULE)
    return str(addresses[0])


def lookup_name(host: str) -> str:
    """The name resolved: a fully qualified ``localhost.`` is the same host as ``localhost``."""
    return host.rstrip(".") or host


class GuardedConnector(aiohttp.TCPConnector):
    """aiohttp's connector with every host (names and IP literals in any spelling) resolved with
    ``getaddrinfo`` and checked before a connection opens; the connection goes to the checked
    addresses only (no DNS cache between check and connect). Pooled connections are keyed by host
    name, so an open connection was checked when it opened. Raises ``BlockedTarget``; a name that
    does not resolve raises ``OSError`` (a network failure)."""

    async def _resolve_host(self, host: str, port: int, traces: Sequence[Any] | None = None) -> list[ResolveResult]:
        name = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        try:
            infos = await self._loop.getaddrinfo(lookup_name(name), port, type=socket.SOCK_STREAM)
        except UnicodeError as exc:
            raise OSError(f"cannot resolve {host}") from exc
        checked_address(name, list(infos))
        return [
            ResolveResult(
                hostname=host,
                host=str(info[4][0]),
                port=int(info[4][1]),
                family=info[0],
                proto=info[2],
                flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
            for info in infos
            if info[0] in (socket.AF_INET, socket.AF_INET6)
        ]
