"""Path traversal and oversized input against the local server: never a 500, never a file outside
the static folder, the documented error shape wherever the gateway itself answers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support import LiveServer, Tenant, assert_error, make_key
from tollgate.api.routes import all_routers

TRAVERSALS = [
    "/ui/../../etc/passwd",
    "/ui/%2e%2e/%2e%2e/etc/passwd",
    "/ui/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/ui/..%2f..%2fetc%2fpasswd",
    "/ui/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/ui/..%5c..%5cetc%5cpasswd",
    "/ui/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/ui/....//....//etc/passwd",
    "/ui/%00../../etc/passwd",
    "/ui/static/../../../pyproject.toml",
    "/v1/credentials/..%2f..",
    "/v1/credentials/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/v1/budgets/..%2f..%2fetc%2fpasswd/status",
    "/v1/pricing/..%2f../..%2f..",
    "/../../etc/passwd",
]
POSTS = sorted({route.path for router in all_routers() for route in router.routes if route.method == "POST"})


def _raw_get(server: LiveServer, target: str, key: str) -> httpx.Response:
    """Send the path exactly as written (httpx would normalise dot segments)."""
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        request = client.build_request("GET", server.base_url, headers={"Authorization": f"Bearer {key}"})
        request.url = request.url.copy_with(raw_path=target.encode())
        return client.send(request)


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_never_escapes_or_errors(live_server: LiveServer, tenant: Tenant, target: str) -> None:
    response = _raw_get(live_server, target, tenant.admin_key)
    assert response.status_code in (400, 401, 403, 404, 405), (target, response.status_code, response.text[:200])
    assert "root:" not in response.text and "[project]" not in response.text
    if response.headers.get("content-type", "").startswith("application/json") and response.status_code != 200:
        assert_error(response, response.status_code, response.json()["error"]["type"])


def test_dot_segments_resolve_before_routing_and_authorization(live_server: LiveServer, tenant: Tenant) -> None:
    # The server removes dot segments (RFC 3986) before routing: /v1/credentials/../keys is /v1/keys,
    # and the role check of /v1/keys applies to it, so nothing is reached that the key could not reach anyway.
    assert _raw_get(live_server, "/v1/credentials/../keys", tenant.admin_key).status_code == 200
    member = make_key(live_server.services, tenant.workspace_id)
    assert_error(_raw_get(live_server, "/v1/credentials/../keys", member), 403, "permission_error")


@pytest.mark.parametrize("path", POSTS)
def test_two_megabyte_body_on_every_post_route_is_413(live_server: LiveServer, tenant: Tenant, path: str) -> None:
    concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
    body = b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    response = httpx.post(
        live_server.base_url + concrete,
        content=body,
        headers={"Authorization": f"Bearer {tenant.admin_key}", "content-type": "application/json"},
        timeout=30,
    )
    assert_error(response, 413, "invalid_request_error", "body_too_large")


def test_chunked_oversized_body_without_content_length_is_413(live_server: LiveServer, tenant: Tenant) -> None:
    def pieces() -> Iterator[bytes]:
        for _ in range(40):
            yield b"a" * 65536

    response = httpx.post(
        live_server.base_url + "/v1/chat/completions",
        content=pieces(),
        headers={"Authorization": f"Bearer {tenant.admin_key}", "content-type": "application/json"},
        timeout=30,
    )
    assert_error(response, 413, "invalid_request_error", "body_too_large")


@pytest.mark.parametrize("name", ["X-Tollgate-Workflow", "X-Custom", "User-Agent"])
def test_ten_kilobyte_header_values_are_not_a_server_error(live_server: LiveServer, tenant: Tenant, name: str) -> None:
    body = {"model": "mock/echo", "messages": [{"role": "user", "content": "hi"}]}
    response = httpx.post(
        live_server.base_url + "/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {tenant.admin_key}", name: "v" * 10_240},
        timeout=10,
    )
    assert response.status_code in (200, 400, 431), response.text[:200]
    if response.status_code == 200 and name == "X-Tollgate-Workflow":
        # attribution labels are bounded, not stored at 10 KB
        with live_server.services.sessions() as session:
            from sqlalchemy import select

            from tollgate.db.models import UsageRecord

            (row,) = session.scalars(select(UsageRecord)).all()
        assert row.workflow is not None and len(row.workflow) <= 200


def test_ten_kilobyte_authorization_header_is_401(live_server: LiveServer) -> None:
    response = httpx.get(
        live_server.base_url + "/v1/keys", headers={"Authorization": "Bearer tg_" + "a" * 10_240}, timeout=10
    )
    assert_error(response, 401, "authentication_error")


@pytest.mark.parametrize(
    "query",
    [
        "model=" + "m" * 5000,
        "from=" + "2" * 5000,
        "cursor=" + "c" * 5000,
        "&".join(f"p{i}=v" for i in range(2000)),
        "provider=" + "%41" * 3000,
    ],
    ids=["long-value", "long-date", "long-cursor", "many-params", "encoded"],
)
def test_very_long_query_strings_are_400_not_500(live_server: LiveServer, tenant: Tenant, query: str) -> None:
    response = httpx.get(
        f"{live_server.base_url}/v1/usage?{query}", headers={"Authorization": f"Bearer {tenant.admin_key}"}, timeout=10
    )
    assert response.status_code in (200, 400), response.text[:300]
    if response.status_code == 400:
        assert_error(response, 400, "invalid_request_error")
