"""Webhook signatures: ``X-Tollgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">``."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Tollgate-Signature"
DEFAULT_TOLERANCE_S = 300


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, body: bytes, header: str, now: int, tolerance_s: int = DEFAULT_TOLERANCE_S) -> bool:
    """What a receiver does: recompute, compare in constant time, reject stale timestamps (replays)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))
