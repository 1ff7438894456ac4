"""SSRF guard for outbound webhooks: https only, and never to private, loopback, link-local,
metadata or otherwise non-global addresses. ``allow_local`` (TOLLGATE_ALLOW_LOCAL_NETWORK, for
local testing only) additionally allows loopback targets, over http too."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from tollgate.errors import InvalidRequest

Resolver = Callable[[str, int], list[str]]

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)


class UnsafeTarget(InvalidRequest):
    default_code = "unsafe_target"


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_local: bool) -> bool:
    """The one outbound-address rule (webhooks and provider base URLs): metadata, private,
    link-local, reserved, multicast and unspecified addresses are refused; loopback only when
    ``allow_local`` is off."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return True
    if address.is_loopback:
        return not allow_local
    return not address.is_global or address.is_multicast


def check_target(url: str, *, allow_local: bool, resolve: Resolver = system_resolver) -> None:
    """Raise ``UnsafeTarget`` unless ``url`` is a safe outbound webhook target right now."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeTarget("target: not a valid URL") from None
    host = parts.hostname
    if not host or parts.username or parts.password:
        raise UnsafeTarget("target: must be an absolute https URL without credentials")
    if parts.scheme not in ("https", "http"):
        raise UnsafeTarget("target: must use https")
    try:
        literal = _literal(host)
        addresses = [literal] if literal else [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host, port)]
    except (OSError, UnicodeError, ValueError):
        raise UnsafeTarget("target: host does not resolve") from None
    if not addresses:
        raise UnsafeTarget("target: host does not resolve")
    if any(refused_address(a, allow_local) for a in addresses):
        raise UnsafeTarget("target: resolves to a private, loopback, link-local or metadata address")
    if parts.scheme == "http" and not (allow_local and all(a.is_loopback for a in addresses)):
        raise UnsafeTarget("target: must use https")
