"""One description per adapter: how to reach its fake, and what the wire example must normalize to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.fake_providers.anthropic_server import fake_anthropic
from tests.fake_providers.base import FakeProvider, Recorded
from tests.fake_providers.deepseek_server import fake_deepseek
from tests.fake_providers.gemini_server import fake_gemini
from tests.fake_providers.openai_server import fake_openai
from tests.fake_providers.openrouter_server import fake_openrouter
from tests.fake_providers.yandex_server import fake_yandex

# (uncached input, cache read, cache write, output, reasoning)
Tokens = tuple[int, int, int, int, int]
FOLDER = "b1g0123456789abcdef"


def _bearer(request: Recorded, key: str) -> None:
    assert request.headers["authorization"] == f"Bearer {key}"


def _anthropic_auth(request: Recorded, key: str) -> None:
    assert request.headers["x-api-key"] == key
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers


def _gemini_auth(request: Recorded, key: str) -> None:
    assert request.headers["x-goog-api-key"] == key
    assert key not in request.raw_target and "key=" not in request.query
    assert "authorization" not in request.headers


def _yandex_auth(request: Recorded, key: str) -> None:
    assert request.headers["authorization"] == f"Api-Key {key}"
    assert request.headers["x-folder-id"] == FOLDER


def _openai_body(request: Recorded, model: str, stream: bool) -> None:
    assert request.body["model"] == model
    assert request.body["messages"][0] == {"role": "system", "content": "You are terse."}
    assert request.body.get("stream", False) is stream
    if stream:
        assert request.body["stream_options"] == {"include_usage": True}


def _anthropic_body(request: Recorded, model: str, stream: bool) -> None:
    assert request.path == "/v1/messages"
    assert request.body["model"] == model
    assert request.body["system"] == "You are terse."
    assert request.body["messages"][0] == {"role": "user", "content": [{"type": "text", "text": "Say hi"}]}
    assert request.body["max_tokens"] == 64
    assert request.body["stop_sequences"] == ["END"]
    assert request.body.get("stream", False) is stream


def _gemini_body(request: Recorded, model: str, stream: bool) -> None:
    method = ":streamGenerateContent" if stream else ":generateContent"
    assert request.path == f"/v1beta/models/{model}{method}"
    assert request.query == ("alt=sse" if stream else "")
    assert request.body["systemInstruction"] == {"parts": [{"text": "You are terse."}]}
    assert request.body["contents"] == [{"role": "user", "parts": [{"text": "Say hi"}]}]
    assert request.body["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 64, "stopSequences": ["END"]}


def _yandex_body(request: Recorded, model: str, stream: bool) -> None:
    assert request.path == "/foundationModels/v1/completion"
    assert request.body["modelUri"] == f"gpt://{FOLDER}/{model}/latest"
    assert request.body["completionOptions"] == {"stream": stream, "temperature": 0.2, "maxTokens": "64"}
    assert request.body["messages"] == [
        {"role": "system", "text": "You are terse."},
        {"role": "user", "text": "Say hi"},
    ]


@dataclass(frozen=True)
class Spec:
    provider: str
    requested: str  # what the client sends as ``model``
    upstream_model: str
    fake: Callable[[], FakeProvider]
    base_path: str  # appended to the fake's URL to form the credential base_url
    api_key: str
    usage: Tokens
    stream_usage: Tokens
    check_auth: Callable[[Recorded, str], None]
    check_body: Callable[[Recorded, str, bool], None]
    stream_text: str = "Hi."
    options: dict[str, Any] = field(default_factory=dict)
    credential_name: str = "main"
    billed_cost: Decimal | None = None  # what the provider reports it charged (OpenRouter's usage.cost)

    @property
    def id(self) -> str:
        return self.provider


SPECS = [
    Spec(
        "openai",
        "openai/gpt-4o-mini",
        "gpt-4o-mini",
        fake_openai,
        "/v1",
        "sk-test-openai-k3y0001",
        (86, 1920, 0, 300, 0),
        (9, 0, 0, 2, 0),
        _bearer,
        _openai_body,
    ),
    Spec(
        "anthropic",
        "anthropic/claude-sonnet-4-5",
        "claude-sonnet-4-5",
        fake_anthropic,
        "",
        "sk-ant-test-k3y0001",
        (21, 0, 1800, 5, 0),
        (21, 0, 1800, 5, 0),
        _anthropic_auth,
        _anthropic_body,
    ),
    Spec(
        "gemini",
        "gemini/gemini-2.5-flash",
        "gemini-2.5-flash",
        fake_gemini,
        "",
        "AIzaSyTestK3y0000000000000000001",
        (700, 300, 0, 500, 100),
        (9, 0, 0, 33, 31),
        _gemini_auth,
        _gemini_body,
    ),
    Spec(
        "deepseek",
        "deepseek/deepseek-chat",
        "deepseek-chat",
        fake_deepseek,
        "",
        "sk-test-deepseek-k3y1",
        (1000, 9000, 0, 500, 350),
        (4, 8, 0, 3, 0),
        _bearer,
        _openai_body,
    ),
    Spec(
        "yandex",
        "yandex/yandexgpt-lite",
        "yandexgpt-lite",
        fake_yandex,
        "",
        "AQVNtestYandexK3y0001",
        (19, 0, 0, 6, 0),
        (19, 0, 0, 6, 0),
        _yandex_auth,
        _yandex_body,
        stream_text="Hi there.",
        options={"folder_id": FOLDER},
    ),
    Spec(
        "openrouter",
        "openrouter/openai/gpt-4o-mini",
        "openai/gpt-4o-mini",
        fake_openrouter,
        "/api/v1",
        "sk-or-v1-testk3y0001",
        (94, 0, 100, 2, 0),
        (15, 5, 0, 2, 0),
        _bearer,
        _openai_body,
        billed_cost=Decimal("0.0012"),
    ),
    Spec(
        "custom",
        "custom:my-llm/llama-3",
        "llama-3",
        fake_openai,
        "/v1",
        "sk-custom-k3y0001",
        (86, 1920, 0, 300, 0),
        (9, 0, 0, 2, 0),
        _bearer,
        _openai_body,
        credential_name="my-llm",
    ),
]
