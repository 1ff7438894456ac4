"""Envelope encryption over aws-encryption-sdk, shared by the KMS and the local backend.

Both backends differ only in the master key provider (KMS key or raw AES-256-GCM wrapping key);
the message format, the encryption-context check and the errors are the same, so the same code
stores and reads ciphertext whichever backend wrote it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_encryption_sdk
from aws_encryption_sdk.exceptions import AWSEncryptionSDKClientError
from aws_encryption_sdk.identifiers import CommitmentPolicy

from tollgate.keys.wrapping import KeyUnwrapError

__all__ = ["EnvelopeKeyWrapper", "KeyUnwrapError"]

# Keys the SDK itself adds to the encryption context (the signing suite's public key).
_RESERVED_PREFIX = "aws-crypto-"
MAX_ENCRYPTED_DATA_KEYS = 1


class EnvelopeKeyWrapper:
    """``KeyWrapper`` over an aws-encryption-sdk master key provider or materials manager."""

    def __init__(self, *, key_provider: Any = None, materials_manager: Any = None, backend: str) -> None:
        if (key_provider is None) == (materials_manager is None):
            raise ValueError("give exactly one of key_provider or materials_manager")
        self.backend = backend
        self._client = aws_encryption_sdk.EncryptionSDKClient(
            commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
            max_encrypted_data_keys=MAX_ENCRYPTED_DATA_KEYS,
        )
        self._source: dict[str, Any] = (
            {"key_provider": key_provider} if key_provider is not None else {"materials_manager": materials_manager}
        )

    def encrypt(self, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        _check_context(context)
        ciphertext, _header = self._client.encrypt(source=plaintext, encryption_context=dict(context), **self._source)
        return bytes(ciphertext)

    def decrypt(self, ciphertext: bytes, context: Mapping[str, str]) -> bytes:
        """Raises ``KeyUnwrapError`` when the ciphertext does not decrypt under ``context``."""
        _check_context(context)
        try:
            plaintext, header = self._client.decrypt(source=ciphertext, **self._source)
        except AWSEncryptionSDKClientError:
            raise KeyUnwrapError("Stored secret could not be decrypted with the configured key") from None
        except Exception as exc:  # botocore / KMS errors: keep messages (ARNs, request ids) out
            raise KeyUnwrapError(f"Stored secret could not be decrypted ({type(exc).__name__})") from None
        stored = {k: v for k, v in header.encryption_context.items() if not k.startswith(_RESERVED_PREFIX)}
        if stored != dict(context):
            raise KeyUnwrapError("Stored secret belongs to a different context")
        return bytes(plaintext)


def _check_context(context: Mapping[str, str]) -> None:
    if not context or any(k.startswith(_RESERVED_PREFIX) for k in context):
        raise ValueError("an encryption context with our own keys is required")
