"""Each adapter's upstream request carries exactly the cap the reservation counted (issue 22: "The
output cap sent upstream must be the one reserved for"), built by the pure request builders of the
sans-IO adapters; the end-to-end twin (recorded upstream requests) is
``tests/e2e/providers/test_caps_and_usage.py``."""

from __future__ import annotations

from typing import Any

import pytest

from tollgate.metering.output_cap import output_cap, with_output_cap
from tollgate.providers.anthropic_request import to_anthropic
from tollgate.providers.base import ChatRequest, ProviderTarget
from tollgate.providers.gemini import to_gemini
from tollgate.providers.openai_request import openai_body
from tollgate.providers.yandex import to_yandex

MESSAGES = [{"role": "user", "content": "hi"}]
YANDEX = ProviderTarget("yandex", "http://127.0.0.1:1", "k", options={"folder_id": "b1gfolder"})
MODEL_MAX = 4096


def _sent(provider: str, model: str, body: dict[str, Any], stream: bool) -> int:
    request = ChatRequest(model, body)
    if provider == "anthropic":
        return int(to_anthropic(request, stream)["max_tokens"])
    if provider == "gemini":
        return int(to_gemini(request)["generationConfig"]["maxOutputTokens"])
    if provider == "yandex":
        return int(to_yandex(YANDEX, request, stream)["completionOptions"]["maxTokens"])
    sent = openai_body(provider, request, stream)
    caps = [sent[f] for f in ("max_completion_tokens", "max_tokens") if sent.get(f) is not None]
    assert len(caps) == 1, sent
    return int(caps[0])


ADAPTERS = [
    ("openai", "gpt-4o-mini"),
    ("openai", "o3-mini"),
    ("deepseek", "deepseek-chat"),
    ("openrouter", "openai/gpt-4o"),
    ("anthropic", "claude-sonnet-4-5"),
    ("gemini", "gemini-2.5-flash"),
    ("yandex", "yandexgpt-lite"),
]
FIELDS: list[dict[str, Any]] = [
    {},
    {"max_tokens": 5},
    {"max_completion_tokens": None, "max_tokens": 9},
    {"max_tokens": 7, "max_completion_tokens": 3},
    {"max_completion_tokens": 900_000},
]


@pytest.mark.parametrize(("provider", "model"), ADAPTERS)
@pytest.mark.parametrize("fields", FIELDS)
@pytest.mark.parametrize("stream", [False, True])
def test_the_cap_each_adapter_sends_is_the_reserved_cap(
    provider: str, model: str, fields: dict[str, Any], stream: bool
) -> None:
    body = {"messages": MESSAGES, **fields}
    reserved = output_cap(body, MODEL_MAX)
    upstream = with_output_cap(body, reserved)  # what ExecuteService hands the adapter
    assert _sent(provider, model, upstream, stream) == reserved.tokens <= MODEL_MAX


@pytest.mark.parametrize(("provider", "model"), ADAPTERS)
def test_an_adapter_given_both_fields_sends_the_smaller(provider: str, model: str) -> None:
    body = {"messages": MESSAGES, "max_tokens": 40, "max_completion_tokens": 12}
    assert _sent(provider, model, body, False) == 12
