"""Long and streamed calls on the ASGI app that both `tollgate serve` and the AWS execute function (behind
the Lambda Web Adapter) run:

* a stream that outlives 30 s (API Gateway's HTTP API limit) arrives chunk by chunk, the first long before
  the last, and is metered;
* on Lambda the adapter's `x-amzn-lambda-context` deadline bounds the call: past it the call is charged
  (estimated) and answered 504 with `x-should-retry: false`; off Lambda a client cannot set a deadline.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.fake_providers import openai_server
from tests.fake_providers.base import FakeProvider, Recorded, Reply, running, sse
from tests.long_calls import openai_with_budget
from tests.support import Tenant, make_services, make_tenant, run_server
from tollgate.db.models import BudgetCounter, UsageRecord
from tollgate.wiring import Services

CHUNKS = 17
CHUNK_GAP_S = 2.0  # 17 chunks 2 s apart: 32 s from the first to the last


@pytest.fixture
def release() -> threading.Event:
    return threading.Event()


@pytest.fixture
def upstream(release: threading.Event) -> Iterator[FakeProvider]:
    def answer(recorded: Recorded) -> Reply:
        if isinstance(recorded.body, dict) and recorded.body.get("stream"):
            pieces = [sse(openai_server.chunk({"content": f"t{i} "})) for i in range(CHUNKS)]
            final = sse(openai_server.chunk({}, finish="stop", usage=openai_server.STREAM_USAGE, choices=False))
            return Reply(events=[*pieces, final, "data: [DONE]\n\n"], event_delay_s=CHUNK_GAP_S)
        release.wait(20)
        return Reply(body=openai_server.completion())

    with running(FakeProvider(answer)) as fake:
        yield fake


CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 200}


def test_a_stream_longer_than_30_s_arrives_chunk_by_chunk_and_is_metered(
    services: Services, tenant: Tenant, upstream: FakeProvider
) -> None:
    openai_with_budget(services, tenant, upstream, "sk-long-" + "g" * 24)
    arrivals: list[float] = []
    lines: list[str] = []
    with run_server(services) as server:
        started = time.monotonic()
        with httpx.stream(
            "POST",
            server.api_url + "/chat/completions",
            json={**CHAT, "stream": True},
            headers={"Authorization": f"Bearer {tenant.admin_key}"},
            timeout=httpx.Timeout(60, read=10),
        ) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("data: "):
                    arrivals.append(time.monotonic() - started)
                    lines.append(line)
    assert lines[-1] == "data: [DONE]"
    assert arrivals[-1] > 30  # outlived the HTTP API's cap...
    assert arrivals[0] < 5  # ...and the first token came at once, not buffered to the end
    contents = [json.loads(x[6:])["choices"][0]["delta"].get("content") for x in lines[:-1] if '"choices":[{' in x]
    assert [c for c in contents if c] == [f"t{i} " for i in range(CHUNKS)]
    with services.sessions() as session:
        row = session.scalars(select(UsageRecord)).one()
    assert (row.status, row.stream, row.estimated) == ("success", True, False)
    assert row.cost_usd > 0


@pytest.fixture
def lambda_services(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """Services as the execute function builds them on Lambda (AWS_LAMBDA_FUNCTION_NAME set)."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "tollgate-test-execute")
    built = make_services(db_url, tmp_path)
    assert built.settings.lambda_function_name == "tollgate-test-execute"
    try:
        yield built
    finally:
        built.close()


def _lambda_context(deadline_in_s: float) -> str:
    return json.dumps({"request_id": "r-1", "deadline": int((time.time() + deadline_in_s) * 1000)})


def test_the_adapters_deadline_charges_the_call_and_answers_504_without_retry(
    lambda_services: Services, upstream: FakeProvider
) -> None:
    tenant = make_tenant(lambda_services)
    openai_with_budget(lambda_services, tenant, upstream, "sk-long-" + "g" * 24)
    with run_server(lambda_services) as server:
        response = httpx.post(
            server.api_url + "/chat/completions",
            json=CHAT,
            headers={"Authorization": f"Bearer {tenant.admin_key}", "x-amzn-lambda-context": _lambda_context(4.5)},
            timeout=30,
        )
    assert response.status_code == 504, response.text
    assert response.headers["x-should-retry"] == "false"
    assert response.json()["error"]["code"] == "deadline_exceeded"
    assert len(upstream.requests) == 1
    with lambda_services.sessions() as session:
        row = session.scalars(select(UsageRecord)).one()
        counter = session.scalars(select(BudgetCounter)).one()
    assert (row.status, row.estimated) == ("interrupted", True)
    assert counter.spent_usd == row.cost_usd > 0 and counter.reserved_usd == 0


def test_off_lambda_a_client_cannot_set_a_deadline(
    services: Services, tenant: Tenant, upstream: FakeProvider, release: threading.Event
) -> None:
    openai_with_budget(services, tenant, upstream, "sk-long-" + "g" * 24)
    threading.Timer(3.0, release.set).start()  # the provider answers after 3 s
    with run_server(services) as server:
        response = httpx.post(
            server.api_url + "/chat/completions",
            json=CHAT,
            headers={"Authorization": f"Bearer {tenant.admin_key}", "x-amzn-lambda-context": _lambda_context(3.5)},
            timeout=30,
        )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/messages",
            {"model": "openai/gpt-4o-mini", "max_tokens": 200, "messages": [{"role": "user", "content": "Hi"}]},
        ),
        ("/embeddings", {"model": "openai/text-embedding-3-small", "input": ["Hi"]}),
    ],
)
def test_the_adapters_deadline_bounds_messages_and_embeddings_calls_too(
    lambda_services: Services, upstream: FakeProvider, release: threading.Event, path: str, body: dict[str, object]
) -> None:
    """Without a deadline these calls ran past the invocation (and could outlive the reservation's TTL,
    when the sweeper charges it while the call still runs and the settle charges it again)."""
    tenant = make_tenant(lambda_services)
    openai_with_budget(lambda_services, tenant, upstream, "sk-long-" + "g" * 24)
    try:
        with run_server(lambda_services) as server:
            response = httpx.post(
                server.api_url + path,
                json=body,
                headers={"Authorization": f"Bearer {tenant.admin_key}", "x-amzn-lambda-context": _lambda_context(4.5)},
                timeout=30,
            )
    finally:
        release.set()
    assert response.status_code == 504, response.text
    with lambda_services.sessions() as session:
        row = session.scalars(select(UsageRecord)).one()
        counter = session.scalars(select(BudgetCounter)).one()
    assert (row.status, row.estimated) == ("interrupted", True)
    assert counter.spent_usd == row.cost_usd > 0 and counter.reserved_usd == 0
