"""Guardrails on ``/v1/embeddings`` end to end through the stock ``openai`` SDK and the fake OpenAI
server: every input string is scanned; redact changes what the upstream receives, warn adds the
header, block refuses before the provider with a ``refused`` row and nothing reserved; token
arrays are forwarded under warn-only policies and refused under redact/block; no matched text in
the responses, the database or the logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import openai
import pytest
from sqlalchemy import select

from tests.e2e.providers.conftest import Gateway
from tests.e2e.test_guardrails import everything_in_the_database
from tests.fake_providers.base import FakeProvider, running
from tests.fake_providers.openai_server import fake_openai
from tollgate.db.models import ModelPrice, Reservation

MODEL = "openai/text-embedding-3-small"
EMAIL = "jane.doe@example.com"
LEAKED_KEY = "AKIA" + "Z7QX4LMB2WPK9RTE"
CARD = "4111 1111 1111 1111"
SECRETS = (EMAIL, LEAKED_KEY, CARD, "4111111111111111")


@pytest.fixture
def upstream(gateway: Gateway) -> Iterator[FakeProvider]:
    with running(fake_openai()) as server:
        gateway.add_credential("openai", "openai", server.url + "/v1", "sk-test-" + "e" * 24)
        with gateway.services.sessions.begin() as session:
            session.add(
                ModelPrice(
                    provider="openai",
                    model="text-embedding-3-small",
                    source="manual",
                    input_per_1m=Decimal("0.02"),
                    output_per_1m=Decimal(0),
                    effective_from=datetime(2025, 1, 1, tzinfo=UTC),
                )
            )
        yield server


def admin(gateway: Gateway) -> httpx.Client:
    return httpx.Client(
        base_url=gateway.server.base_url, headers={"Authorization": f"Bearer {gateway.tenant.admin_key}"}, timeout=30
    )


def test_embeddings_input_warn_redact_and_block(
    gateway: Gateway,
    upstream: FakeProvider,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    client = admin(gateway)
    settings = {
        "detectors": {"secrets": {"action": "warn"}, "pii_email": {"action": "redact"}, "pii_card": {"action": "block"}}
    }
    assert client.put("/v1/guardrails", json=settings).status_code == 200
    sdk = gateway.sdk()

    # When a list of strings holds an e-mail (redact) and a key (warn)
    raw = sdk.embeddings.with_raw_response.create(
        model=MODEL, input=["plain", f"mail {EMAIL} now", f"aws {LEAKED_KEY}"], encoding_format="float"
    )
    # Then the upstream received the redacted text, the key unchanged, and the answer warns
    assert upstream.requests[-1].body["input"] == ["plain", "mail [REDACTED:pii_email] now", f"aws {LEAKED_KEY}"]
    assert raw.headers["x-tollgate-guardrail"] == "secrets"
    assert len(raw.parse().data) == 3

    # When the input is a single string with an e-mail: it is redacted too
    sdk.embeddings.create(model=MODEL, input=f"{EMAIL}", encoding_format="float")
    assert upstream.requests[-1].body["input"] == ["[REDACTED:pii_email]"]

    # When an input holds a card number (block): 400 guardrail_blocked before the provider
    calls = len(upstream.requests)
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.embeddings.create(model=MODEL, input=["fine", f"card {CARD}"])
    error = refused.value.response.json()["error"]
    assert (error["type"], error["code"]) == ("guardrail_blocked", "pii_card") and error["request_id"]
    assert len(upstream.requests) == calls

    # Then the events name the input index, and the block left a refused row with nothing reserved
    events = client.get("/v1/security-events").json()["data"]
    seen = sorted((e["detector"], e["action"], e["role"], e["message_index"]) for e in events)
    assert seen == [
        ("pii_card", "block", "input", 1),
        ("pii_email", "redact", "input", 0),
        ("pii_email", "redact", "input", 1),
        ("secrets", "warn", "input", 2),
    ]
    rows = gateway.usage_rows()
    assert [(r.status, r.error_type) for r in rows] == [
        ("success", None),
        ("success", None),
        ("refused", "guardrail_blocked"),
    ]
    assert rows[2].cost_usd == 0 and rows[2].requested_model == MODEL
    with gateway.services.sessions() as session:
        assert session.scalars(select(Reservation)).all() == []

    # And no matched text is in any response, the database or the logs
    responses = json.dumps(events) + refused.value.response.text + raw.http_response.text
    stored = everything_in_the_database(gateway.server)
    out, err = capfd.readouterr()
    logs = caplog.text + out + err
    for secret in SECRETS:
        assert secret not in responses and secret not in stored and secret not in logs, secret


def test_token_arrays_pass_under_warn_and_are_refused_under_redact_or_block(
    gateway: Gateway, upstream: FakeProvider
) -> None:
    client = admin(gateway)
    sdk = gateway.sdk()
    tokens = [[9906, 1917], [15339]]
    # Given the default policy (secrets: warn): token arrays are forwarded unscanned
    sdk.embeddings.create(model=MODEL, input=tokens, encoding_format="float")
    assert upstream.requests[-1].body["input"] == tokens
    # Given a detector that redacts: token arrays cannot be scanned, so the call is refused
    assert client.put("/v1/guardrails", json={"detectors": {"pii_email": {"action": "redact"}}}).status_code == 200
    calls = len(upstream.requests)
    for value in (tokens, tokens[0]):
        with pytest.raises(openai.BadRequestError) as refused:
            sdk.embeddings.create(model=MODEL, input=value)
        error = refused.value.response.json()["error"]
        assert (error["type"], error["code"]) == ("guardrail_blocked", "unscannable_input")
    assert len(upstream.requests) == calls
    # Strings are still fine, and nothing was recorded as a detector hit
    sdk.embeddings.create(model=MODEL, input="hello", encoding_format="float")
    assert client.get("/v1/security-events").json()["data"] == []
    statuses = [(r.status, r.error_type) for r in gateway.usage_rows()]
    assert statuses == [("success", None), *[("refused", "guardrail_blocked")] * 2, ("success", None)]
