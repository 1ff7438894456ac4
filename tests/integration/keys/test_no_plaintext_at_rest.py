"""Create, test, rotate and fail with recognizable keys, then search the database and the logs for them."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from tests.fakes.key_custody import RecordingAdapter, registry_with
from tests.support import LiveServer, Tenant, run_server
from tollgate.wiring import Services


@pytest.fixture
def server(services: Services) -> Iterator[LiveServer]:
    services.providers = registry_with(RecordingAdapter("openai"), RecordingAdapter("anthropic"))
    with run_server(services) as live:
        yield live


def database_text(services: Services) -> bytes:
    """Everything the database holds: the SQLite file and its WAL, or every PostgreSQL row as text."""
    url = make_url(services.database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists())
    chunks: list[str] = []
    with services.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            chunks.extend(str(row) for row in conn.execute(text(f'SELECT t::text FROM "{table}" AS t')))  # noqa: S608
            chunks.extend(
                str(row)
                for row in conn.execute(
                    text(f"SELECT encode(convert_to(t::text, 'UTF8'), 'hex') FROM \"{table}\" AS t")
                )  # noqa: S608, E501
            )
    return "\n".join(chunks).encode()


def test_plaintext_keys_appear_nowhere(
    server: LiveServer,
    services: Services,
    tenant: Tenant,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    marker = uuid.uuid4().hex
    keys = {
        "openai": f"sk-test-{marker}-openai",
        "anthropic": f"sk-ant-test-{marker}-anthropic",
        "rotated": f"sk-test-{marker}-rotated",
        "bad": f"sk-test-{marker}-bad",
        "unsaved": f"sk-test-{marker}-unsaved",
    }
    h = {"Authorization": f"Bearer {tenant.admin_key}"}
    caplog.set_level(logging.DEBUG)
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        # Given credentials created, tested, rotated, and calls that fail in several ways
        openai_id = http.post(
            "/v1/credentials", json={"provider": "openai", "name": "o", "api_key": keys["openai"]}, headers=h
        ).json()["id"]
        http.post(
            "/v1/credentials", json={"provider": "anthropic", "name": "a", "api_key": keys["anthropic"]}, headers=h
        )
        bad_id = http.post(
            "/v1/credentials", json={"provider": "openai", "name": "b", "api_key": keys["bad"]}, headers=h
        ).json()["id"]
        assert http.post(f"/v1/credentials/{openai_id}/test", headers=h).json()["ok"]
        assert not http.post(f"/v1/credentials/{bad_id}/test", headers=h).json()["ok"]
        http.post(
            "/v1/credentials/test", json={"provider": "openai", "name": "u", "api_key": keys["unsaved"]}, headers=h
        )
        http.post(f"/v1/credentials/{openai_id}/rotate", json={"api_key": keys["rotated"]}, headers=h)
        # a failing create (duplicate name) and a failing one (bad base_url) carrying a key
        http.post("/v1/credentials", json={"provider": "openai", "name": "o", "api_key": keys["bad"]}, headers=h)
        http.post(
            "/v1/credentials",
            json={"provider": "openai", "name": "z", "api_key": keys["bad"], "base_url": "http://x.example"},
            headers=h,
        )
        # an execute call through the stored (rotated) key, and one with the key sent as a gateway key
        body = {"model": "openai/nosuch-model", "messages": [{"role": "user", "content": "hi"}]}
        http.post("/v1/chat/completions", json=body, headers=h)
        http.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {keys['bad']}"})
        listing = http.get("/v1/credentials", headers=h).text
    services.engine.dispose()  # flush SQLite connections; the WAL stays on disk and is scanned too
    stored = database_text(services)
    out, err = capfd.readouterr()
    # every attribute of every log record (message, args, extras), before any redaction, plus stdio
    logs = caplog.text + "".join(str(vars(r)) for r in caplog.records) + out + err
    # Then no key — nor its distinctive middle part — is in the database, the API answers or the logs
    assert marker not in listing
    assert stored, "the database dump is empty: the scan would prove nothing"
    # (the scans see real content: the workspace row, the rotated key's hint and the request logs)
    assert b"acme" in stored and b"sk-...ated" in stored
    assert "request failed" in logs and "duplicate_name" in logs
    for name, key in keys.items():
        assert key.encode() not in stored, f"{name} key found in the database"
        assert key.encode().hex().encode() not in stored, f"{name} key found (hex) in the database"
        assert key not in logs, f"{name} key found in the logs"
    assert marker not in logs
    assert marker.encode() not in stored
