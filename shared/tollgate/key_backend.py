"""Which ``KeyWrapper`` a deployment uses: AWS KMS or the local master key, chosen by settings.

This sits above both ``tollgate.keys`` (the port and the local backend) and ``tollgate.aws`` (the
KMS backend), so neither imports the other.
"""

from __future__ import annotations

from tollgate.config import Settings
from tollgate.keys.wrapping import KeyWrapper


def build_key_wrapper(settings: Settings) -> KeyWrapper:
    """KMS when ``TOLLGATE_KEY_BACKEND=kms`` (needs ``TOLLGATE_KMS_KEY_ARN``), else the local master key.

    Raises ``ValueError`` when the KMS backend is chosen without a key ARN; the local backend raises
    what ``MasterKeyStore.load`` raises when no master key can be read or created.
    """
    if settings.key_backend == "kms":
        if not settings.kms_key_arn:
            raise ValueError("TOLLGATE_KMS_KEY_ARN is required when TOLLGATE_KEY_BACKEND=kms")
        from tollgate.aws.kms_wrapping import build_kms_wrapper

        return build_kms_wrapper(settings.kms_key_arn)
    from tollgate.keys.local_wrapping import build_local_wrapper
    from tollgate.keys.master_key import MasterKeyStore

    master = MasterKeyStore(settings.home, settings.master_key).load()
    return build_local_wrapper(master.material)
