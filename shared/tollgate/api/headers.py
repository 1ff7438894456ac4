"""How header bytes become text and text becomes header bytes, the same in every adapter.

Rules (issue: attribution sent as UTF-8 was stored garbled; a non-latin-1 model name broke the response):

- Request header values are decoded as UTF-8 (curl and most clients send raw UTF-8). The gateway's
  own headers (``x-tollgate-*``, ``authorization``, ``x-api-key``) that are not valid UTF-8 are
  refused with 400 ``invalid_header_encoding``; any other header falls back to latin-1 (it is never
  interpreted by the gateway).
- A header repeated in one request is combined into one value joined by ``", "`` (RFC 9110 §5.3),
  as API Gateway does, so every adapter sees the same thing (credentials then refuse the comma).
- Response header values are sent as visible ASCII: any other character (non-ASCII, controls)
  is percent-encoded from its UTF-8 bytes (RFC 3986 / RFC 8187 style), e.g. the model
  ``模型-v1`` is sent as ``%E6%A8%A1%E5%9E%8B-v1``. Encoding never raises.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from tollgate.errors import InvalidRequest

_STRICT_PREFIXES = ("x-tollgate-",)
_STRICT_NAMES = frozenset({"authorization", "x-api-key"})
# visible ASCII except '%' (so an encoded value decodes unambiguously) stays as is
_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def _strict(name: str) -> bool:
    return name in _STRICT_NAMES or name.startswith(_STRICT_PREFIXES)


def decode_value(name: str, raw: bytes) -> str:
    """``raw`` as UTF-8; raises ``InvalidRequest`` (400 ``invalid_header_encoding``) for the
    gateway's own headers that are not UTF-8, latin-1 for any other header."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if _strict(name):
            raise InvalidRequest(
                f"Header {name} is not valid UTF-8; send header values as UTF-8",
                code="invalid_header_encoding",
            ) from None
        return raw.decode("latin-1")


def decode_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI header pairs → lower-cased names to text values; repeated names joined with ``", "``."""
    headers: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        name = name_bytes.decode("latin-1").lower()
        value = decode_value(name, value_bytes)
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def repair_text(name: str, value: str) -> str:
    """A header value a platform handed over as text (API Gateway): when its characters are bytes
    of UTF-8 decoded as latin-1 (``donnÃ©es``), the UTF-8 reading (``données``) is returned."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def encode_value(value: str) -> str:
    """A response header value as visible ASCII: other characters percent-encoded as UTF-8."""
    # ASCII and printable is exactly " " to "~" (C-speed checks: this runs for every response header)
    if value.isascii() and value.isprintable() and "%" not in value:
        return value
    return quote(value, safe=_SAFE)


def encode_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """Response headers as ASGI byte pairs; never raises (see ``encode_value``)."""
    return [(encode_value(k).encode("ascii"), encode_value(v).encode("ascii")) for k, v in headers.items()]
