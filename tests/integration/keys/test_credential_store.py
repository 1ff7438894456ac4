"""Credentials in the database (SQLite and PostgreSQL): primary rule, ordering, caches, revocation."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from tests.support import Tenant, make_services
from tollgate.db.models import ProviderCredential
from tollgate.errors import AuthenticationFailed
from tollgate.keys.auth import Authenticator
from tollgate.keys.credential_source import DbCredentialSource
from tollgate.keys.credentials import CredentialSpec
from tollgate.wiring import Services


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def spec(name: str, provider: str = "openai", **fields: object) -> CredentialSpec:
    return CredentialSpec(provider=provider, name=name, api_key=f"sk-{name}-{uuid.uuid4().hex}", **fields)  # type: ignore[arg-type]


def test_database_allows_only_one_primary(services: Services, tenant: Tenant) -> None:
    store = services.credential_service
    first = store.create(tenant.workspace_id, spec("one", is_primary=True))
    second = store.create(tenant.workspace_id, spec("two"))
    # Given code that bypasses the service, the partial unique index still refuses a second primary
    with pytest.raises(IntegrityError), services.sessions.begin() as session:
        session.execute(update(ProviderCredential).where(ProviderCredential.id == second.id).values(is_primary=True))
    # And another workspace may have its own primary
    other = services.workspaces.create("other")
    store.create(other.id, spec("one", is_primary=True))
    assert store.get(tenant.workspace_id, first.id).is_primary


def test_targets_are_ordered_and_decrypted(services: Services, tenant: Tenant) -> None:
    store, ws = services.credential_service, tenant.workspace_id
    low = store.create(ws, spec("low", priority=1))
    primary = store.create(ws, spec("primary", provider="anthropic", priority=50, is_primary=True))
    high = store.create(ws, spec("high", priority=99))
    store.create(ws, spec("off", priority=0, is_active=False))
    custom = store.create(ws, spec("mine", provider="custom", base_url="https://llm.example.com/v1"))
    source = services.credential_source
    openai_targets = source.targets_for(ws, "openai")
    assert [t.credential_id for t in openai_targets] == [low.id, high.id]
    assert openai_targets[0].api_key.startswith("sk-low-")
    # a bare model id: the primary first, then by priority
    assert [t.credential_name for t in source.targets_for(ws, None)][:2] == ["primary", "low"]
    assert [t.credential_id for t in source.targets_for(ws, "custom", "mine")] == [custom.id]
    assert source.targets_for(ws, "custom", "nope") == []
    assert source.targets_for(uuid.uuid4(), "openai") == []
    assert primary.id in {t.credential_id for t in source.targets_for(ws, None)}


def test_other_instances_see_changes_within_the_ttl(db_url: str, tmp_path: Path) -> None:
    # Given two gateway instances sharing one database (and one master key file)
    a = make_services(db_url, tmp_path)
    b = make_services(db_url, tmp_path)
    clock = FakeMonotonic()
    b.credential_source = DbCredentialSource(b.sessions, lambda: b.key_wrapper, ttl_s=30, monotonic=clock)
    try:
        ws = a.workspaces.create("acme").id
        row = a.credential_service.create(ws, spec("main"))
        (before,) = b.credentials.targets_for(ws, "openai")
        # When instance A rotates the key
        a.credential_service.rotate(ws, row.id, "sk-rotated-key-0001")
        # Then B may serve the old key from its cache, but never longer than 5 s (TTL is capped)
        clock.now += 4.9
        assert b.credentials.targets_for(ws, "openai")[0].api_key == before.api_key
        clock.now += 0.2
        assert b.credentials.targets_for(ws, "openai")[0].api_key == "sk-rotated-key-0001"
        # And a deletion on A empties B's view after the same bound
        a.credential_service.delete(ws, row.id)
        clock.now += 5.1
        assert b.credentials.targets_for(ws, "openai") == []
    finally:
        a.close()
        b.close()


def test_changes_through_this_instance_apply_at_once(services: Services, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    row = services.credential_service.create(ws, spec("main"))
    assert len(services.credentials.targets_for(ws, "openai")) == 1
    services.credential_service.update(ws, row.id, {"is_active": False})
    assert services.credentials.targets_for(ws, "openai") == []


def test_revoked_gateway_key_fails_within_five_seconds_on_another_instance(db_url: str, tmp_path: Path) -> None:
    a = make_services(db_url, tmp_path)
    b = make_services(db_url, tmp_path)
    clock = FakeMonotonic()
    # instance B is configured with a longer cache than allowed: the authenticator caps it at 5 s
    b.authenticator = Authenticator(b.sessions, b.clock, cache_ttl_s=60, monotonic=clock)
    try:
        ws = a.workspaces.create("acme").id
        created = a.gateway_keys.create(ws, "ci", "member")
        assert b.authenticator.authenticate(created.plaintext).key_id == created.row.id
        a.gateway_keys.revoke(ws, created.row.id)
        # instance A refuses at once
        with pytest.raises(AuthenticationFailed):
            a.authenticator.authenticate(created.plaintext)
        clock.now += 4.9
        b.authenticator.authenticate(created.plaintext)  # still inside the 5 s window
        clock.now += 0.2
        with pytest.raises(AuthenticationFailed) as caught:
            b.authenticator.authenticate(created.plaintext)
        assert caught.value.code == "revoked_api_key"
    finally:
        a.close()
        b.close()


def test_last_used_is_recorded(services: Services, tenant: Tenant) -> None:
    (row,) = services.gateway_keys.list_page(tenant.workspace_id, 10, None)
    assert row.last_used_at is None
    services.authenticator.authenticate(tenant.admin_key)
    (row,) = services.gateway_keys.list_page(tenant.workspace_id, 10, None)
    assert row.last_used_at is not None and row.last_used_at.tzinfo is not None


def test_concurrent_primary_claims_leave_exactly_one_primary(services: Services, tenant: Tenant) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tollgate.errors import Conflict

    def claim(i: int) -> str:
        try:
            services.credential_service.create(tenant.workspace_id, spec(f"p{i}", is_primary=True))
        except Conflict:
            return "conflict"
        return "created"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(claim, range(12)))
    assert "created" in outcomes
    rows = services.credential_service.list_page(tenant.workspace_id, 100, None)
    assert sum(r.is_primary for r in rows) == 1
    assert len(rows) == outcomes.count("created")
