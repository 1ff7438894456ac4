"""The fakes refuse what the real APIs refuse: each rule the contract suite relies on, checked."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fake_providers import rules
from tests.fake_providers.base import Recorded


def _post(body: dict[str, Any], path: str = "/v1/messages") -> Recorded:
    return Recorded("POST", path, "", {}, body)


def _anthropic(messages: list[Any], **extra: Any) -> Recorded:
    return _post({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": messages, **extra})


USER = {"role": "user", "content": "hi"}
USE = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
RESULT = {"type": "tool_result", "tool_use_id": "toolu_1"}
ANTHROPIC_REFUSED = [
    ([{"role": "user", "content": [{"type": "text", "text": ""}]}], {}, "must be non-empty"),
    ([{"role": "user", "content": [{"type": "text", "text": "  "}]}], {}, "non-whitespace text"),
    ([USER, {"role": "assistant", "content": "Sure: "}], {}, "trailing whitespace"),
    ([{"role": "system", "content": "x"}], {}, "Input should be 'user' or 'assistant'"),
    ([USER, {"role": "assistant", "content": [USE]}, USER], {}, "without `tool_result`"),
    (
        [
            USER,
            {"role": "assistant", "content": [USE]},
            {"role": "user", "content": [{"type": "text", "text": "a"}, RESULT]},
        ],
        {},
        "must come first",
    ),
    ([USER], {"temperature": 0.2, "top_p": 0.5}, "cannot both be specified"),
    ([USER], {"stop_sequences": ["\n"]}, "non-whitespace"),
    ([USER], {"n": 1}, "Extra inputs"),
    ([USER], {"tool_choice": {"type": "auto"}}, "tool_choice"),
]


@pytest.mark.parametrize(("messages", "extra", "says"), ANTHROPIC_REFUSED)
def test_fake_anthropic_refuses(messages: list[Any], extra: dict[str, Any], says: str) -> None:
    refusal = rules.anthropic(_anthropic(messages, **extra))
    assert refusal is not None and refusal.status == 400
    assert says in refusal.body["error"]["message"]


def test_fake_anthropic_accepts_a_valid_history() -> None:
    history = [USER, {"role": "assistant", "content": [USE]}, {"role": "user", "content": [RESULT]}]
    assert rules.anthropic(_anthropic(history, temperature=0.2)) is None


CALL = {"functionCall": {"name": "f", "args": {}}}
ANSWER = {"functionResponse": {"name": "f", "response": {}}}


@pytest.mark.parametrize(
    ("model", "contents", "says"),
    [
        ("gemini-3.1-pro-preview", [{"role": "model", "parts": [CALL]}], "missing a thought_signature"),
        ("gemini-2.5-flash", [{"role": "user", "parts": [{"text": ""}]}], "empty text parameter"),
        ("gemini-2.5-flash", [{"role": "assistant", "parts": [{"text": "a"}]}], "valid role"),
        ("gemini-2.5-flash", [{"role": "user", "parts": []}], "must not be empty"),
        (
            "gemini-2.5-flash",
            [{"role": "model", "parts": [CALL, CALL]}, {"role": "user", "parts": [ANSWER]}],
            "number of function response parts",
        ),
    ],
)
def test_fake_gemini_refuses(model: str, contents: list[Any], says: str) -> None:
    refusal = rules.gemini(_post({"contents": contents}, f"/v1beta/models/{model}:generateContent"))
    assert refusal is not None and refusal.status == 400
    assert says in refusal.body["error"]["message"]


def test_fake_gemini_3_accepts_a_signed_call() -> None:
    contents = [{"role": "model", "parts": [{**CALL, "thoughtSignature": "c2ln"}]}, {"role": "user", "parts": [ANSWER]}]
    assert rules.gemini(_post({"contents": contents}, "/v1beta/models/gemini-3-pro:generateContent")) is None


@pytest.mark.parametrize(
    ("body", "deepseek", "param"),
    [
        ({"model": "o3-mini", "max_tokens": 5, "messages": [USER]}, False, "max_tokens"),
        ({"model": "gpt-5", "temperature": 0.2, "messages": [USER]}, False, "temperature"),
        (
            {"model": "gpt-4o", "messages": [{"role": "tool", "tool_call_id": "x", "content": "r"}]},
            False,
            "messages.[0].role",
        ),
        ({"model": "deepseek-chat", "messages": [{"role": "developer", "content": "x"}]}, True, "messages[0].role"),
    ],
)
def test_fake_openai_and_deepseek_refuse(body: dict[str, Any], deepseek: bool, param: str) -> None:
    refusal = rules.openai(_post(body, "/v1/chat/completions"), deepseek=deepseek)
    assert refusal is not None and refusal.body["error"]["param"] == param


def test_fake_deepseek_refuses_content_arrays() -> None:
    body = {"model": "deepseek-chat", "messages": [{"role": "user", "content": [{"type": "text", "text": "a"}]}]}
    refusal = rules.openai(_post(body, "/chat/completions"), deepseek=True)
    assert refusal is not None and refusal.status == 422


def test_fake_yandex_refuses_unknown_fields_and_roles() -> None:
    path = "/foundationModels/v1/completion"
    unknown = rules.yandex(_post({"modelUri": "gpt://f/m", "messages": [], "stop": ["x"]}, path))
    role = rules.yandex(_post({"modelUri": "gpt://f/m", "messages": [{"role": "tool", "text": "x"}]}, path))
    assert unknown is not None and role is not None
    assert rules.yandex(_post({"modelUri": "gpt://f/m", "messages": [{"role": "user", "text": "x"}]}, path)) is None
