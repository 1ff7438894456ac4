"""The ``KeyWrapper`` port: envelope encryption of provider keys and channel secrets.

Implementations (AWS KMS and a local AES-256-GCM keyring, both over aws-encryption-sdk) bind
every ciphertext to an encryption context such as
``{"workspace_id": ..., "credential_id": ..., "purpose": "provider_key"}`` and check it on decrypt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class KeyWrapper(Protocol):
    def encrypt(self, plaintext: bytes, context: Mapping[str, str]) -> bytes: ...

    def decrypt(self, ciphertext: bytes, context: Mapping[str, str]) -> bytes: ...
