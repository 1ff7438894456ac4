"""Budgets and alert channels over HTTP: happy paths, bad input, tenancy (404 for other workspaces)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from tests.integration.budgets.conftest import Receiver, api, budget_body
from tests.support import LiveServer, Tenant, assert_error, make_key, make_tenant
from tollgate.alerts.signing import verify


def test_budget_lifecycle(live_server: LiveServer, tenant: Tenant) -> None:
    with api(live_server, tenant.admin_key) as client:
        created = client.post("/v1/budgets", json=budget_body(timezone="Europe/Berlin", limit_usd="12.5"))
        assert created.status_code == 201, created.text
        budget = created.json()
        assert (budget["limit_usd"], budget["thresholds"], budget["action"]) == ("12.5", [0.5, 0.75, 0.9, 1.0], "block")
        bid = budget["id"]
        assert client.get(f"/v1/budgets/{bid}").json()["name"] == "team"
        assert [b["id"] for b in client.get("/v1/budgets").json()["data"]] == [bid]
        replaced = client.put(
            f"/v1/budgets/{bid}", json=budget_body(name="renamed", limit_usd="20", action="alert_only")
        )
        assert (replaced.json()["name"], replaced.json()["limit_usd"]) == ("renamed", "20")
        status = client.get(f"/v1/budgets/{bid}/status").json()
        assert {k: status[k] for k in ("limit_usd", "spent_usd", "reserved_usd", "remaining_usd")} == {
            "limit_usd": "20",
            "spent_usd": "0",
            "reserved_usd": "0",
            "remaining_usd": "20",
        }
        assert status["period_start"].endswith("Z") and status["thresholds_crossed"] == []
        client.post(
            "/v1/chat/completions", json={"model": "mock/echo", "messages": [{"role": "user", "content": "hi"}]}
        )
        history = client.get(f"/v1/budgets/{bid}/history", params={"days": 3}).json()
        assert len(history["days"]) == 3 and Decimal(history["days"][-1]["spent_usd"]) > 0
        listed = client.get("/v1/budgets/status").json()
        assert set(listed) == {"data", "next_cursor"} and listed["next_cursor"] is None  # one page, the list shape
        all_status = listed["data"]
        assert Decimal(all_status[0]["spent_usd"]) == Decimal(history["days"][-1]["spent_usd"])
        reset = client.post(f"/v1/budgets/{bid}/reset")
        assert reset.json()["spent_usd"] == "0"
        deleted = client.delete(f"/v1/budgets/{bid}")
        assert deleted.status_code == 200 and deleted.json()["deleted_at"] is not None
        assert client.get(f"/v1/budgets/{bid}").status_code == 404
        assert client.get("/v1/budgets").json()["data"] == []


def test_block_budget_answers_402_with_details(live_server: LiveServer, tenant: Tenant) -> None:
    with api(live_server, tenant.admin_key) as client:
        bid = client.post("/v1/budgets", json=budget_body(limit_usd="0.000001")).json()["id"]
        response = client.post(
            "/v1/chat/completions", json={"model": "mock/echo", "messages": [{"role": "user", "content": "hi"}]}
        )
    error = assert_error(response, 402, "budget_exceeded")
    assert (error["type"], error["budget_id"], error["limit_usd"], error["spent_usd"]) == (
        "budget_exceeded",
        bid,
        "0.000001",
        "0",
    )
    assert error["period_end"]


def test_budget_scoped_to_another_model_does_not_apply(live_server: LiveServer, tenant: Tenant) -> None:
    with api(live_server, tenant.admin_key) as client:
        client.post(
            "/v1/budgets",
            json=budget_body(
                limit_usd="0.000001",
                action="downgrade",
                downgrade_model="mock/echo",
                scope="model",
                scope_value="mock/nothing",
            ),
        )
        ok = client.post(
            "/v1/chat/completions", json={"model": "mock/echo", "messages": [{"role": "user", "content": "hi"}]}
        )
    assert ok.status_code == 200  # the budget scopes another model: untouched


BAD_BUDGETS = [
    ({"name": 5}, "body.name"),
    ({"limit_usd": "-1"}, "body.limit_usd"),
    ({"limit_usd": "1e12"}, "body.limit_usd"),
    ({"limit_usd": "abc"}, "body.limit_usd"),
    ({"scope": "planet"}, "body.scope"),
    ({"period": "30days"}, "body.period"),
    ({"timezone": "Mars/Olympus"}, "body.timezone"),
    ({"thresholds": [0]}, "body.thresholds"),
    ({"thresholds": [0.5] * 11}, "body.thresholds"),
    ({"name": "x" * 201}, "body.name"),
    ({"unknown": 1}, "body.unknown"),
    ({"action": "downgrade"}, "body.downgrade_model"),
    ({"scope": "key"}, "body.scope_value"),
    ({"channel_ids": ["nope"]}, "body.channel_ids"),
]


@pytest.mark.parametrize(("patch", "field"), BAD_BUDGETS)
def test_bad_budget_input_is_a_400_naming_the_field(
    live_server: LiveServer, tenant: Tenant, patch: dict[str, object], field: str
) -> None:
    with api(live_server, tenant.admin_key) as client:
        response = client.post("/v1/budgets", json=budget_body(**patch))
    assert field in assert_error(response, 400, "invalid_request_error")["message"]


def test_missing_fields_and_bad_queries(live_server: LiveServer, tenant: Tenant) -> None:
    with api(live_server, tenant.admin_key) as client:
        assert client.post("/v1/budgets", json={"name": "x"}).status_code == 400
        assert client.post("/v1/budgets", content=b"{oops").status_code == 400
        bid = client.post("/v1/budgets", json=budget_body()).json()["id"]
        for days in ("0", "366", "abc"):
            assert client.get(f"/v1/budgets/{bid}/history", params={"days": days}).status_code == 400
        assert client.get("/v1/budgets", params={"limit": "0"}).status_code == 400
        assert client.post("/v1/alert-channels", json={"type": "sms", "target": "x"}).status_code == 400
        assert client.post("/v1/alert-channels", json={"type": "email", "target": "not-an-email"}).status_code == 400
        too_long = "https://example.com/" + "a" * 1000
        assert client.post("/v1/alert-channels", json={"type": "webhook", "target": too_long}).status_code == 400
        missing_channel = client.post("/v1/budgets", json=budget_body(channel_ids=[str(uuid.uuid4())]))
        assert missing_channel.status_code == 404


def test_other_workspaces_and_unknown_ids_are_404(live_server: LiveServer, tenant: Tenant, receiver: Receiver) -> None:
    other = make_tenant(live_server.services, "other")
    with api(live_server, tenant.admin_key) as mine, api(live_server, other.admin_key) as theirs:
        bid = mine.post("/v1/budgets", json=budget_body()).json()["id"]
        cid = mine.post("/v1/alert-channels", json={"type": "webhook", "target": receiver.url}).json()["id"]
        for method, path in [
            ("GET", f"/v1/budgets/{bid}"),
            ("PUT", f"/v1/budgets/{bid}"),
            ("DELETE", f"/v1/budgets/{bid}"),
            ("POST", f"/v1/budgets/{bid}/reset"),
            ("GET", f"/v1/budgets/{bid}/status"),
            ("GET", f"/v1/budgets/{bid}/history"),
            ("DELETE", f"/v1/alert-channels/{cid}"),
            ("POST", f"/v1/alert-channels/{cid}/test"),
            ("GET", f"/v1/budgets/{uuid.uuid4()}"),
            ("GET", "/v1/budgets/not-a-uuid"),
        ]:
            body = budget_body() if method == "PUT" else None
            response = theirs.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
        assert theirs.post("/v1/budgets", json=budget_body(channel_ids=[cid])).status_code == 404
        assert theirs.get("/v1/budgets/status").json()["data"] == []


def test_members_read_but_cannot_write(live_server: LiveServer, tenant: Tenant) -> None:
    member = make_key(live_server.services, tenant.workspace_id)
    with api(live_server, member) as client:
        assert client.get("/v1/budgets").status_code == 200
        assert client.post("/v1/budgets", json=budget_body()).status_code == 403
        assert client.get("/v1/alert-channels").status_code == 403


def test_webhook_channel_secret_is_returned_once_and_signs_the_test_send(
    live_server: LiveServer, tenant: Tenant, receiver: Receiver
) -> None:
    with api(live_server, tenant.admin_key) as client:
        created = client.post("/v1/alert-channels", json={"type": "webhook", "target": receiver.url})
        assert created.status_code == 201, created.text
        channel = created.json()
        secret = channel["secret"]
        assert secret.startswith("whsec_") and channel["has_secret"] is True
        listed = client.get("/v1/alert-channels").json()["data"]
        assert "secret" not in listed[0]
        result = client.post(f"/v1/alert-channels/{channel['id']}/test").json()
        assert result["ok"] is True and result["error"] is None
        hit = receiver.hits[-1]
        assert verify(
            secret.encode(), hit["body"], hit["headers"]["x-tollgate-signature"], now=int(__import__("time").time())
        )
        receiver.status = 500
        failed = client.post(f"/v1/alert-channels/{channel['id']}/test").json()
        assert failed["ok"] is False and "HTTP 500" in failed["error"]
        assert client.delete(f"/v1/alert-channels/{channel['id']}").status_code == 200
        assert client.post(f"/v1/alert-channels/{channel['id']}/test").status_code == 404
    with live_server.services.sessions() as session:
        from tollgate.db.models import AlertChannel

        stored = session.get(AlertChannel, uuid.UUID(channel["id"]))
        assert stored is not None and stored.secret_ciphertext is None


def test_slack_url_is_stored_encrypted_and_ssrf_targets_are_refused(live_server: LiveServer, tenant: Tenant) -> None:
    with api(live_server, tenant.admin_key) as client:
        for target in ("https://169.254.169.254/latest", "https://10.0.0.5/hook", "ftp://example.com/x"):
            response = client.post("/v1/alert-channels", json={"type": "webhook", "target": target})
            assert_error(response, 400, "invalid_request_error", "unsafe_target")
        slack = client.post(
            "/v1/alert-channels",
            json={"type": "slack", "target": "http://127.0.0.1:9/services/T000/B000/XXXXsecretpath"},
        )
        assert slack.status_code == 201
        assert "secretpath" not in slack.json()["target"]
