"""Fixtures for the usage API tests: an HTTP client, a seeded tenant with a member key."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from tests.integration.usage.seed import Row, at, insert, random_rows
from tests.support import LiveServer, Tenant, make_tenant
from tollgate.wiring import Services


@dataclass
class Seeded:
    tenant: Tenant
    member_key: str
    member_key_id: uuid.UUID
    rows: list[Row]  # this tenant's rows
    other_rows: list[Row]  # another workspace's rows


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def seeded(services: Services) -> Seeded:
    tenant = make_tenant(services)
    member = services.gateway_keys.create(tenant.workspace_id, "member", "member")
    other = make_tenant(services, "other")
    rng = random.Random(42)
    keys: list[uuid.UUID | None] = [tenant.admin_key_id, member.row.id, None]
    rows = random_rows(rng, tenant.workspace_id, keys, 120, at("2026-10-01"), timedelta(days=20))
    other_rows = random_rows(rng, other.workspace_id, [other.admin_key_id], 30, at("2026-10-01"), timedelta(days=20))
    insert(services, rows + other_rows)
    return Seeded(tenant, member.plaintext, member.row.id, rows, other_rows)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
