"""The ``KeyWrapper`` port: envelope encryption of provider keys and channel secrets.

Implementations (AWS KMS and a local AES-256-GCM master key, both over aws-encryption-sdk) bind
every ciphertext to an encryption context such as
``{"workspace_id": ..., "credential_id": ..., "purpose": "provider_key"}`` and check it on decrypt.
The context is not secret (it is visible in CloudTrail); it stops a ciphertext from being
replayed into another workspace's or credential's row.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from tollgate.errors import InternalError

if TYPE_CHECKING:
    from tollgate.config import Settings

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


def build_key_wrapper(settings: Settings) -> KeyWrapper:
    """KMS when ``TOLLGATE_KEY_BACKEND=kms`` (needs ``TOLLGATE_KMS_KEY_ARN``), else the local master key."""
    if settings.key_backend == "kms":
        if not settings.kms_key_arn:
            raise ValueError("TOLLGATE_KMS_KEY_ARN is required when TOLLGATE_KEY_BACKEND=kms")
        from tollgate.aws.kms_wrapping import build_kms_wrapper

        return build_kms_wrapper(settings.kms_key_arn)
    from tollgate.keys.local_wrapping import build_local_wrapper
    from tollgate.keys.master_key import MasterKeyStore

    master = MasterKeyStore(settings.home, settings.master_key).load()
    return build_local_wrapper(master.material)
