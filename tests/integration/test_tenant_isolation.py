"""Repositories take the workspace: another tenant's ids simply do not exist."""

from __future__ import annotations

from tests.support import make_tenant
from tollgate.db.repositories.gateway_keys import GatewayKeyRepository
from tollgate.wiring import Services


def test_keys_of_another_workspace_are_invisible(services: Services) -> None:
    a = make_tenant(services, "a")
    b = make_tenant(services, "b")
    with services.sessions.begin() as session:
        repo = GatewayKeyRepository(session)
        assert repo.get(b.workspace_id, a.admin_key_id) is None
        assert [k.id for k in repo.list_page(b.workspace_id, limit=10)] == [b.admin_key_id]
        assert repo.revoke(b.workspace_id, a.admin_key_id, services.clock.now()) is False
        assert repo.get(a.workspace_id, a.admin_key_id) is not None
