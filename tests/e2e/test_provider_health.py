"""Provider health people can see, end to end: a failing primary credential (fake OpenAI on 127.0.0.1
answering 500), failover to a backup, GET /v1/credentials/{id}/health, one provider.failover alert to the
channels that subscribed to `provider` events, the background probe, and one provider.recovered alert."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.fake_providers.base import FakeProvider, Recorded, Reply, running
from tests.fake_providers.openai_server import SERVER_ERROR, default_reply, error
from tests.support import (
    LiveServer,
    Tenant,
    http_server,
    installed_services,
    make_key,
    make_tenant,
    run_server,
)
from tollgate.wiring import Services

HI = [{"role": "user", "content": "hi"}]


class Hooks:
    """Webhook receivers on 127.0.0.1, one path per channel."""

    def __init__(self) -> None:
        self.hits: dict[str, list[dict[str, Any]]] = {}
        self.url = ""

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [h["body"] for h in self.hits.get(path, [])]


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    state = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            state.hits.setdefault(self.path, []).append({"body": body})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    with http_server(Handler) as url:
        state.url = url
        yield state


@pytest.fixture
def short_cooldown(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    settings = {"cooldown_s": 1.0, "retry_max_attempts": 1, "health_cache_ttl_s": 0.0}
    with installed_services(db_url, tmp_path, **settings) as services, run_server(services) as server:
        yield server


class Switchable:
    """A fake OpenAI whose chat completions fail with 500 while ``failing`` is set."""

    def __init__(self) -> None:
        self.failing = True
        self._ok: Callable[[Recorded], Reply] = default_reply()

    def __call__(self, request: Recorded) -> Reply:
        if self.failing:
            return error(*SERVER_ERROR)
        return self._ok(request)


def deliver_alerts(services: Services) -> None:
    worker = services.alert_worker
    assert worker is not None
    worker.run_once()


def test_failover_health_alerts_probe_and_recovery(short_cooldown: LiveServer, hooks: Hooks) -> None:
    server = short_cooldown
    services = server.services
    tenant: Tenant = make_tenant(services)
    primary_behaviour = Switchable()
    with running(FakeProvider(primary_behaviour)) as primary, running(FakeProvider(default_reply())) as backup:
        admin = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {tenant.admin_key}"})
        ids = {}
        for name, fake, priority in (("main", primary, 1), ("backup", backup, 2)):
            created = admin.post(
                "/v1/credentials",
                json={
                    "provider": "openai",
                    "name": name,
                    "api_key": f"sk-{name}-" + "h" * 30,
                    "base_url": fake.url + "/v1",
                    "priority": priority,
                },
            )
            assert created.status_code == 201, created.text
            ids[name] = created.json()["id"]
        providers_hook = admin.post(
            "/v1/alert-channels",
            json={"type": "webhook", "target": hooks.url + "/ops", "events": ["provider", "budget"]},
        )
        assert providers_hook.status_code == 201, providers_hook.text
        assert providers_hook.json()["events"] == ["provider", "budget"]
        budget_only = admin.post("/v1/alert-channels", json={"type": "webhook", "target": hooks.url + "/finance"})
        assert budget_only.json()["events"] == ["budget"]

        # Given a healthy start
        health = admin.get(f"/v1/credentials/{ids['main']}/health").json()
        assert health == {
            "state": "healthy",
            "cooldown_until": None,
            "consecutive_failures": 0,
            "last_error_type": None,
            "last_success_at": None,
            "rpm_used": 0,
        }
        # When the primary fails, the backup answers (twice: the second call goes to the backup first)
        sdk = openai.OpenAI(base_url=server.api_url, api_key=tenant.admin_key, max_retries=0)
        raw = sdk.chat.completions.with_raw_response.create(model="openai/gpt-4o-mini", messages=HI, max_tokens=8)  # type: ignore[arg-type]
        assert raw.headers["x-tollgate-fallback"]
        sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=HI, max_tokens=8)  # type: ignore[arg-type]
        assert len(primary.requests) == 1 and len(backup.requests) == 2

        # Then the health shows the cooldown and the backup's success
        main = admin.get(f"/v1/credentials/{ids['main']}/health").json()
        assert (main["state"], main["consecutive_failures"], main["last_error_type"]) == ("cooling_down", 1, "server")
        assert main["cooldown_until"] is not None
        backup_health = admin.get(f"/v1/credentials/{ids['backup']}/health").json()
        assert backup_health["state"] == "healthy" and backup_health["last_success_at"] is not None

        # And exactly one failover alert went to the channel that subscribed to provider events
        deliver_alerts(services)
        (failover,) = hooks.bodies("/ops")
        assert failover["event"] == "provider.failover"
        assert (failover["credential_id"], failover["credential_name"], failover["error_type"]) == (
            ids["main"],
            "main",
            "server",
        )
        assert failover["serving"]["credential_id"] == ids["backup"]
        assert "Switched to openai (backup)" in failover["summary"]
        assert hooks.bodies("/finance") == []

        # When the cooldown ends, the background probe re-checks the primary (now answering)
        primary_behaviour.failing = False
        time.sleep(1.1)
        assert admin.get(f"/v1/credentials/{ids['main']}/health").json()["state"] == "failing"
        probe = services.credential_prober.run()
        assert (probe.probed, probe.recovered) == (1, 1)
        assert primary.requests[-1].method == "GET"  # the cheap verify call, not a completion
        assert services.credential_prober.run().probed == 0

        # Then it is healthy again and one recovery alert was sent
        main = admin.get(f"/v1/credentials/{ids['main']}/health").json()
        assert (main["state"], main["consecutive_failures"]) == ("healthy", 0)
        assert main["last_success_at"] is not None
        deliver_alerts(services)
        events = [b["event"] for b in hooks.bodies("/ops")]
        assert events == ["provider.failover", "provider.recovered"]
        assert hooks.bodies("/ops")[1]["summary"] == "Provider openai (main) is available again."
        assert hooks.bodies("/finance") == []


def test_health_route_roles_and_tenancy(live_server: LiveServer, tenant: Tenant) -> None:
    services = live_server.services
    admin = httpx.Client(base_url=live_server.base_url, headers={"Authorization": f"Bearer {tenant.admin_key}"})
    created = admin.post(
        "/v1/credentials", json={"provider": "openai", "name": "x", "api_key": "sk-" + "q" * 30}
    ).json()
    url = f"{live_server.base_url}/v1/credentials/{created['id']}/health"
    member = make_key(services, tenant.workspace_id, "member")
    other = make_tenant(services, "globex")
    assert httpx.get(url, headers={"Authorization": f"Bearer {member}"}).status_code == 403
    assert httpx.get(url, headers={"Authorization": f"Bearer {other.admin_key}"}).status_code == 404
    assert httpx.get(url).status_code == 401
    unknown = admin.get(f"/v1/credentials/{uuid.uuid4()}/health")
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "not_found_error"
    assert admin.get("/v1/credentials/nope/health").status_code == 404
    assert admin.get(url).json()["state"] == "healthy"


@pytest.mark.parametrize("events", [[], ["budget", "weather"], "provider", [1]])
def test_channel_events_are_validated(live_server: LiveServer, tenant: Tenant, events: Any) -> None:
    response = httpx.post(
        f"{live_server.base_url}/v1/alert-channels",
        json={"type": "webhook", "target": "http://127.0.0.1:9/hook", "events": events},
        headers={"Authorization": f"Bearer {tenant.admin_key}"},
    )
    assert response.status_code == 400, response.text
    assert "body.events" in response.json()["error"]["message"]
