"""A stored provider key that cannot be decrypted at execution time (KMS key disabled, ciphertext
corrupted, another KMS key) fails the call with the documented error shape; no key material is in
the response or the logs, and nothing falls back to sending a request without the key."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import httpx
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from sqlalchemy import update

from tests.reliability.conftest import HookedUpstream, admin_client
from tests.support import LiveServer, Tenant, assert_error
from tollgate.aws.kms_wrapping import build_kms_wrapper
from tollgate.db.models import ProviderCredential
from tollgate.wiring import Services

UPSTREAM_KEY = "sk-test-kms-reliability-" + "q" * 24
CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi"}]}


@pytest.fixture
def kms(services: Services) -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("kms", region_name="us-east-1")
        arn = client.create_key(Description="tollgate reliability")["KeyMetadata"]["Arn"]
        services.key_wrapper = build_kms_wrapper(arn)
        yield client, arn


def _new_instance(services: Services, arn: str, botocore_session: botocore.session.Session | None = None) -> None:
    """What a fresh Lambda instance would have: no cached data keys, no cached decrypted targets."""
    services.key_wrapper = build_kms_wrapper(arn, botocore_session=botocore_session)
    services.credential_source.invalidate()


def _disabled_key_session(arn: str) -> botocore.session.Session:
    """KMS answering Decrypt with DisabledException (moto does not enforce a disabled key on Decrypt),
    with the key ARN in the message as the real service does."""

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "DisabledException", "Message": f"{arn} is disabled."}}, "Decrypt")

    session = botocore.session.Session()
    session.register("before-call.kms.Decrypt", refuse)
    return session


@pytest.mark.parametrize("failure", ["kms-key-disabled", "ciphertext-corrupted", "other-kms-key"])
def test_undecryptable_credential_fails_closed_without_leaking(
    live_server: LiveServer,
    tenant: Tenant,
    upstream: HookedUpstream,
    kms: tuple[Any, str],
    failure: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    client, arn = kms
    services = live_server.services
    admin = admin_client(live_server, tenant)
    created = admin.post(
        "/v1/credentials",
        json={"provider": "openai", "name": "main", "api_key": UPSTREAM_KEY, "base_url": upstream.fake.url + "/v1"},
    )
    assert created.status_code == 201, created.text
    # the stored key works while KMS does
    assert admin.post("/v1/chat/completions", json=CHAT).status_code == 200
    assert len(upstream.fake.requests) == 1

    # Given the ciphertext can no longer be decrypted
    if failure == "kms-key-disabled":
        client.disable_key(KeyId=arn.rsplit("/", 1)[1])
        _new_instance(services, arn, _disabled_key_session(arn))
    elif failure == "ciphertext-corrupted":
        with services.sessions.begin() as session:
            row = session.get(ProviderCredential, uuid.UUID(created.json()["id"]))
            assert row is not None and row.key_ciphertext is not None
            blob = bytearray(row.key_ciphertext)
            blob[len(blob) // 2] ^= 0xFF
            session.execute(
                update(ProviderCredential).where(ProviderCredential.id == row.id).values(key_ciphertext=bytes(blob))
            )
        _new_instance(services, arn)
    else:
        _new_instance(services, client.create_key(Description="another")["KeyMetadata"]["Arn"])
    caplog.set_level(logging.DEBUG)
    capfd.readouterr()

    # When the client calls
    response = admin.post("/v1/chat/completions", json=CHAT)
    # Then it fails with the documented shape and a code that names the cause, not the key
    error = assert_error(response, 500, "internal_error", "key_unwrap_failed")
    assert "decrypted" in error["message"]
    # And no request was sent upstream (no plaintext or keyless fallback)
    assert len(upstream.fake.requests) == 1
    # And neither the provider key, nor the KMS key id, nor the gateway key is in the response or the logs
    logs = caplog.text + "".join(capfd.readouterr())
    assert "could not be decrypted" in logs  # the failure is logged (keyed by request id) ...
    assert error["request_id"] in logs
    key_id = arn.rsplit("/", 1)[1]
    for secret in (UPSTREAM_KEY, UPSTREAM_KEY[3:], tenant.admin_key):
        assert secret not in response.text and secret not in logs
    assert key_id not in response.text and arn not in response.text
    assert all(secret not in str(v) for v in response.headers.values() for secret in (UPSTREAM_KEY, tenant.admin_key))
    # and the credential is reported as still having a key (nothing was reset or replaced silently)
    listed = httpx.get(
        live_server.base_url + "/v1/credentials", headers={"Authorization": f"Bearer {tenant.admin_key}"}
    ).json()["data"]
    assert [c["has_key"] for c in listed] == [True]
