"""Through every adapter: the output cap sent upstream is the one reserved for, and whatever usage
the upstream reports ends as one sane usage row (never a 500, never negative, never lost).

Also the issue cases on this path: a prompt whose tools alone exceed a block budget is refused
before the upstream call, and Anthropic's "credit balance is too low" 400 is a 424.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.e2e.providers.conftest import Gateway
from tests.e2e.providers.specs import SPECS, Spec
from tests.fake_providers import anthropic_server, gemini_server, openai_server, yandex_server
from tests.fake_providers.base import FakeProvider, Recorded, Reply, running
from tollgate.db.models import UsageRecord
from tollgate.metering.output_cap import output_cap

MODEL_MAX = 4096  # the max_output_tokens of every price row in the gateway fixture
MESSAGES = [{"role": "user", "content": "Say hi"}]


@pytest.fixture(params=SPECS, ids=[s.id for s in SPECS])
def upstream(request: pytest.FixtureRequest, gateway: Gateway) -> Iterator[tuple[Spec, FakeProvider]]:
    spec: Spec = request.param
    with gateway.upstream(spec) as server:
        yield spec, server


def post(gateway: Gateway, body: dict[str, Any], path: str = "/chat/completions") -> httpx.Response:
    headers = {"authorization": f"Bearer {gateway.tenant.admin_key}"}
    return httpx.post(gateway.server.api_url + path, json=body, headers=headers, timeout=30)


def sent_cap(spec: Spec, recorded: Recorded) -> int:
    """The output cap in the request the upstream received."""
    body = recorded.body
    if spec.provider == "anthropic":
        return int(body["max_tokens"])
    if spec.provider == "gemini":
        return int(body["generationConfig"]["maxOutputTokens"])
    if spec.provider == "yandex":
        return int(body["completionOptions"]["maxTokens"])
    caps = [body[f] for f in ("max_completion_tokens", "max_tokens") if body.get(f) is not None]
    assert len(caps) == 1, body
    return int(caps[0])


CAPS: list[tuple[dict[str, Any], int]] = [
    ({"max_completion_tokens": None, "max_tokens": 5}, 5),
    ({}, MODEL_MAX),
    ({"max_tokens": 7, "max_completion_tokens": 3}, 3),
    ({"max_completion_tokens": 900_000}, MODEL_MAX),
]


@pytest.mark.parametrize(("fields", "expected"), CAPS)
def test_every_adapter_sends_exactly_the_reserved_cap(
    gateway: Gateway, upstream: tuple[Spec, FakeProvider], fields: dict[str, Any], expected: int
) -> None:
    spec, server = upstream
    body = {"model": spec.requested, "messages": MESSAGES, **fields}
    response = post(gateway, body)
    assert response.status_code == 200, response.text
    (recorded,) = [r for r in server.requests if r.method == "POST"]
    reserved = output_cap(body, MODEL_MAX).tokens  # the function the reservation uses
    assert sent_cap(spec, recorded) == expected == reserved


# -- random usage through every adapter --------------------------------------------------------------

counter = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["12", "-5", "lots", ""]),
    st.booleans(),
    st.none(),
)
FIELDS = {
    "anthropic": ["input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"],
    "gemini": ["promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "cachedContentTokenCount"],
    "yandex": ["inputTextTokens", "completionTokens"],
    "openai": ["prompt_tokens", "completion_tokens", "total_tokens"],
}


def usage_objects(provider: str) -> st.SearchStrategy[Any]:
    names = FIELDS.get(provider, FIELDS["openai"])
    return st.one_of(st.none(), st.dictionaries(st.sampled_from(names), counter, max_size=len(names)))


def reply_with(spec: Spec, usage: Any) -> Reply:
    if spec.provider == "anthropic":
        body = anthropic_server.message()
        body["usage"] = usage
    elif spec.provider == "gemini":
        body = gemini_server.response()
        body["usageMetadata"] = usage
    elif spec.provider == "yandex":
        body = yandex_server.result("Hi.", "ALTERNATIVE_STATUS_FINAL", ("1", "1"))
        body["result"]["usage"] = usage
    else:
        body = copy.deepcopy(openai_server.completion())
        body["usage"] = usage
    # json.dumps writes inf/nan as the bare Infinity/NaN tokens: what a broken upstream sends.
    return Reply(body=body)


def usage_count(gateway: Gateway) -> int:
    with gateway.services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(UsageRecord)) or 0)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_usage_report_gives_one_sane_row_and_no_500(
    gateway: Gateway, upstream: tuple[Spec, FakeProvider], data: st.DataObject
) -> None:
    spec, server = upstream
    usage = data.draw(usage_objects(spec.provider))
    cap = data.draw(st.one_of(st.none(), st.integers(min_value=1, max_value=10_000)))
    server.push(reply_with(spec, usage))
    before = usage_count(gateway)
    body: dict[str, Any] = {"model": spec.requested, "messages": MESSAGES, "max_tokens": cap}
    response = post(gateway, body)
    assert response.status_code == 200, response.text
    reported = response.json()["usage"]
    assert all(v >= 0 for v in (reported["prompt_tokens"], reported["completion_tokens"]))
    assert usage_count(gateway) == before + 1
    with gateway.services.sessions() as session:
        row = session.scalars(select(UsageRecord).order_by(UsageRecord.created_at.desc())).first()
    assert row is not None and row.status == "success"
    for name in ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens"):
        assert 0 <= getattr(row, name) <= 100_000_000
    assert row.cost_usd >= 0 and math.isfinite(float(row.cost_usd))
    recorded = [r for r in server.requests if r.method == "POST"][-1]
    assert output_cap(body, MODEL_MAX).tokens >= sent_cap(spec, recorded)


def test_missing_usage_is_billed_as_a_flagged_estimate(gateway: Gateway) -> None:
    with running(openai_server.fake_openai()) as server:
        gateway.add_credential("openai", "main", server.url + "/v1", "sk-test-openai-k3y0001")
        no_usage = openai_server.completion()
        no_usage.pop("usage")
        server.push(Reply(body=no_usage), Reply(body={**openai_server.completion(), "usage": None}))
        for _ in range(2):
            assert post(gateway, {"model": "openai/gpt-4o-mini", "messages": MESSAGES}).status_code == 200
    rows = gateway.usage_rows()
    assert len(rows) == 2
    assert all(r.estimated and r.input_tokens > 0 and r.output_tokens > 0 and r.cost_usd > 0 for r in rows)


def test_a_negative_streamed_usage_is_never_forwarded(gateway: Gateway) -> None:
    bad = {**openai_server.STREAM_USAGE, "completion_tokens": -50}
    with running(openai_server.fake_openai()) as server:
        gateway.add_credential("openai", "main", server.url + "/v1", "sk-test-openai-k3y0001")
        server.push(Reply(events=openai_server.stream_events(usage=bad)))
        body = {"model": "openai/gpt-4o-mini", "messages": MESSAGES, "stream": True}
        headers = {"authorization": f"Bearer {gateway.tenant.admin_key}"}
        with httpx.stream("POST", gateway.server.api_url + "/chat/completions", json=body, headers=headers) as r:
            text = "".join(r.iter_text())
    assert '"completion_tokens":-50' not in text.replace(" ", "")
    (row,) = gateway.wait_for_rows(1)
    assert row.output_tokens >= 1 and row.estimated


# -- the issue cases on this path --------------------------------------------------------------------


def test_tools_that_exceed_a_block_budget_are_refused_before_the_upstream_call(gateway: Gateway) -> None:
    tool = {
        "type": "function",
        "function": {"name": "t", "description": "x" * 40_000, "parameters": {"type": "object"}},
    }
    body = {"model": "openai/gpt-4o-mini", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    body["tools"] = [tool]
    with running(openai_server.fake_openai()) as server:
        gateway.add_credential("openai", "main", server.url + "/v1", "sk-test-openai-k3y0001")
        budget = {"name": "r", "scope": "workspace", "period": "monthly", "limit_usd": "0.01", "action": "block"}
        assert post(gateway, budget, "/budgets").status_code == 201
        response = post(gateway, body)
        assert response.status_code == 402, response.text
        assert [r for r in server.requests if r.method == "POST"] == []
    error = response.json()["error"]
    assert "worst-case reservation" in error["message"] and "max_tokens" in error["message"]
    estimate = post(gateway, body, "/cost/estimate").json()
    assert estimate["input_tokens"] >= 10_012  # what the upstream bills for this prompt
    assert error["reservation_usd"] == estimate["max_cost_usd"]  # one estimator for both


def test_anthropic_credit_exhaustion_is_a_424(gateway: Gateway) -> None:
    with running(anthropic_server.fake_anthropic()) as server:
        gateway.add_credential("anthropic", "main", server.url, "sk-ant-test-k3y0001")
        message = "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing."
        server.push(anthropic_server.error(400, "invalid_request_error", message))
        response = post(gateway, {"model": "anthropic/claude-sonnet-4-5", "messages": MESSAGES})
    assert response.status_code == 424, response.text
    assert response.json()["error"]["type"] == "provider_quota_error"


@pytest.mark.parametrize(
    ("field", "value"),
    [("service_tier", "priority"), ("web_search_options", {}), ("audio", {"voice": "alloy", "format": "wav"})],
)
def test_unpriceable_billed_fields_are_a_400_naming_the_field(gateway: Gateway, field: str, value: Any) -> None:
    with running(openai_server.fake_openai()) as server:
        gateway.add_credential("openai", "main", server.url + "/v1", "sk-test-openai-k3y0001")
        response = post(gateway, {"model": "openai/gpt-4o-mini", "messages": MESSAGES, field: value})
        assert [r for r in server.requests if r.method == "POST"] == []
    assert response.status_code == 400 and f"body.{field}" in response.json()["error"]["message"]
