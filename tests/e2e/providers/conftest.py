"""A live Tollgate wired to fake provider servers: credentials rows + in-memory keys, price rows,
fast timeouts, and a recording ``sleep`` so retry waits are asserted instead of slept."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openai
import pytest
from sqlalchemy import select

from tests.fakes.credentials import FakeCredentialSource
from tests.support import LiveServer, Tenant, make_services, make_tenant, run_server
from tollgate.db.models import ModelPrice, UsageRecord
from tollgate.providers.http import build_http_client
from tollgate.wiring import Services, set_services

PRICE = {
    "input": Decimal("1.00"),
    "output": Decimal("2.00"),
    "cache_read": Decimal("0.10"),
    "cache_write": Decimal("1.25"),
}
EQUIVALENTS = {"openai/gpt-4o-mini": ["anthropic/claude-sonnet-4-5"]}
# How long a stream the client left is read on for the provider's final usage (seconds).
CANCELLED_STREAM_READ_S = 2.0


def add_price(services: Services, provider: str, model: str) -> None:
    with services.sessions.begin() as session:
        session.add(
            ModelPrice(
                provider=provider,
                model=model,
                source="manual",
                input_per_1m=PRICE["input"],
                output_per_1m=PRICE["output"],
                cache_read_per_1m=PRICE["cache_read"],
                cache_write_per_1m=PRICE["cache_write"],
                max_output_tokens=4096,
                effective_from=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )


def expected_cost(input_tokens: int, cache_read: int, cache_write: int, output: int) -> Decimal:
    total = (
        input_tokens * PRICE["input"]
        + cache_read * PRICE["cache_read"]
        + cache_write * PRICE["cache_write"]
        + output * PRICE["output"]
    )
    return total / Decimal(1_000_000)


@dataclass
class Gateway:
    services: Services
    server: LiveServer
    tenant: Tenant
    credentials: FakeCredentialSource
    sleeps: list[float] = field(default_factory=list)

    def sdk(self, **kwargs: Any) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.server.api_url, api_key=self.tenant.admin_key, max_retries=0, **kwargs)

    def add_credential(self, provider: str, name: str, base_url: str, api_key: str, **kwargs: Any) -> uuid.UUID:
        return self.credentials.add(self.tenant.workspace_id, provider, name, base_url, api_key, **kwargs)

    def usage_rows(self) -> list[UsageRecord]:
        with self.services.sessions() as session:
            return list(session.scalars(select(UsageRecord).order_by(UsageRecord.created_at)))

    def wait_for_rows(self, count: int, timeout_s: float = 10.0) -> list[UsageRecord]:
        """Usage of a cut stream is written when the relay notices; poll (bounded) for it."""
        deadline = time.monotonic() + timeout_s
        rows = self.usage_rows()
        while len(rows) < count and time.monotonic() < deadline:
            time.sleep(0.05)
            rows = self.usage_rows()
        return rows


@pytest.fixture
def gateway(db_url: str, tmp_path: Path) -> Iterator[Gateway]:
    services = make_services(
        db_url,
        tmp_path,
        model_equivalents=EQUIVALENTS,
        upstream_read_timeout_s=0.5,
        cancelled_stream_read_s=CANCELLED_STREAM_READ_S,
        upstream_connect_timeout_s=0.5,
        pricing_seed_snapshot=False,  # prices below are the only ones, so costs and /v1/models are exact
    )
    sleeps: list[float] = []

    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    source = FakeCredentialSource(services.sessions)
    services.credentials = source  # type: ignore[misc]
    services.sleep = record_sleep  # type: ignore[misc]
    services.http_client = build_http_client(0.5, 0.5, 50, allow_local_network=True)  # type: ignore[misc]
    for provider, model in (
        ("openai", "gpt-4o-mini"),
        ("anthropic", "claude-sonnet-4-5"),
        ("gemini", "gemini-2.5-flash"),
        ("deepseek", "deepseek-chat"),
        ("yandex", "yandexgpt-lite"),
        ("openrouter", "openai/gpt-4o-mini"),
        ("custom", "llama-3"),
    ):
        add_price(services, provider, model)
    set_services(services)
    tenant = make_tenant(services)
    try:
        with run_server(services) as server:
            yield Gateway(services, server, tenant, source, sleeps)
    finally:
        set_services(None)
        services.close()


FakeFactory = Callable[[], Any]
