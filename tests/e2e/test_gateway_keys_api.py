"""Gateway keys over HTTP: secret once, list with last use, revocation effective at once on this instance."""

from __future__ import annotations

import httpx

from tests.support import ROOT_KEY, LiveServer, Tenant


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_key_lifecycle(live_server: LiveServer, tenant: Tenant) -> None:
    with httpx.Client(base_url=live_server.base_url, timeout=10) as http:
        created = http.post("/v1/keys", json={"name": "ci", "role": "member"}, headers=auth(tenant.admin_key))
        assert created.status_code == 201
        secret, key_id = created.json()["key"], created.json()["id"]
        # the member key works (and its use is recorded)
        chat = {"model": "mock/echo", "messages": [{"role": "user", "content": "hi"}]}
        assert http.post("/v1/chat/completions", json=chat, headers=auth(secret)).status_code == 200
        listed = {k["id"]: k for k in http.get("/v1/keys", headers=auth(tenant.admin_key)).json()["data"]}
        entry = listed[key_id]
        assert set(entry) >= {"id", "public_id", "name", "role", "created_at", "last_used_at", "revoked_at"}
        assert entry["last_used_at"] is not None and entry["role"] == "member" and entry["revoked_at"] is None
        assert "key" not in entry and secret.split("_")[2] not in str(listed)
        # revoke: the very next call on this instance is refused
        revoked = http.delete(f"/v1/keys/{key_id}", headers=auth(tenant.admin_key))
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        refused = http.post("/v1/chat/completions", json=chat, headers=auth(secret))
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "revoked_api_key"
        # workspaces are root-only and listed for root
        assert http.get("/v1/workspaces", headers=auth(tenant.admin_key)).status_code == 403
        ids = [w["id"] for w in http.get("/v1/workspaces", headers=auth(ROOT_KEY)).json()["data"]]
        assert str(tenant.workspace_id) in ids
