"""Hostile JSON over HTTP: a clear 400 in the documented error shape, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.support import LiveServer, Tenant


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"model":"mock/echo","messages":[{"role":"user","content":"hi"}],"metadata":{"x":'
        + "[" * 900
        + "]" * 900
        + "}}",
        '{"model":"mock/echo","messages":[{"role":"user","content":"hi"}],"seed":' + "7" * 5000 + "}",
    ],
)
def test_deep_or_huge_json_is_a_400(live_server: LiveServer, tenant: Tenant, raw: str) -> None:
    response = httpx.post(
        live_server.api_url + "/chat/completions",
        content=raw.encode(),
        headers={"authorization": f"Bearer {tenant.admin_key}", "content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "bad_json") and error["request_id"]
