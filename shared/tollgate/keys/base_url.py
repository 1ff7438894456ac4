"""The rules a credential's base URL must follow, and the provider default when it gives none
(the defaults are the provider registry's, ``tollgate.providers.registry``)."""

from __future__ import annotations

import ipaddress
from typing import Final
from urllib.parse import urlsplit

from tollgate.errors import InvalidRequest
from tollgate.providers.registry import PROVIDERS as REGISTRY

DEFAULT_BASE_URLS: Final[dict[str, str]] = {
    spec.name: spec.default_base_url for spec in REGISTRY if spec.credential and spec.default_base_url
}
MAX_URL_LENGTH = 500
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def resolve_base_url(provider: str, base_url: str | None, *, allow_local_network: bool) -> str:
    """The URL to store: the given one (validated) or the provider's default.

    Raises ``InvalidRequest`` for a URL ``validate_base_url`` refuses."""
    if base_url is None:
        default = DEFAULT_BASE_URLS.get(provider)
        if default is None:
            raise InvalidRequest(f"body.base_url: required for provider '{provider}'", code="validation_error")
        return default
    return validate_base_url(base_url, allow_local_network=allow_local_network)


def validate_base_url(url: str, *, allow_local_network: bool) -> str:
    """https only; http only to localhost when local networking is allowed; no credentials,
    query or fragment in the URL; no private, loopback or link-local IP literals.

    Raises ``InvalidRequest`` when any of these rules is broken."""
    if len(url) > MAX_URL_LENGTH:
        raise _bad(f"at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        _ = parts.port  # raises on a malformed port
    except ValueError:
        raise _bad("not a valid URL") from None
    if parts.scheme not in ("https", "http") or not host:
        raise _bad("must be an https:// URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _bad("must not contain credentials; put the key in api_key")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise _bad("must not contain a query string or fragment")
    local = _is_local(host)
    if local and not allow_local_network:
        raise _bad("localhost is only allowed when TOLLGATE_ALLOW_LOCAL_NETWORK is on")
    if parts.scheme == "http" and not local:
        raise _bad("must use https (http is allowed only to localhost in local mode)")
    if not local and _is_private_ip(host):
        raise _bad("must not point to a private, loopback or link-local address")
    return url.rstrip("/")


def _is_local(host: str) -> bool:
    return host in _LOCAL_HOSTS or host.endswith(".localhost")


def _is_private_ip(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global or address.is_multicast


def _bad(reason: str) -> InvalidRequest:
    return InvalidRequest(f"body.base_url: {reason}", code="invalid_base_url")
