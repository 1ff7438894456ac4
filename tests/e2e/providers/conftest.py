"""A live Tollgate wired to fake provider servers: credentials stored by the real credential service
(key wrapped with the local key wrapper, read back by the real credential source), price rows, fast
timeouts, and a recording ``sleep`` so retry waits are asserted instead of slept."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openai
import pytest
from sqlalchemy import select, update

from tests.e2e.providers.specs import Spec
from tests.fake_providers.base import FakeProvider, running
from tests.support import LiveServer, Tenant, make_services, make_tenant, run_server
from tollgate.db.models import ModelPrice, ProviderCredential, UsageRecord
from tollgate.keys.credentials import CredentialSpec
from tollgate.providers.registry import CREDENTIAL_PROVIDERS
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
    sleeps: list[float] = field(default_factory=list)

    @property
    def credentials(self) -> Any:
        """The credential source the execute path reads (``DbCredentialSource``)."""
        return self.services.credentials

    def sdk(self, **kwargs: Any) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.server.api_url, api_key=self.tenant.admin_key, max_retries=0, **kwargs)

    def add_credential(
        self, provider: str, name: str, base_url: str, api_key: str, *, rpm_limit: int | None = None, **kwargs: Any
    ) -> uuid.UUID:
        """Store a credential through ``CredentialService.create`` (validated, key wrapped at rest).
        ``rpm_limit`` has no API field: it is set on the stored row."""
        spec = CredentialSpec(provider=provider, name=name, api_key=api_key, base_url=base_url, **kwargs)
        credential_id: uuid.UUID = self.services.credential_service.create(self.tenant.workspace_id, spec).id
        if rpm_limit is not None:
            with self.services.sessions.begin() as session:
                session.execute(
                    update(ProviderCredential).where(ProviderCredential.id == credential_id).values(rpm_limit=rpm_limit)
                )
            self.services.credential_source.invalidate(self.tenant.workspace_id)
        return credential_id

    @contextmanager
    def upstream(self, spec: Spec) -> Iterator[FakeProvider]:
        """``spec``'s fake provider running, with its credential stored."""
        with running(spec.fake()) as server:
            self.add_credential(
                spec.provider, spec.credential_name, server.url + spec.base_path, spec.api_key, options=spec.options
            )
            yield server

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


# One model per provider of the registry (a provider added there without a model here fails below).
MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.5-flash",
    "deepseek": "deepseek-chat",
    "yandex": "yandexgpt-lite",
    "openrouter": "openai/gpt-4o-mini",
    "custom": "llama-3",
}


@pytest.fixture
def gateway(db_url: str, tmp_path: Path) -> Iterator[Gateway]:
    sleeps: list[float] = []

    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    services = make_services(
        db_url,
        tmp_path,
        overrides={"sleep": record_sleep},
        model_equivalents=EQUIVALENTS,
        upstream_read_timeout_s=0.5,
        cancelled_stream_read_s=CANCELLED_STREAM_READ_S,
        upstream_connect_timeout_s=0.5,
        pricing_seed_snapshot=False,  # prices below are the only ones, so costs and /v1/models are exact
    )
    for provider in CREDENTIAL_PROVIDERS:
        add_price(services, provider, MODELS[provider])
    set_services(services)
    tenant = make_tenant(services)
    try:
        with run_server(services) as server:
            yield Gateway(services, server, tenant, sleeps)
    finally:
        set_services(None)
        services.close()


FakeFactory = Callable[[], Any]
