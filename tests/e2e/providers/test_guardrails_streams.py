"""Response guardrails on streamed answers, end to end: chat completions through the stock
``openai`` SDK and ``/v1/messages`` through the stock ``anthropic`` SDK (native to the fake
Anthropic server, and translated to the fake OpenAI server). The fake upstreams split a key and an
e-mail address across SSE chunks; redact (and block, which redacts on a response) must deliver the
redacted text, warn the text unchanged plus an SSE comment; every hit is a security event; no
matched text in the database, the logs or (unless warned) the responses."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from tests.e2e.providers.conftest import Gateway
from tests.e2e.test_guardrails import everything_in_the_database
from tests.fake_providers import anthropic_server, openai_server
from tests.fake_providers.base import FakeProvider, Reply, running, sse

KEY = "AKIA" + "Z7QX4LMB2WPK9RTE"
EMAIL = "jane.doe@example.com"
# The key and the address each cut across two SSE chunks
PIECES = ("Your key is " + KEY[:7], KEY[7:] + ", and mail jane.doe@exa", "mple.com. Bye.")
REDACTED = "Your key is [REDACTED:secrets], and mail [REDACTED:pii_email]. Bye."
PLAIN = "".join(PIECES)
SECRETS = (KEY, EMAIL)


@pytest.fixture
def openai_up(gateway: Gateway) -> Iterator[FakeProvider]:
    with running(openai_server.fake_openai()) as server:
        gateway.add_credential("openai", "openai", server.url + "/v1", "sk-test-" + "s" * 24)
        yield server


@pytest.fixture
def anthropic_up(gateway: Gateway) -> Iterator[FakeProvider]:
    with running(anthropic_server.fake_anthropic()) as server:
        gateway.add_credential("anthropic", "claude", server.url, "sk-ant-api03-" + "s" * 32)
        yield server


def configure(gateway: Gateway, secrets: str, email: str) -> httpx.Client:
    client = httpx.Client(
        base_url=gateway.server.base_url, headers={"Authorization": f"Bearer {gateway.tenant.admin_key}"}, timeout=30
    )
    settings = {
        "detectors": {"secrets": {"action": secrets}, "pii_email": {"action": email}},
        "scan_responses": True,
    }
    assert client.put("/v1/guardrails", json=settings).status_code == 200
    return client


def anthropic_events(pieces: tuple[str, ...]) -> list[str]:
    """Anthropic's stream with the text block's deltas replaced by ``pieces``."""
    events = anthropic_server.stream_events()
    at = next(i for i, e in enumerate(events) if '"text_delta"' in e)
    deltas = [
        sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}},
            "content_block_delta",
        )
        for p in pieces
    ]
    return events[:at] + deltas + events[at + 1 :]


def raw_stream(gateway: Gateway, path: str, body: dict[str, Any]) -> str:
    """The bytes of a streamed answer as sent (comments included)."""
    response = httpx.post(
        f"{gateway.server.base_url}{path}",
        headers={"Authorization": f"Bearer {gateway.tenant.admin_key}"},
        json={**body, "stream": True},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.text


CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "tell me"}]}


def events_of(client: httpx.Client) -> list[tuple[str, str, str, int]]:
    data = client.get("/v1/security-events").json()["data"]
    return sorted((e["detector"], e["action"], e["role"], e["message_index"]) for e in data)


def assert_nowhere(gateway: Gateway, responses: str, caplog: Any, capfd: Any) -> None:
    stored = everything_in_the_database(gateway.server)
    out, err = capfd.readouterr()
    logs = caplog.text + out + err
    for secret in SECRETS:
        assert secret not in responses and secret not in stored and secret not in logs, secret


def test_chat_stream_redacts_a_secret_split_across_chunks(
    gateway: Gateway, openai_up: FakeProvider, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    client = configure(gateway, secrets="redact", email="block")  # block redacts on a response
    openai_up.push(*[Reply(events=openai_server.stream_events(PIECES))] * 2)
    # When the SDK streams the answer
    raw = gateway.sdk().chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "tell me"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(raw.parse())
    # Then what it received is the redacted text, and it still ends with the usage chunk
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REDACTED
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 2
    # And each hit is an event; the call was recorded as a success
    assert events_of(client) == [("pii_email", "redact", "assistant", 0), ("secrets", "redact", "assistant", 0)]
    assert [(r.status, r.stream) for r in gateway.usage_rows()] == [("success", True)]
    # And the matched text is nowhere: not in the bytes sent, the database or the logs
    sent = raw_stream(gateway, "/v1/chat/completions", CHAT)
    assert "[REDACTED:secrets]" in sent and "x-tollgate-guardrail" not in sent  # no warn: no comment
    assert_nowhere(gateway, sent + json.dumps([c.model_dump() for c in chunks]), caplog, capfd)


def test_chat_stream_warn_forwards_the_text_with_a_trailing_comment(
    gateway: Gateway, openai_up: FakeProvider, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    client = configure(gateway, secrets="warn", email="warn")
    openai_up.push(*[Reply(events=openai_server.stream_events(PIECES))] * 2)
    raw = gateway.sdk().chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "tell me"}], stream=True
    )
    chunks = list(raw.parse())
    sent = raw_stream(gateway, "/v1/chat/completions", CHAT)
    # Then the text arrived unchanged (warn forwards), the SDK ignored the comment lines
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == PLAIN
    # And the stream carries the warning as SSE comments (the headers had gone out already)
    assert ": x-tollgate-guardrail: secrets,pii_email\n\n" in sent
    assert "x-tollgate-guardrail" not in raw.headers  # the request itself held nothing
    assert sent.index(": x-tollgate-guardrail: secrets,pii_email") < sent.index("data: [DONE]")
    assert events_of(client) == [("pii_email", "warn", "assistant", 0)] * 2 + [("secrets", "warn", "assistant", 0)] * 2
    # The answer necessarily holds the text (warn), but the database and logs do not
    assert_nowhere(gateway, "", caplog, capfd)


def test_messages_stream_to_anthropic_redacts_natively(
    gateway: Gateway,
    anthropic_up: FakeProvider,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    client = configure(gateway, secrets="redact", email="redact")
    anthropic_up.push(Reply(events=anthropic_events(PIECES)))
    sdk = anthropic.Anthropic(base_url=gateway.server.base_url, api_key=gateway.tenant.admin_key, max_retries=0)
    with sdk.messages.stream(
        model="anthropic/claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "tell me"}]
    ) as stream:
        deltas = [event.delta.text for event in stream if event.type == "content_block_delta"]  # type: ignore[union-attr]
        final = stream.get_final_message()
    # Then the SDK's text is the redacted text, and the stream was still Anthropic's own (native)
    assert "".join(deltas) == REDACTED
    assert final.content[0].text == REDACTED  # type: ignore[union-attr]
    assert final.id == "msg_01XYZ" and final.stop_reason == "end_turn"
    assert anthropic_up.requests[-1].path == "/v1/messages"
    assert events_of(client) == [("pii_email", "redact", "assistant", 0), ("secrets", "redact", "assistant", 0)]
    assert_nowhere(gateway, json.dumps(final.model_dump()), caplog, capfd)


def test_messages_stream_translated_and_plain_messages_answers_are_screened(
    gateway: Gateway,
    openai_up: FakeProvider,
    anthropic_up: FakeProvider,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    client = configure(gateway, secrets="redact", email="warn")
    sdk = anthropic.Anthropic(base_url=gateway.server.base_url, api_key=gateway.tenant.admin_key, max_retries=0)
    prompt: Any = [{"role": "user", "content": "tell me"}]
    # When /v1/messages streams from an OpenAI model (translated framing)
    openai_up.push(*[Reply(events=openai_server.stream_events(PIECES))] * 2)
    events = sdk.messages.create(model="openai/gpt-4o-mini", max_tokens=64, messages=prompt, stream=True)
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")  # type: ignore[union-attr]
    # Then the key is redacted and the address (warn) kept, with a comment for the warning
    assert text == f"Your key is [REDACTED:secrets], and mail {EMAIL}. Bye."
    sent = raw_stream(gateway, "/v1/messages", {"model": "openai/gpt-4o-mini", "max_tokens": 64, "messages": prompt})
    assert ": x-tollgate-guardrail: pii_email\n\n" in sent and KEY not in sent
    # When a plain (non-streamed) Anthropic answer holds a key, it is redacted as well
    message = anthropic_server.message()
    message["content"] = [{"type": "text", "text": f"use {KEY}"}]
    anthropic_up.push(Reply(body=message))
    answer = sdk.messages.create(model="anthropic/claude-sonnet-4-5", max_tokens=64, messages=prompt)
    assert answer.content[0].text == "use [REDACTED:secrets]"  # type: ignore[union-attr]
    assert events_of(client) == [
        ("pii_email", "warn", "assistant", 0),
        ("pii_email", "warn", "assistant", 0),
        ("secrets", "redact", "assistant", 0),
        ("secrets", "redact", "assistant", 0),
        ("secrets", "redact", "assistant", 0),
    ]
    assert_nowhere(gateway, json.dumps(answer.model_dump()), caplog, capfd)


def test_held_text_is_released_before_a_mid_stream_failure(gateway: Gateway, openai_up: FakeProvider) -> None:
    configure(gateway, secrets="redact", email="redact")
    # The upstream sends the start of an answer, then drops the connection
    events = openai_server.stream_events(("Hello there, ", "mail jane.doe@example.com", " and more"))
    openai_up.push(Reply(events=events, reset_after=3))
    sent = raw_stream(gateway, "/v1/chat/completions", CHAT)
    datas = [line[6:] for line in sent.splitlines() if line.startswith("data: ")]
    payloads = [json.loads(d) for d in datas if d != "[DONE]"]
    text = "".join((c["choices"][0]["delta"].get("content") or "") for c in payloads if c.get("choices"))
    # Then what was held went out (redacted) before the error event
    assert text == "Hello there, mail [REDACTED:pii_email]"
    assert "error" in payloads[-1] and EMAIL not in sent
    assert [r.status for r in gateway.wait_for_rows(1)] == ["error"]


def test_a_big_delta_is_screened_too_and_nothing_is_scanned_when_responses_are_not(
    gateway: Gateway, openai_up: FakeProvider, anthropic_up: FakeProvider
) -> None:
    client = configure(gateway, secrets="redact", email="redact")
    # A provider that sends its answer in one large chunk (scanned on the blocking pool)
    filler = "lorem ipsum dolor sit amet " * 120
    big = f"{filler}write to {EMAIL} {filler}"
    assert len(big) > 2048
    openai_up.push(Reply(events=openai_server.stream_events((big, " end"))))
    chunks = gateway.sdk().chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"{filler}write to [REDACTED:pii_email] {filler} end"
    # A native Anthropic stream with a warn: unchanged text, the SDK skips the comment
    client.put("/v1/guardrails", json={"detectors": {"secrets": {"action": "warn"}, "pii_email": {"action": "off"}}})
    anthropic_up.push(Reply(events=anthropic_events(PIECES)))
    sdk = anthropic.Anthropic(base_url=gateway.server.base_url, api_key=gateway.tenant.admin_key, max_retries=0)
    with sdk.messages.stream(
        model="anthropic/claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "tell me"}]
    ) as stream:
        assert stream.get_final_message().content[0].text == PLAIN  # type: ignore[union-attr]
    anthropic_up.push(Reply(events=anthropic_events(PIECES)))
    sent = raw_stream(
        gateway,
        "/v1/messages",
        {"model": "anthropic/claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "x"}]},
    )
    assert "\n\n: x-tollgate-guardrail: secrets\n\n" in sent
    assert sent.index(": x-tollgate-guardrail: secrets") < sent.index("event: message_stop")
    # When the workspace does not scan responses, a stream is passed on as the upstream sent it
    client.put("/v1/guardrails", json={"detectors": {"pii_email": {"action": "redact"}}, "scan_responses": False})
    openai_up.push(Reply(events=openai_server.stream_events(PIECES)))
    chunks = gateway.sdk().chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == PLAIN
    assert sorted({e[0] for e in events_of(client)}) == ["pii_email", "secrets"]
    assert len(events_of(client)) == 3  # the big delta's address, and the key of the two native streams
