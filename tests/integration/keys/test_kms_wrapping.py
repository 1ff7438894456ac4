"""The KMS backend against moto: wrap, unwrap, and refuse the wrong context or the wrong key."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tollgate.aws.kms_wrapping import build_kms_wrapper
from tollgate.config import Settings
from tollgate.key_backend import build_key_wrapper
from tollgate.keys.envelope import KeyUnwrapError
from tollgate.keys.local_wrapping import build_local_wrapper
from tollgate.keys.master_key import generate_material
from tollgate.keys.wrapping import channel_context, credential_context

WS, CRED = uuid.uuid4(), uuid.uuid4()
SECRET = b"sk-test-kms-" + uuid.uuid4().hex.encode()


@pytest.fixture
def kms() -> Iterator[object]:
    with mock_aws():
        yield boto3.client("kms", region_name="us-east-1")


def new_key_arn(kms: object) -> str:
    return str(kms.create_key(Description="tollgate test")["KeyMetadata"]["Arn"])  # type: ignore[attr-defined]


def test_wrap_and_unwrap_round_trip(kms: object) -> None:
    wrapper = build_kms_wrapper(new_key_arn(kms))
    context = credential_context(WS, CRED)
    ciphertext = wrapper.encrypt(SECRET, context)
    assert SECRET not in ciphertext
    assert wrapper.decrypt(ciphertext, context) == SECRET
    # the settings factory picks the same backend
    settings = Settings(key_backend="kms", kms_key_arn=new_key_arn(kms))
    via_settings = build_key_wrapper(settings)
    assert via_settings.decrypt(via_settings.encrypt(SECRET, context), context) == SECRET


@pytest.mark.parametrize(
    "other_context",
    [
        credential_context(uuid.uuid4(), CRED),  # another workspace
        credential_context(WS, uuid.uuid4()),  # another credential
        channel_context(WS, CRED),  # another purpose
        {**credential_context(WS, CRED), "extra": "x"},
    ],
)
def test_wrong_encryption_context_fails(kms: object, other_context: dict[str, str]) -> None:
    wrapper = build_kms_wrapper(new_key_arn(kms))
    ciphertext = wrapper.encrypt(SECRET, credential_context(WS, CRED))
    with pytest.raises(KeyUnwrapError) as caught:
        wrapper.decrypt(ciphertext, other_context)
    assert SECRET.decode() not in str(caught.value)


def test_another_kms_key_cannot_decrypt(kms: object) -> None:
    first, second = build_kms_wrapper(new_key_arn(kms)), build_kms_wrapper(new_key_arn(kms))
    context = credential_context(WS, CRED)
    ciphertext = first.encrypt(SECRET, context)
    with pytest.raises(KeyUnwrapError) as caught:
        second.decrypt(ciphertext, context)
    assert "arn:aws" not in str(caught.value)


def test_local_and_kms_ciphertexts_do_not_cross(kms: object) -> None:
    context = credential_context(WS, CRED)
    kms_wrapper, local_wrapper = build_kms_wrapper(new_key_arn(kms)), build_local_wrapper(generate_material())
    with pytest.raises(KeyUnwrapError):
        local_wrapper.decrypt(kms_wrapper.encrypt(SECRET, context), context)
    with pytest.raises(KeyUnwrapError):
        kms_wrapper.decrypt(local_wrapper.encrypt(SECRET, context), context)


def test_data_keys_are_cached_for_repeated_decrypts(kms: object) -> None:
    calls: list[str] = []
    import botocore.session

    session = botocore.session.Session()

    def record(**kwargs: Any) -> None:
        calls.append(kwargs["model"].name)

    session.register("before-call.kms.*", record)
    wrapper = build_kms_wrapper(new_key_arn(kms), botocore_session=session)
    context = credential_context(WS, CRED)
    ciphertext = wrapper.encrypt(SECRET, context)
    for _ in range(5):
        assert wrapper.decrypt(ciphertext, context) == SECRET
    assert calls.count("Decrypt") == 1


def test_configuration_errors_are_explicit() -> None:
    with pytest.raises(ValueError, match="full key ARN"):
        build_kms_wrapper("alias/tollgate")
    with pytest.raises(ValueError, match="KMS_KEY_ARN"):
        build_key_wrapper(Settings(key_backend="kms"))
    with pytest.raises(ValueError, match="encryption context"):
        build_local_wrapper(generate_material()).encrypt(SECRET, {})
