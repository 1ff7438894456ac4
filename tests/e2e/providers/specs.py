"""One description per adapter: how to reach its fake, and what the wire example must normalize to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.fake_providers import anthropic_server, openai_server, yandex_server
from tests.fake_providers.anthropic_server import fake_anthropic
from tests.fake_providers.base import FakeProvider, Recorded, Reply
from tests.fake_providers.deepseek_server import fake_deepseek
from tests.fake_providers.gemini_server import fake_gemini
from tests.fake_providers.openai_server import fake_openai
from tests.fake_providers.openrouter_server import fake_openrouter
from tests.fake_providers.yandex_server import fake_yandex
from tollgate.providers.registry import CREDENTIAL_PROVIDERS, AuthStyle, provider_spec

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


# What each registry auth style puts on the wire.
AUTH_CHECKS: dict[AuthStyle, Callable[[Recorded, str], None]] = {
    AuthStyle.BEARER: _bearer,
    AuthStyle.ANTHROPIC: _anthropic_auth,
    AuthStyle.GOOGLE: _gemini_auth,
    AuthStyle.YANDEX: _yandex_auth,
}


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


# Real refusals; the message text quotes the prompt ("SECRET-PROMPT") and must never reach the client.
OPENAI_REFUSAL = openai_server.error(
    400, "invalid_request_error", "unsupported_value", "Invalid value in 'SECRET-PROMPT'"
)
OPENAI_REFUSAL.body["error"]["param"] = "messages[1].content"
OPENAI_REASON = ": error type unsupported_value, parameter messages[1].content"
ANTHROPIC_REFUSAL = anthropic_server.error(
    400, "invalid_request_error", "messages.1.content.0.text: text blocks near 'SECRET-PROMPT' must be non-empty"
)
GEMINI_REFUSAL = Reply(
    status=400,
    body={
        "error": {
            "code": 400,
            "message": "Invalid value at 'contents[0].parts[0]' (SECRET-PROMPT)",
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": "contents[0].parts[0].text", "description": "SECRET-PROMPT"}],
                }
            ],
        }
    },
)


@dataclass(frozen=True)
class Spec:
    requested: str  # what the client sends as ``model``: ``<provider>/<model>`` or ``custom:<name>/<model>``
    fake: Callable[[], FakeProvider]
    api_key: str
    usage: Tokens
    streamed: Tokens | None = None  # usage of the streamed answer; None: as ``usage``
    base_path: str = ""  # appended to the fake's URL to form the credential base_url
    check_body: Callable[[Recorded, str, bool], None] = _openai_body
    stream_text: str = "Hi."
    options: dict[str, Any] = field(default_factory=dict)
    billed_cost: Decimal | None = None  # what the provider reports it charged (OpenRouter's usage.cost)
    wire: str = "openai"  # the format its fake renders scripted answers in (tests/fake_providers/answers.py)
    refuses: frozenset[str] = frozenset()  # OpenAI fields Tollgate answers 400 for: the provider cannot express them
    stable_ids: bool = True  # a tool call has the same id streamed and not (Yandex's are made up per answer)
    refusal: Reply | None = field(
        default_factory=lambda: OPENAI_REFUSAL
    )  # a real 400 of this provider, for the sanitized-reason check
    refusal_reason: str = OPENAI_REASON  # read after "<provider> refused the request as invalid (HTTP 400)"

    @property
    def provider(self) -> str:
        prefix = self.requested.split("/", 1)[0]
        return "custom" if prefix.startswith("custom:") else prefix

    @property
    def upstream_model(self) -> str:
        return self.requested.split("/", 1)[1]

    @property
    def credential_name(self) -> str:
        prefix = self.requested.split("/", 1)[0]
        return prefix.removeprefix("custom:") if prefix.startswith("custom:") else "main"

    @property
    def check_auth(self) -> Callable[[Recorded, str], None]:
        """The check of the registry entry's auth style."""
        return AUTH_CHECKS[provider_spec(self.provider).auth]

    @property
    def stream_usage(self) -> Tokens:
        return self.streamed if self.streamed is not None else self.usage

    @property
    def id(self) -> str:
        return self.provider


BY_PROVIDER = {
    spec.provider: spec
    for spec in (
        Spec(
            "openai/gpt-4o-mini", fake_openai, "sk-test-openai-k3y0001", (86, 1920, 0, 300, 0), (9, 0, 0, 2, 0), "/v1"
        ),
        Spec(
            "anthropic/claude-sonnet-4-5",
            fake_anthropic,
            "sk-ant-test-k3y0001",
            (21, 0, 1800, 5, 0),
            check_body=_anthropic_body,
            wire="anthropic",
            refusal=ANTHROPIC_REFUSAL,
            refusal_reason=": error type invalid_request_error, parameter messages.1.content.0.text",
        ),
        Spec(
            "gemini/gemini-2.5-flash",
            fake_gemini,
            "AIzaSyTestK3y0000000000000000001",
            (700, 300, 0, 500, 100),
            (9, 0, 0, 33, 31),
            check_body=_gemini_body,
            wire="gemini",
            refusal=GEMINI_REFUSAL,
            refusal_reason=": error type INVALID_ARGUMENT, parameter contents[0].parts[0].text",
        ),
        Spec(
            "deepseek/deepseek-chat",
            fake_deepseek,
            "sk-test-deepseek-k3y1",
            (1000, 9000, 0, 500, 350),
            (4, 8, 0, 3, 0),
            refuses=frozenset({"image_url"}),
        ),
        Spec(
            "yandex/yandexgpt-lite",
            fake_yandex,
            "AQVNtestYandexK3y0001",
            (19, 0, 0, 6, 0),
            check_body=_yandex_body,
            stream_text="Hi there.",
            options={"folder_id": FOLDER},
            wire="yandex",
            refuses=frozenset({"stop", "image_url"}),
            stable_ids=False,
            refusal=yandex_server.error(400, 3, "text near 'SECRET-PROMPT' is invalid", "Bad Request"),
            refusal_reason=": error type INVALID_ARGUMENT",
        ),
        Spec(
            "openrouter/openai/gpt-4o-mini",
            fake_openrouter,
            "sk-or-v1-testk3y0001",
            (94, 0, 100, 2, 0),
            (15, 5, 0, 2, 0),
            "/api/v1",
            billed_cost=Decimal("0.0012"),
        ),
        Spec("custom:my-llm/llama-3", fake_openai, "sk-custom-k3y0001", (86, 1920, 0, 300, 0), (9, 0, 0, 2, 0), "/v1"),
    )
}
# The contract runs over every provider a credential can name, in registry order.
MISSING = [name for name in CREDENTIAL_PROVIDERS if name not in BY_PROVIDER]
if MISSING:
    raise LookupError(f"no contract spec for registry provider(s) {MISSING}: add one to tests/e2e/providers/specs.py")
SPECS = [BY_PROVIDER[name] for name in CREDENTIAL_PROVIDERS]
