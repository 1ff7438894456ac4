"""Gateway key format ``tg_<public_id>_<secret>``: generation, parsing and hashing.

Only SHA-256 of the secret is stored. Secrets carry 190 bits of entropy, so a fast hash is
the right tool (a slow password hash would only add latency to every request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from tollgate.ids import random_alnum

PREFIX = "tg_"
PUBLIC_ID_LENGTH = 12
SECRET_LENGTH = 32


@dataclass(frozen=True)
class ParsedKey:
    public_id: str
    secret: str


@dataclass(frozen=True)
class NewKey:
    public_id: str
    secret_hash: str
    plaintext: str


def generate_key() -> NewKey:
    public_id = random_alnum(PUBLIC_ID_LENGTH)
    secret = secrets.token_urlsafe(SECRET_LENGTH)[:SECRET_LENGTH].replace("_", "x").replace("-", "y")
    return NewKey(public_id=public_id, secret_hash=hash_secret(secret), plaintext=f"{PREFIX}{public_id}_{secret}")


def parse_key(value: str) -> ParsedKey | None:
    if not value.startswith(PREFIX):
        return None
    public_id, sep, secret = value[len(PREFIX) :].partition("_")
    if not sep or not public_id or not secret or len(public_id) > 32 or len(secret) > 256:
        return None
    return ParsedKey(public_id=public_id, secret=secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)


def key_matches(candidate: str, expected: str) -> bool:
    """Constant-time comparison of two whole keys (used for the configured root key)."""
    return hmac.compare_digest(candidate.encode(), expected.encode())
