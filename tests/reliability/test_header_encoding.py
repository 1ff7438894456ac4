"""Header bytes in and out of the gateway: a non-latin-1 model name never breaks the response after
the upstream call (and every call keeps its usage row), attribution sent as raw UTF-8 resolves to
the same label as body ``metadata`` (so a scoped budget applies either way), and ambiguous
credentials are refused instead of "the last one wins"."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import unquote, urlsplit

import httpx
import openai
import pytest

from tests.e2e.providers.conftest import Gateway, add_price, gateway  # noqa: F401 - the fixture
from tests.fake_providers import openai_server
from tests.fake_providers.base import FakeProvider, running
from tollgate.api.app import extract_key
from tollgate.api.headers import decode_headers, encode_value, repair_text
from tollgate.api.http import ApiResponse
from tollgate.api.lambda_adapter import request_from_event, response_to_result
from tollgate.errors import AuthenticationFailed, InvalidRequest

MODEL = "模型-v1"
WORKFLOW = "données-été"


@pytest.fixture
def upstream(gateway: Gateway) -> Iterator[FakeProvider]:  # noqa: F811
    with running(openai_server.fake_openai()) as fake:
        gateway.add_credential("custom", "local", fake.url + "/v1", "sk-local-0001", default_model=MODEL)
        gateway.add_credential("openai", "main", fake.url + "/v1", "sk-openai-0001")
        add_price(gateway.services, "custom", MODEL)
        yield fake


def test_unicode_model_name_answers_and_records_non_stream(gateway: Gateway, upstream: FakeProvider) -> None:  # noqa: F811
    response = httpx.post(
        f"{gateway.server.api_url}/chat/completions",
        json={"model": f"custom:local/{MODEL}", "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {gateway.tenant.admin_key}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"]
    assert response.headers["x-tollgate-model"] == "%E6%A8%A1%E5%9E%8B-v1"
    assert unquote(response.headers["x-tollgate-model"]) == MODEL
    (row,) = gateway.wait_for_rows(1)
    assert (row.status, row.model) == ("success", MODEL)


def test_unicode_model_name_answers_and_records_stream(gateway: Gateway, upstream: FakeProvider) -> None:  # noqa: F811
    client = gateway.sdk()
    chunks = list(
        client.chat.completions.create(
            model=f"custom:local/{MODEL}", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    )
    assert chunks and chunks[-1].model == f"custom/{MODEL}"
    (row,) = gateway.wait_for_rows(1)
    assert (row.status, row.model) == ("success", MODEL)
    assert row.output_tokens > 0


def _raw_post(url: str, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, bytes]:
    """An HTTP/1.1 request with header bytes exactly as given (raw UTF-8, as curl sends)."""
    parts = urlsplit(url)
    lines = [f"POST {parts.path} HTTP/1.1".encode(), f"Host: {parts.netloc}".encode()]
    lines += [name + b": " + value for name, value in headers]
    lines += [b"Content-Type: application/json", f"Content-Length: {len(body)}".encode(), b"Connection: close"]
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, payload = received.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), payload


def _budget(gateway: Gateway) -> None:  # noqa: F811
    budget = {
        "name": "w",
        "scope": "workflow",
        "scope_value": WORKFLOW,
        "period": "monthly",
        "limit_usd": "0.000001",
        "action": "block",
    }
    created = httpx.post(
        f"{gateway.server.api_url}/budgets",
        json=budget,
        headers={"authorization": f"Bearer {gateway.tenant.admin_key}"},
    )
    assert created.status_code == 201, created.text


@pytest.mark.parametrize("where", ["header", "metadata"])
def test_workflow_budget_refuses_raw_utf8_header_and_metadata(
    gateway: Gateway,  # noqa: F811
    upstream: FakeProvider,
    where: str,
) -> None:
    _budget(gateway)
    headers = [(b"Authorization", f"Bearer {gateway.tenant.admin_key}".encode())]
    body: dict[str, object] = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    if where == "header":
        headers.append((b"X-Tollgate-Workflow", WORKFLOW.encode("utf-8")))
    else:
        body["metadata"] = {"workflow": WORKFLOW}
    status, payload = _raw_post(
        f"{gateway.server.api_url}/chat/completions", headers, httpx.Request("POST", "/", json=body).content
    )
    assert status == 402, payload
    assert b"budget_exceeded" in payload
    assert upstream.requests == []


def test_invalid_utf8_attribution_header_is_a_clear_400(gateway: Gateway, upstream: FakeProvider) -> None:  # noqa: F811
    headers = [
        (b"Authorization", f"Bearer {gateway.tenant.admin_key}".encode()),
        (b"X-Tollgate-Workflow", "données".encode("latin-1")),
    ]
    status, payload = _raw_post(f"{gateway.server.api_url}/chat/completions", headers, b"{}")
    assert status == 400, payload
    assert b"invalid_header_encoding" in payload
    assert upstream.requests == []


@pytest.mark.parametrize(
    "headers",
    [
        [(b"Authorization", b"Bearer KEY"), (b"Authorization", b"Bearer tg-other-key-0001")],
        [(b"Authorization", b"Bearer tg-other-key-0001"), (b"Authorization", b"Bearer KEY")],
        [(b"Authorization", b"Bearer KEY"), (b"x-api-key", b"tg-other-key-0001")],
        [(b"x-api-key", b"KEY"), (b"x-api-key", b"tg-other-key-0001")],
    ],
)
def test_ambiguous_credentials_are_refused(
    gateway: Gateway,  # noqa: F811
    upstream: FakeProvider,
    headers: list[tuple[bytes, bytes]],
) -> None:
    key = gateway.tenant.admin_key.encode()
    sent = [(name, value.replace(b"KEY", key)) for name, value in headers]
    body = b'{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
    status, payload = _raw_post(f"{gateway.server.api_url}/chat/completions", sent, body)
    assert status == 401, payload
    assert b'"authentication_error"' in payload and b"ambiguous_credentials" in payload
    assert upstream.requests == []


def test_same_key_in_both_headers_is_not_ambiguous(gateway: Gateway, upstream: FakeProvider) -> None:  # noqa: F811
    key = gateway.tenant.admin_key
    response = httpx.get(
        f"{gateway.server.api_url}/models", headers={"authorization": f"Bearer {key}", "x-api-key": key}
    )
    assert response.status_code == 200, response.text
    sdk = openai.OpenAI(base_url=gateway.server.api_url, api_key=key, max_retries=0)
    assert sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]).id


def test_codec_rules() -> None:
    assert encode_value("plain-ascii 1.0") == "plain-ascii 1.0"
    assert encode_value("a%b") == "a%25b"
    assert encode_value("x\r\ny") == "x%0D%0Ay"
    assert encode_value(MODEL) == "%E6%A8%A1%E5%9E%8B-v1"
    assert decode_headers([(b"X-Tollgate-Workflow", WORKFLOW.encode()), (b"A", b"1"), (b"a", b"2")]) == {
        "x-tollgate-workflow": WORKFLOW,
        "a": "1, 2",
    }
    assert decode_headers([(b"user-agent", b"caf\xe9")]) == {"user-agent": "café"}
    with pytest.raises(InvalidRequest):
        decode_headers([(b"x-tollgate-agent", b"caf\xe9")])
    assert repair_text("x-tollgate-workflow", WORKFLOW.encode().decode("latin-1")) == WORKFLOW
    assert repair_text("x-tollgate-workflow", WORKFLOW) == WORKFLOW


@pytest.mark.parametrize(
    ("model", "budget", "status", "error_type"),
    [
        ("openai/gpt-4o-mini", True, 402, "budget_exceeded"),
        ("openai/gpt-unpriced-9", False, 409, "model_unpriced"),
    ],
)
def test_refused_calls_leave_a_refused_usage_row(
    gateway: Gateway,  # noqa: F811
    upstream: FakeProvider,
    model: str,
    budget: bool,
    status: int,
    error_type: str,
) -> None:
    if budget:
        _budget(gateway)
    sdk = gateway.sdk()
    with pytest.raises(openai.APIStatusError) as refused:
        sdk.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hi"}], metadata={"workflow": WORKFLOW}
        )
    assert refused.value.status_code == status
    assert upstream.requests == []
    (row,) = gateway.usage_rows()
    assert (row.status, row.error_type, row.cost_usd, row.workflow) == ("refused", error_type, Decimal(0), WORKFLOW)
    assert (row.provider, row.model, row.requested_model) == ("openai", model.split("/", 1)[1], model)


def test_lambda_adapter_reads_and_writes_headers_by_the_same_rules() -> None:
    event = {
        "requestContext": {"http": {"method": "POST", "path": "/v1/chat/completions"}},
        "rawPath": "/v1/chat/completions",
        "headers": {"X-Tollgate-Workflow": WORKFLOW.encode().decode("latin-1"), "authorization": "Bearer a, Bearer b"},
        "body": "{}",
    }
    request = request_from_event(event)
    assert request.header("x-tollgate-workflow") == WORKFLOW
    with pytest.raises(AuthenticationFailed) as ambiguous:
        extract_key(request)
    assert ambiguous.value.code == "ambiguous_credentials"
    result = response_to_result(ApiResponse(200, headers={"x-tollgate-model": MODEL}), b"{}")
    assert result["headers"]["x-tollgate-model"] == "%E6%A8%A1%E5%9E%8B-v1"
