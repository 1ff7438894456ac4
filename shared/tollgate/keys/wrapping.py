"""The ``KeyWrapper`` port: envelope encryption of provider keys and channel secrets.

Implementations (AWS KMS and a local AES-256-GCM keyring, both over aws-encryption-sdk) bind
every ciphertext to an encryption context such as
``{"workspace_id": ..., "credential_id": ..., "purpose": "provider_key"}`` and check it on decrypt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tollgate.config import Settings


class KeyWrapper(Protocol):
    def encrypt(self, plaintext: bytes, context: Mapping[str, str]) -> bytes: ...

    def decrypt(self, ciphertext: bytes, context: Mapping[str, str]) -> bytes: ...


def build_key_wrapper(settings: Settings) -> KeyWrapper:
    """KMS or local wrapping per ``settings.key_backend`` (implemented by the key-custody work)."""
    raise NotImplementedError("key wrapping backends land with the key-custody change")
