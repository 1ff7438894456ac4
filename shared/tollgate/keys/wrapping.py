"""The ``KeyWrapper`` port: envelope encryption of provider keys and channel secrets.

Implementations (AWS KMS and a local AES-256-GCM master key, both over aws-encryption-sdk, chosen
by ``tollgate.key_backend``) bind every ciphertext to an encryption context such as
``{"workspace_id": ..., "credential_id": ..., "purpose": "provider_key"}`` and check it on decrypt.
The context is not secret (it is visible in CloudTrail); it stops a ciphertext from being
replayed into another workspace's or credential's row.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Protocol

from tollgate.errors import InternalError

PROVIDER_KEY_PURPOSE = "provider_key"
ALERT_CHANNEL_PURPOSE = "alert_channel_secret"


class KeyUnwrapError(InternalError):
    """Ciphertext could not be decrypted for the expected context (wrong key, context or corrupted).

    Deliberately carries no ciphertext, plaintext or SDK message (which can name key ids)."""

    default_code = "key_unwrap_failed"


class KeyWrapper(Protocol):
    def encrypt(self, plaintext: bytes, context: Mapping[str, str]) -> bytes: ...

    def decrypt(self, ciphertext: bytes, context: Mapping[str, str]) -> bytes: ...


def credential_context(workspace_id: uuid.UUID, credential_id: uuid.UUID) -> dict[str, str]:
    return {"workspace_id": str(workspace_id), "credential_id": str(credential_id), "purpose": PROVIDER_KEY_PURPOSE}


def channel_context(workspace_id: uuid.UUID, channel_id: uuid.UUID) -> dict[str, str]:
    return {"workspace_id": str(workspace_id), "channel_id": str(channel_id), "purpose": ALERT_CHANNEL_PURPOSE}
