"""Schemathesis against /openapi.json of the local server: every route, valid keys, no 5xx, and every
error in the documented shape. Bounded and derandomized so CI is deterministic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.support import ROOT_KEY, LiveServer, make_services, make_tenant, run_server

ERROR_FIELDS = {"type", "code", "message", "request_id"}
ROOT_ONLY_PREFIXES = ("/v1/workspaces", "/v1/pricing/refresh")


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    home = tmp_path_factory.mktemp("fuzz")
    services = make_services(f"sqlite:///{home / 'fuzz.db'}", Path(home))
    tenant = make_tenant(services)
    with run_server(services) as server:
        yield server, tenant.admin_key
    services.close()


@pytest.fixture(scope="module")
def api_schema(fuzz_server: tuple[LiveServer, str]) -> Any:
    server, _ = fuzz_server
    return schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")


def test_no_server_errors_and_documented_error_shape(api_schema: Any, fuzz_server: tuple[LiveServer, str]) -> None:
    _, admin_key = fuzz_server
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 5
    for operation in operations:
        key = ROOT_KEY if operation.path.startswith(ROOT_ONLY_PREFIXES) else admin_key
        fuzz_operation(operation, key)


def fuzz_operation(operation: Any, key: str) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=25, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}"
        if response.status_code >= 400:
            body = response.json()
            request_id = response.headers["x-request-id"]
            ids = request_id if isinstance(request_id, list) else [request_id]
            if body.get("type") == "error":  # Anthropic's shape, on /v1/messages*
                assert set(body["error"]) >= {"type", "message"} and body["request_id"] in ids, body
                return
            assert set(body["error"]) >= ERROR_FIELDS, body
            assert body["error"]["request_id"] in ids

    run()
