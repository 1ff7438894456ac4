"""The local backend: aws-encryption-sdk with a raw AES-256-GCM wrapping key (the master key).

The SDK's raw AES master key is the message-format twin of its "Raw AES keyring": the data key of
every message is wrapped with AES-256-GCM under the master key, and the key id (a fingerprint of
the master key) is written into the message so a wrong or rotated master key is detected.
"""

from __future__ import annotations

from aws_encryption_sdk.identifiers import EncryptionKeyType, WrappingAlgorithm
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.raw import RawMasterKey

from tollgate.keys.envelope import EnvelopeKeyWrapper
from tollgate.keys.master_key import KEY_BYTES, key_id_of

PROVIDER_ID = "tollgate-local"


def raw_master_key(material: bytes) -> RawMasterKey:
    """The aws-encryption-sdk master key for 32 bytes of material. Raises ``ValueError`` for any other length."""
    if len(material) != KEY_BYTES:
        raise ValueError("the local master key must be 256 bits")
    return RawMasterKey(
        provider_id=PROVIDER_ID,
        key_id=key_id_of(material).encode(),
        wrapping_key=WrappingKey(
            wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
            wrapping_key=material,
            wrapping_key_type=EncryptionKeyType.SYMMETRIC,
        ),
    )


def build_local_wrapper(material: bytes) -> EnvelopeKeyWrapper:
    return EnvelopeKeyWrapper(key_provider=raw_master_key(material), backend="local")
