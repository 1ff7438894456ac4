"""The execute Lambda handler under a deadline: a fake Lambda context whose remaining time runs out
while the provider is still answering (SQLite and PostgreSQL).

The call is charged at its reserved worst case as an ``estimated`` usage row (never released: the
upstream call had started), and the client gets 504 ``provider_unavailable`` with
``x-should-retry: false`` so the OpenAI SDK does not pay for it again.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

from functions.execute.handler import handler as execute_handler
from tests.fake_providers import openai_server
from tests.fake_providers.base import FakeProvider, Recorded, Reply, running, sse
from tests.fakes.lambda_context import FakeLambdaContext
from tests.long_calls import ledger, openai_with_budget
from tests.support import Tenant, load_event
from tollgate.wiring import Services


@dataclass
class Slow:
    fake: FakeProvider
    release: threading.Event


@pytest.fixture
def slow_openai() -> Iterator[Slow]:
    release = threading.Event()
    reply = openai_server.default_reply()

    def answer(recorded: Recorded) -> Reply:
        if isinstance(recorded.body, dict) and recorded.body.get("stream"):
            # a stream that keeps going well past the deadline: one chunk every 0.5 s
            pieces = [sse(openai_server.chunk({"content": f"w{i} "})) for i in range(20)]
            return Reply(events=[*pieces, "data: [DONE]\n\n"], event_delay_s=0.5)
        release.wait(15)  # still thinking when the invocation runs out
        return reply(recorded)  # type: ignore[no-any-return]

    with running(FakeProvider(answer)) as fake:
        yield Slow(fake, release)
        release.set()


def _event(key: str, *, stream: bool = False) -> dict:  # type: ignore[type-arg]
    event = load_event("execute/chat.json")
    event["headers"] = {**event["headers"], "authorization": f"Bearer {key}"}
    body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 300}
    if stream:
        body["stream"] = True
    event["body"] = json.dumps(body)
    return event


def test_deadline_mid_call_charges_the_worst_case_and_answers_504_without_retry(
    services: Services, tenant: Tenant, slow_openai: Slow
) -> None:
    openai_with_budget(services, tenant, slow_openai.fake, "sk-deadline-" + "f" * 24)
    context = FakeLambdaContext(remaining_ms=4_500)  # margin 3 s: 1.5 s for the whole call

    started = time.monotonic()
    result = execute_handler(_event(tenant.admin_key), context)
    took = time.monotonic() - started

    assert result["statusCode"] == 504, result["body"]
    assert result["headers"]["x-should-retry"] == "false"
    error = json.loads(result["body"])["error"]
    assert (error["type"], error["code"]) == ("provider_unavailable", "deadline_exceeded")
    assert error["request_id"] == result["headers"]["x-request-id"]
    # answered before Lambda would have killed the invocation, with one upstream attempt (no retry)
    assert took < 4.5
    assert len(slow_openai.fake.requests) == 1
    rows, spent, reserved, held = ledger(services)
    [row] = rows
    assert (row.status, row.error_type, row.estimated) == ("interrupted", "deadline_exceeded", True)
    assert row.cost_usd > 0 and spent == row.cost_usd
    assert (reserved, held) == (Decimal(0), 0)


def test_deadline_mid_stream_ends_the_stream_with_an_error_and_charges_the_worst_case(
    services: Services, tenant: Tenant, slow_openai: Slow
) -> None:
    openai_with_budget(services, tenant, slow_openai.fake, "sk-deadline-" + "f" * 24)
    result = execute_handler(_event(tenant.admin_key, stream=True), FakeLambdaContext(remaining_ms=5_000))

    assert result["statusCode"] == 200  # the stream had started
    events = [e for e in result["body"].split("\n\n") if e]
    assert any('"content":"w0 "' in e for e in events)
    last = json.loads(events[-1].removeprefix("data: "))
    assert (last["error"]["type"], last["error"]["code"]) == ("provider_unavailable", "deadline_exceeded")
    assert "data: [DONE]" not in events
    rows, spent, reserved, held = ledger(services)
    [row] = rows
    assert (row.status, row.estimated, row.stream) == ("interrupted", True, True)
    assert spent == row.cost_usd > 0
    assert (reserved, held) == (Decimal(0), 0)


def test_a_call_within_its_deadline_is_recorded_normally(services: Services, tenant: Tenant, slow_openai: Slow) -> None:
    openai_with_budget(services, tenant, slow_openai.fake, "sk-deadline-" + "f" * 24)
    slow_openai.release.set()
    result = execute_handler(_event(tenant.admin_key), FakeLambdaContext(remaining_ms=60_000))
    assert result["statusCode"] == 200, result["body"]
    [row] = ledger(services)[0]
    assert (row.status, row.estimated) == ("success", False)
