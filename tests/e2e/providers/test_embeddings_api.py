"""``/v1/embeddings`` end to end with the stock ``openai`` SDK against the fake OpenAI and Gemini
servers: float and base64 vectors, ``dimensions``, token arrays, exact input-only pricing, budgets."""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import openai
import pytest

from tests.e2e.providers.conftest import Gateway
from tests.fake_providers import openai_server
from tests.fake_providers.base import FakeProvider, running
from tests.fake_providers.gemini_server import fake_gemini
from tests.fake_providers.openai_server import fake_openai
from tollgate.db.models import ModelPrice

SMALL = Decimal("0.02")  # text-embedding-3-small, USD per 1M input tokens (LiteLLM 2e-08 per token)
GEMINI = Decimal("0.15")  # gemini-embedding-001 (LiteLLM 1.5e-07 per token)
GEMINI_KEY = "AIzaSy" + "g" * 33


def _price(gateway: Gateway, provider: str, model: str, input_per_1m: Decimal) -> None:
    with gateway.services.sessions.begin() as session:
        session.add(
            ModelPrice(
                provider=provider,
                model=model,
                source="manual",
                input_per_1m=input_per_1m,
                output_per_1m=Decimal(0),
                max_input_tokens=8191,
                effective_from=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )


@pytest.fixture
def openai_up(gateway: Gateway) -> Iterator[FakeProvider]:
    with running(fake_openai()) as server:
        gateway.add_credential("openai", "openai", server.url + "/v1", "sk-test-" + "e" * 24)
        _price(gateway, "openai", "text-embedding-3-small", SMALL)
        yield server


@pytest.fixture
def gemini_up(gateway: Gateway) -> Iterator[FakeProvider]:
    with running(fake_gemini()) as server:
        gateway.add_credential("gemini", "gemini", server.url, GEMINI_KEY)
        _price(gateway, "gemini", "gemini-embedding-001", GEMINI)
        yield server


def test_openai_float_and_base64_priced_exactly(gateway: Gateway, openai_up: FakeProvider) -> None:
    sdk = gateway.sdk()
    texts = ["the quick brown fox", "jumps"]
    # When the SDK asks for floats, then for its default (base64, decoded by the SDK)
    raw = sdk.embeddings.with_raw_response.create(
        model="openai/text-embedding-3-small", input=texts, encoding_format="float"
    )
    floats = raw.parse()
    decoded = sdk.embeddings.create(model="openai/text-embedding-3-small", input=texts)
    # Then both carry the upstream's vectors, in order, and OpenAI's usage
    expected = [openai_server.vector(f'"{t}"') for t in texts]
    assert [d.embedding for d in floats.data] == expected
    assert [d.embedding for d in decoded.data] == expected
    assert openai_up.requests[1].body["encoding_format"] == "base64"
    assert floats.usage.prompt_tokens == floats.usage.total_tokens == 5
    assert floats.model == "openai/text-embedding-3-small"
    # And each call is one usage row priced at the input rate only
    rows = gateway.usage_rows()
    assert [(r.provider, r.input_tokens, r.output_tokens, r.stream) for r in rows] == [("openai", 5, 0, False)] * 2
    cost = Decimal(5) * SMALL / Decimal(1_000_000)
    assert all(r.cost_usd == cost for r in rows)
    assert Decimal(raw.headers["x-tollgate-cost-usd"]) == cost


def test_openai_token_arrays_and_dimensions_pass_through(gateway: Gateway, openai_up: FakeProvider) -> None:
    result = gateway.sdk().embeddings.create(
        model="openai/text-embedding-3-small", input=[[1, 2, 3], [4, 5]], dimensions=4, encoding_format="float"
    )
    assert openai_up.requests[0].body == {
        "model": "text-embedding-3-small",
        "input": [[1, 2, 3], [4, 5]],
        "encoding_format": "float",
        "dimensions": 4,
    }
    assert [len(d.embedding) for d in result.data] == [4, 4] and result.usage.prompt_tokens == 5


def test_gemini_batch_embed_contents_float_and_base64(gateway: Gateway, gemini_up: FakeProvider) -> None:
    sdk = gateway.sdk()
    floats = sdk.embeddings.create(
        model="gemini/gemini-embedding-001", input=["hello world", "hi"], dimensions=4, encoding_format="float"
    )
    raw = httpx.post(
        gateway.server.api_url + "/embeddings",
        headers={"authorization": f"Bearer {gateway.tenant.admin_key}"},
        json={
            "model": "gemini/gemini-embedding-001",
            "input": "hello world",
            "dimensions": 4,
            "encoding_format": "base64",
        },
    )
    # Then Gemini got batchEmbedContents with the key in its header, never the URL
    sent = gemini_up.requests[0]
    assert sent.path == "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert sent.headers["x-goog-api-key"] == GEMINI_KEY and GEMINI_KEY not in sent.query
    assert sent.body["requests"][0] == {
        "model": "models/gemini-embedding-001",
        "content": {"parts": [{"text": "hello world"}]},
        "outputDimensionality": 4,
    }
    # And the answers are OpenAI-shaped; base64 is little-endian float32 of the same vector
    assert [len(d.embedding) for d in floats.data] == [4, 4]
    encoded = raw.json()["data"][0]["embedding"]
    assert list(struct.unpack("<4f", base64.b64decode(encoded))) == floats.data[0].embedding
    # And Gemini reports no counts, so the estimator's count is billed at the input rate
    rows = gateway.usage_rows()
    assert rows[0].input_tokens == floats.usage.prompt_tokens > 0
    assert rows[0].cost_usd == Decimal(rows[0].input_tokens) * GEMINI / Decimal(1_000_000)


def test_refusals_name_the_problem(gateway: Gateway, gemini_up: FakeProvider) -> None:
    sdk = gateway.sdk()
    with pytest.raises(openai.BadRequestError) as tokens:
        sdk.embeddings.create(model="gemini/gemini-embedding-001", input=[[1, 2, 3]], encoding_format="float")
    assert "token-array input" in tokens.value.message
    gateway.add_credential("anthropic", "claude", "http://127.0.0.1:9", "sk-ant-" + "z" * 24)
    with pytest.raises(openai.BadRequestError) as none:
        sdk.embeddings.create(model="anthropic/claude-sonnet-4-5", input="x", encoding_format="float")
    assert "offers no embeddings API" in none.value.message
    assert gemini_up.requests == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "openai/text-embedding-3-small", "input": ""}, "body.input"),
        ({"model": "openai/text-embedding-3-small", "input": []}, "body.input"),
        ({"model": "openai/text-embedding-3-small", "input": 5}, "body.input"),
        ({"model": "openai/text-embedding-3-small", "input": "x", "encoding_format": "int8"}, "body.encoding_format"),
        ({"model": "openai/text-embedding-3-small", "input": "x", "dimensions": 0}, "body.dimensions"),
        ({"input": "x"}, "body.model"),
        ({"model": "openai/text-embedding-3-small", "input": "x", "dimensions": "256"}, "body.dimensions"),
    ],
)
def test_validation_errors(gateway: Gateway, openai_up: FakeProvider, body: dict[str, object], field: str) -> None:
    response = httpx.post(
        gateway.server.api_url + "/embeddings",
        headers={"authorization": f"Bearer {gateway.tenant.admin_key}"},
        json=body,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and field in error["message"] and error["request_id"]
    assert openai_up.requests == []


def test_budget_reserved_from_the_input_blocks_before_the_call(gateway: Gateway, openai_up: FakeProvider) -> None:
    admin = httpx.Client(base_url=gateway.server.base_url, headers={"x-api-key": gateway.tenant.admin_key})
    created = admin.post(
        "/v1/budgets",
        json={"name": "tiny", "scope": "workspace", "period": "monthly", "limit_usd": "0.0000001", "action": "block"},
    )
    assert created.status_code == 201, created.text
    with pytest.raises(openai.APIStatusError) as caught:
        gateway.sdk().embeddings.create(model="openai/text-embedding-3-small", input="word " * 400)
    assert caught.value.status_code == 402 and openai_up.requests == []


def test_models_list_embedding_models_with_their_price(gateway: Gateway, openai_up: FakeProvider) -> None:
    models = httpx.get(
        gateway.server.api_url + "/models", headers={"authorization": f"Bearer {gateway.tenant.admin_key}"}
    ).json()["data"]
    entry = next(m for m in models if m["id"] == "openai/text-embedding-3-small")
    assert (entry["input_per_1m"], entry["output_per_1m"]) == ("0.02", "0")
