"""Retries, failover, cooldown, error mapping and metering of cut streams, through the real SDK."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.e2e.providers.conftest import Gateway, expected_cost
from tests.fake_providers import anthropic_server, gemini_server, openai_server, yandex_server
from tests.fake_providers.base import FakeProvider, Reply, running, sse
from tests.support import assert_error
from tollgate.db.models import CredentialHealth

OPENAI_KEY = "sk-test-openai-s3cretk3y-0001"
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hi"}]


@pytest.fixture
def openai_fake(gateway: Gateway) -> Iterator[FakeProvider]:
    with running(openai_server.fake_openai()) as server:
        gateway.add_credential("openai", "openai-main", server.url + "/v1", OPENAI_KEY, priority=1)
        yield server


@pytest.fixture
def anthropic_fake(gateway: Gateway) -> Iterator[FakeProvider]:
    with running(anthropic_server.fake_anthropic()) as server:
        gateway.add_credential("anthropic", "anthropic-backup", server.url, "sk-ant-test-backup-0001", priority=2)
        yield server


def test_rate_limit_with_retry_after_is_waited_then_succeeds(gateway: Gateway, openai_fake: FakeProvider) -> None:
    # Given the provider answers 429 with Retry-After: 1 once
    openai_fake.push(openai_server.error(*openai_server.RATE_LIMITED, headers={"retry-after": "1"}))
    # When the client calls
    completion = gateway.sdk().chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    # Then Tollgate waited exactly what the server asked and the retry succeeded
    assert completion.choices[0].message.content == "Hi."
    assert gateway.sleeps == [1.0]
    assert len(openai_fake.requests) == 2
    (row,) = gateway.usage_rows()
    assert row.status == "success" and row.fallback_from is None


def test_x_ratelimit_reset_duration_is_honoured(gateway: Gateway, openai_fake: FakeProvider) -> None:
    headers = {"x-ratelimit-reset-requests": "250ms", "x-ratelimit-reset-tokens": "6m0s"}
    openai_fake.push(openai_server.error(*openai_server.RATE_LIMITED, headers={"x-ratelimit-reset-requests": "250ms"}))
    gateway.sdk().chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    assert gateway.sleeps == [0.25]
    # A reset further away than the 10 s cap is not waited for: no retry on this credential
    openai_fake.push(openai_server.error(*openai_server.RATE_LIMITED, headers=headers))
    with pytest.raises(openai.RateLimitError) as caught:
        gateway.sdk().chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    assert_error(caught.value.response, 429, "rate_limit_error")
    assert caught.value.response.headers["retry-after"] == "360"
    assert gateway.sleeps == [0.25]


def test_server_errors_three_times_fail_over_to_equivalent_provider(
    gateway: Gateway, openai_fake: FakeProvider, anthropic_fake: FakeProvider
) -> None:
    # Given openai fails with 500 on every attempt and anthropic/claude-sonnet-4-5 is configured as equivalent
    openai_fake.push(*[openai_server.error(*openai_server.SERVER_ERROR) for _ in range(3)])
    # When the client asks for openai/gpt-4o-mini
    raw = gateway.sdk().chat.completions.with_raw_response.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    # Then openai was tried 3 times with exponential backoff (1 s, 2 s ±25 %) and anthropic answered
    assert raw.parse().choices[0].message.content == "Hi."
    assert len(openai_fake.requests) == 3 and len(anthropic_fake.requests) == 1
    assert len(gateway.sleeps) == 2
    assert 0.75 <= gateway.sleeps[0] <= 1.25 and 1.5 <= gateway.sleeps[1] <= 2.5
    assert raw.headers["x-tollgate-provider"] == "anthropic"
    assert raw.headers["x-tollgate-model"] == "claude-sonnet-4-5"
    assert raw.headers["x-tollgate-fallback"] == "openai-main"
    (row,) = gateway.usage_rows()
    assert (row.provider, row.fallback_from, row.requested_model) == ("anthropic", "openai-main", "openai/gpt-4o-mini")
    # And the failed credential cools down for 5 minutes, in the database
    with gateway.services.sessions() as session:
        rows = session.query(CredentialHealth).all()
    (health,) = [r for r in rows if r.consecutive_failures]
    # (the credential that served has a row too: its last_success_at)
    assert [r.last_success_at is not None for r in rows if not r.consecutive_failures] == [True]
    assert health.consecutive_failures == 1 and health.last_error_type == "server"
    assert health.last_failure_at is not None and health.cooldown_until is not None
    assert health.cooldown_until - health.last_failure_at == timedelta(minutes=5)
    # And the next call skips the cooling credential
    raw = gateway.sdk().chat.completions.with_raw_response.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    assert raw.headers["x-tollgate-provider"] == "anthropic"
    assert raw.headers["x-tollgate-fallback"] == "openai-main"
    assert len(openai_fake.requests) == 3


def test_upstream_401_is_provider_auth_error_without_retry(
    gateway: Gateway, openai_fake: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    openai_fake.push(openai_server.error(*openai_server.INVALID_KEY))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(openai.APIStatusError) as caught:
        gateway.sdk().chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    error = assert_error(caught.value.response, 424, "provider_auth_error")
    assert "check your openai key" in error["message"]
    assert len(openai_fake.requests) == 1 and gateway.sleeps == []
    # Neither the key nor the upstream message leaks into the response or the logs
    text = caught.value.response.text
    assert OPENAI_KEY not in text and "Incorrect API key" not in text
    assert OPENAI_KEY not in caplog.text
    (row,) = gateway.usage_rows()
    assert (row.status, row.error_type) == ("error", "auth")


def test_insufficient_quota_429_is_terminal(gateway: Gateway, openai_fake: FakeProvider) -> None:
    openai_fake.push(openai_server.error(*openai_server.INSUFFICIENT_QUOTA))
    with pytest.raises(openai.APIStatusError) as caught:
        gateway.sdk().chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    assert_error(caught.value.response, 424, "provider_quota_error")
    assert len(openai_fake.requests) == 1


def test_model_not_found_is_not_retried_nor_failed_over(
    gateway: Gateway, openai_fake: FakeProvider, anthropic_fake: FakeProvider
) -> None:
    openai_fake.push(openai_server.error(*openai_server.MODEL_NOT_FOUND))
    with pytest.raises(openai.NotFoundError) as caught:
        gateway.sdk().chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    assert_error(caught.value.response, 404, "invalid_request_error", "unknown_model")
    assert len(openai_fake.requests) == 1 and anthropic_fake.requests == []


def test_timeout_is_retried_then_reported_as_504(gateway: Gateway, openai_fake: FakeProvider) -> None:
    # Given the upstream takes longer than the 0.5 s read timeout, every time
    openai_fake.push(*[Reply(body=openai_server.completion(), delay_s=1.0) for _ in range(3)])
    with pytest.raises(openai.APIStatusError) as caught:
        gateway.sdk().chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    assert_error(caught.value.response, 504, "provider_unavailable", "upstream_timeout")
    assert len(openai_fake.requests) == 3 and len(gateway.sleeps) == 2
    (row,) = gateway.usage_rows()
    assert (row.status, row.error_type) == ("error", "timeout")


def test_network_down_is_provider_unavailable(gateway: Gateway) -> None:
    fake = openai_server.fake_openai()
    fake.start()
    url = fake.url
    fake.stop()  # nothing listens there any more
    gateway.add_credential("openai", "gone", url + "/v1", OPENAI_KEY)
    with pytest.raises(openai.APIStatusError) as caught:
        gateway.sdk().chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    assert_error(caught.value.response, 502, "provider_unavailable", "upstream_unreachable")


def test_client_disconnect_mid_stream_without_a_final_usage_charges_the_reservation(
    gateway: Gateway, openai_fake: FakeProvider
) -> None:
    # Given a slow stream of 40 words that never reaches its usage chunk
    events = [sse(openai_server.chunk({"role": "assistant", "content": ""}))]
    events += [sse(openai_server.chunk({"content": f"word{i} "})) for i in range(40)]
    openai_fake.push(Reply(events=events, event_delay_s=0.05))
    # When the client reads three chunks and hangs up
    stream = gateway.sdk().chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES, stream=True)
    received = []
    for chunk in stream:
        received.append(chunk)
        if len(received) == 3:
            break
    stream.close()
    # Then what the provider bills is unknown (read on, no usage came): the call is charged its
    # reserved worst case (estimated prompt + the 4,096-token cap), flagged estimated
    (row,) = gateway.wait_for_rows(1)
    assert (row.status, row.error_type, row.stream) == ("cancelled", "client_disconnected", True)
    assert row.estimated is True
    assert row.input_tokens > 0 and row.output_tokens == 4096
    assert row.cost_usd >= expected_cost(row.input_tokens, 0, 0, 4096)


def test_mid_stream_reset_is_not_retried_and_records_partial_usage(gateway: Gateway, openai_fake: FakeProvider) -> None:
    openai_fake.push(Reply(events=openai_server.stream_events(("Hello", " wor", "ld")), reset_after=3))
    stream = gateway.sdk().chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES, stream=True)
    text = ""
    with pytest.raises(openai.APIError):
        for chunk in stream:
            text += (chunk.choices[0].delta.content or "") if chunk.choices else ""
    assert text == "Hello wor"
    assert len(openai_fake.requests) == 1
    (row,) = gateway.wait_for_rows(1)
    assert (row.status, row.error_type) == ("error", "network")
    assert row.output_tokens > 0


def test_anthropic_error_event_before_first_chunk_is_retried(gateway: Gateway, anthropic_fake: FakeProvider) -> None:
    # An in-band overloaded error before anything reached the client may still be retried
    anthropic_fake.push(Reply(events=[anthropic_server.OVERLOADED_EVENT]))
    stream = gateway.sdk().chat.completions.create(model="anthropic/claude-sonnet-4-5", messages=MESSAGES, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Hi."
    assert len(anthropic_fake.requests) == 2 and len(gateway.sleeps) == 1


def test_anthropic_529_overloaded_is_retried(gateway: Gateway, anthropic_fake: FakeProvider) -> None:
    anthropic_fake.push(anthropic_server.error(529, "overloaded_error", "Overloaded"))
    completion = gateway.sdk().chat.completions.create(model="anthropic/claude-sonnet-4-5", messages=MESSAGES)
    assert completion.choices[0].message.content == "Hi."
    assert len(anthropic_fake.requests) == 2


@pytest.mark.parametrize(
    ("reply", "status", "error_type"),
    [
        (gemini_server.API_KEY_INVALID, 424, "provider_auth_error"),
        (
            gemini_server.quota_exhausted("GenerateRequestsPerDayPerProjectPerModel-FreeTier"),
            424,
            "provider_quota_error",
        ),
        (
            gemini_server.quota_exhausted("GenerateRequestsPerMinutePerProjectPerModel-FreeTier"),
            429,
            "rate_limit_error",
        ),
    ],
    ids=["invalid-key-400", "daily-quota", "minute-quota-37s"],
)
def test_gemini_errors_are_classified_from_structured_fields(
    gateway: Gateway, reply: Reply, status: int, error_type: str
) -> None:
    with running(gemini_server.fake_gemini()) as fake:
        key = "AIzaSyGeminiS3cretK3y00000000001"
        gateway.add_credential("gemini", "gemini-main", fake.url, key)
        fake.push(reply)
        with pytest.raises(openai.APIStatusError) as caught:
            gateway.sdk().chat.completions.create(model="gemini/gemini-2.5-flash", messages=MESSAGES)
        assert_error(caught.value.response, status, error_type)
        assert len(fake.requests) == 1  # 37 s is above the 10 s cap: not retried here
        assert all(key not in r.raw_target for r in fake.requests)
        assert key not in caught.value.response.text


def test_yandex_unknown_key(gateway: Gateway) -> None:
    with running(yandex_server.fake_yandex()) as fake:
        gateway.add_credential("yandex", "ya", fake.url, "AQVNs3cret", options={"folder_id": "b1gfolder"})
        fake.push(yandex_server.UNKNOWN_KEY)
        with pytest.raises(openai.APIStatusError) as caught:
            gateway.sdk().chat.completions.create(model="yandex/yandexgpt-lite", messages=MESSAGES)
        assert "AQVN" not in json.dumps(assert_error(caught.value.response, 424, "provider_auth_error"))


def test_rpm_pacing_above_90_percent(gateway: Gateway) -> None:
    with running(openai_server.fake_openai()) as fake:
        credential_id = gateway.add_credential("openai", "paced", fake.url + "/v1", OPENAI_KEY, rpm_limit=10)
        for _ in range(10):
            gateway.sdk().chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
        # Calls 1..9 (≤ 90 % of 10) are not delayed; the 10th is paced (waits, is not dropped)
        assert len(gateway.sleeps) == 1 and 0 < gateway.sleeps[0] <= 10
        assert len(fake.requests) == 10
        with gateway.services.sessions() as session:
            health = session.get(CredentialHealth, credential_id)
        assert health is not None and health.rpm_count == 10
