"""The AWS backend: aws-encryption-sdk with a KMS key (strict mode: only the configured key ARN).

Data keys are cached by the SDK's caching materials manager for a short time and a bounded number
of messages, so a busy instance does not call KMS for every decrypt of the same credential.
"""

from __future__ import annotations

import re

import botocore.session
from aws_encryption_sdk.caches.local import LocalCryptoMaterialsCache
from aws_encryption_sdk.key_providers.kms import StrictAwsKmsMasterKeyProvider
from aws_encryption_sdk.materials_managers.caching import CachingCryptoMaterialsManager

from tollgate.keys.envelope import EnvelopeKeyWrapper

KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-fA-F-]{36}$")
CACHE_CAPACITY = 200
CACHE_MAX_AGE_S = 60.0
CACHE_MAX_MESSAGES = 100


def build_kms_wrapper(
    key_arn: str,
    *,
    botocore_session: botocore.session.Session | None = None,
    max_age_s: float = CACHE_MAX_AGE_S,
    max_messages: int = CACHE_MAX_MESSAGES,
) -> EnvelopeKeyWrapper:
    """Raises ``ValueError`` unless ``key_arn`` is a full KMS key ARN."""
    if not KEY_ARN.match(key_arn):
        raise ValueError("TOLLGATE_KMS_KEY_ARN must be a full key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
    provider = StrictAwsKmsMasterKeyProvider(
        key_ids=[key_arn], botocore_session=botocore_session or botocore.session.Session()
    )
    manager = CachingCryptoMaterialsManager(
        master_key_provider=provider,
        cache=LocalCryptoMaterialsCache(capacity=CACHE_CAPACITY),
        max_age=float(max_age_s),
        max_messages_encrypted=max_messages,
    )
    return EnvelopeKeyWrapper(materials_manager=manager, backend="kms")
