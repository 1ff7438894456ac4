"""The usage routes over HTTP: pagination, filters, roles, tenancy, validation, export, executions."""

from __future__ import annotations

import csv
import io
import json
import random
import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.integration.usage.conftest import Seeded, auth
from tests.integration.usage.seed import at, insert, random_rows
from tests.support import ROOT_KEY
from tollgate.db.repositories.usage_queries import EXPORT_COLUMNS
from tollgate.wiring import Services

RANGE = {"from": "2026-09-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}


def all_pages(http: httpx.Client, key: str, **params: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = http.get("/v1/usage", params=query, headers=auth(key))
        assert response.status_code == 200, response.text
        body = response.json()
        seen.extend(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def test_list_pages_newest_first_without_gaps(http: httpx.Client, seeded: Seeded) -> None:
    records = all_pages(http, seeded.tenant.admin_key, limit="7")
    assert len(records) == len(seeded.rows)
    assert {r["request_id"] for r in records} == {r.request_id for r in seeded.rows}
    stamps = [(r["created_at"], r["id"]) for r in records]
    assert stamps == sorted(stamps, reverse=True)
    first = records[0]
    assert set(first) >= {
        "request_id", "provider", "model", "requested_model", "status", "error_type", "workflow", "agent", "tags",
        "input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens", "cost_usd",
        "price_id", "estimated", "stream", "fallback_from", "latency_ms", "created_at", "id", "key_id",
    }  # fmt: skip
    assert isinstance(first["cost_usd"], str)
    assert sum(Decimal(r["cost_usd"]) for r in records) == sum(r.cost_usd for r in seeded.rows)


def test_filters(http: httpx.Client, seeded: Seeded) -> None:
    admin = seeded.tenant.admin_key
    params = {"provider": "openai", "status": "success", "from": "2026-10-05T00:00:00", "to": "2026-10-12T12:00:00Z"}
    got = all_pages(http, admin, limit="500", **params)
    want = [
        r
        for r in seeded.rows
        if r.provider == "openai"
        and r.status == "success"
        and at("2026-10-05") <= r.created_at < at("2026-10-12T12:00")
    ]
    assert {r["request_id"] for r in got} == {r.request_id for r in want}
    by_agent = all_pages(http, admin, agent="triage", workflow="support", model="gpt-4o")
    assert {r["request_id"] for r in by_agent} == {
        r.request_id for r in seeded.rows if r.agent == "triage" and r.workflow == "support" and r.model == "gpt-4o"
    }
    by_key = all_pages(http, admin, key_id=str(seeded.member_key_id))
    assert {r["request_id"] for r in by_key} == {r.request_id for r in seeded.rows if r.key_id == seeded.member_key_id}


def test_members_see_only_their_own_key(http: httpx.Client, seeded: Seeded) -> None:
    mine = {r.request_id for r in seeded.rows if r.key_id == seeded.member_key_id}
    assert mine
    assert {r["request_id"] for r in all_pages(http, seeded.member_key, limit="500")} == mine
    summary = http.get("/v1/usage/summary", params=RANGE, headers=auth(seeded.member_key)).json()
    assert summary["totals"]["requests"] == len(mine)
    export = http.get("/v1/usage/export", params={"format": "jsonl"}, headers=auth(seeded.member_key))
    assert {json.loads(line)["request_id"] for line in export.text.splitlines()} == mine
    other_key = http.get(
        "/v1/usage", params={"key_id": str(seeded.tenant.admin_key_id)}, headers=auth(seeded.member_key)
    )
    assert other_key.status_code == 403
    assert other_key.json()["error"]["type"] == "permission_error"


def test_other_workspaces_are_invisible(http: httpx.Client, seeded: Seeded) -> None:
    theirs = {r.request_id for r in seeded.other_rows}
    admin = seeded.tenant.admin_key
    assert not theirs & {r["request_id"] for r in all_pages(http, admin, limit="500")}
    export = http.get("/v1/usage/export", params={"format": "csv"}, headers=auth(admin)).text
    assert not any(request_id in export for request_id in theirs)
    other_key_filter = all_pages(http, admin, key_id=str(seeded.other_rows[0].key_id))
    assert other_key_filter == []
    summary = http.get("/v1/usage/summary", params={**RANGE, "group_by": "key"}, headers=auth(admin)).json()
    assert str(seeded.other_rows[0].key_id) not in {g["key_id"] for g in summary["data"]}
    assert summary["totals"]["requests"] == len(seeded.rows)


def test_root_key_has_no_workspace_usage(http: httpx.Client, seeded: Seeded) -> None:
    for path in ("/v1/usage", "/v1/usage/summary", "/v1/usage/export", "/v1/usage/executions"):
        response = http.get(path, headers=auth(ROOT_KEY))
        assert response.status_code == 403, path
    assert http.get("/v1/usage").status_code == 401


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/usage", {"limit": "0"}, "query.limit"),
        ("/v1/usage", {"limit": "abc"}, "query.limit"),
        ("/v1/usage", {"limit": "100000"}, "query.limit"),
        ("/v1/usage", {"from": "yesterday"}, "query.from"),
        ("/v1/usage", {"from": "2026-10-02", "to": "2026-10-01"}, "query.to"),
        ("/v1/usage", {"from": "2026-10-02T00:00:00Z", "to": "2026-10-02T00:00:00Z"}, "query.to"),
        ("/v1/usage", {"status": "failed"}, "query.status"),
        ("/v1/usage", {"key_id": "not-a-uuid"}, "query.key_id"),
        ("/v1/usage", {"provider": "x" * 65}, "query.provider"),
        ("/v1/usage", {"provider": ""}, "query.provider"),
        ("/v1/usage", {"cursor": "%%%"}, "query.cursor"),
        ("/v1/usage", {"cursor": "bm90LWEtY3Vyc29y"}, "query.cursor"),
        ("/v1/usage", {"colour": "blue"}, "query.colour"),
        ("/v1/usage/summary", {"group_by": "colour"}, "query.group_by"),
        ("/v1/usage/summary", {"tz": "Mars/Olympus_Mons"}, "query.tz"),
        ("/v1/usage/summary", {"tz": "../../etc/passwd"}, "query.tz"),
        ("/v1/usage/summary", {"status": "success"}, "query.status"),
        ("/v1/usage/summary", {"from": "2999-01-01T00:00:00Z"}, "query.from"),
        ("/v1/usage/summary", {"group_by": "day", "tz": "Europe/Berlin", "from": "2020-01-01"}, "query.from"),
        ("/v1/usage/export", {"format": "xml"}, "query.format"),
        ("/v1/usage/export", {"limit": "-1"}, "query.limit"),
        ("/v1/usage/executions", {"group_by": "model"}, "query.group_by"),
        ("/v1/usage/executions", {"failures": "51"}, "query.failures"),
        ("/v1/usage", {"model": "m" * 3000}, "too long"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(
    http: httpx.Client, seeded: Seeded, path: str, params: dict[str, str], field: str
) -> None:
    response = http.get(path, params=params, headers=auth(seeded.tenant.admin_key))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert field in error["message"]


def test_summary_shape_and_exactness(http: httpx.Client, seeded: Seeded) -> None:
    response = http.get(
        "/v1/usage/summary", params={**RANGE, "group_by": "provider"}, headers=auth(seeded.tenant.admin_key)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["group_by"] == "provider" and body["tz"] == "UTC"
    groups = {g["provider"]: g for g in body["data"]}
    for provider, group in groups.items():
        rows = [r for r in seeded.rows if r.provider == provider]
        assert group["requests"] == len(rows)
        assert Decimal(group["cost_usd"]) == sum(r.cost_usd for r in rows)
        assert group["successes"] + group["failures"] == group["requests"]
        assert set(group) >= {
            "success_rate", "input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens",
            "reasoning_tokens", "p50_latency_ms", "p95_latency_ms",
        }  # fmt: skip
    assert Decimal(body["totals"]["cost_usd"]) == sum(r.cost_usd for r in seeded.rows)
    by_month = http.get(
        "/v1/usage/summary",
        params={**RANGE, "group_by": "month", "tz": "Europe/Berlin"},
        headers=auth(seeded.tenant.admin_key),
    ).json()
    assert sum(g["requests"] for g in by_month["data"]) == len(seeded.rows)


def test_export_csv_and_jsonl(http: httpx.Client, seeded: Seeded) -> None:
    admin = auth(seeded.tenant.admin_key)
    response = http.get("/v1/usage/export", params={"format": "csv"}, headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert len(rows) == len(seeded.rows)
    assert sum(Decimal(r["cost_usd"]) for r in rows) == sum(r.cost_usd for r in seeded.rows)
    assert json.loads(rows[0]["tags"]) == ["seed"]
    jsonl = http.get("/v1/usage/export", params={"format": "jsonl", "status": "error"}, headers=admin)
    assert jsonl.headers["content-type"] == "application/x-ndjson"
    records = [json.loads(line) for line in jsonl.text.splitlines()]
    assert {r["request_id"] for r in records} == {r.request_id for r in seeded.rows if r.status == "error"}
    assert all(r["status"] == "error" for r in records)
    limited = http.get("/v1/usage/export", params={"format": "jsonl", "limit": "5"}, headers=admin)
    assert len(limited.text.splitlines()) == 5


def test_executions_per_agent(http: httpx.Client, seeded: Seeded) -> None:
    params = {**RANGE, "group_by": "agent", "failures": "2"}
    body = http.get("/v1/usage/executions", params=params, headers=auth(seeded.tenant.admin_key)).json()
    groups = {g["agent"]: g for g in body["data"]}
    assert set(groups) == {r.agent for r in seeded.rows}
    for agent, group in groups.items():
        rows = [r for r in seeded.rows if r.agent == agent]
        failed = sorted((r for r in rows if r.status != "success"), key=lambda r: r.created_at, reverse=True)
        assert group["runs"] == len(rows)
        assert group["failures"] == len(failed)
        assert Decimal(group["cost_usd"]) == sum(r.cost_usd for r in rows)
        assert group["avg_input_tokens"] == round(sum(r.tokens[0] for r in rows) / len(rows), 2)
        assert [f["request_id"] for f in group["last_failures"]] == [r.request_id for r in failed[:2]]
        assert all(f["error_type"] for f in group["last_failures"])
        assert sum(group["error_types"].values()) == len(failed)


def test_pagination_never_skips_or_repeats_while_inserting(
    http: httpx.Client, seeded: Seeded, services: Services
) -> None:
    # Given a writer adding rows (some backdated into the range being paged) while we page
    stop = threading.Event()
    rng = random.Random(1)

    def writer() -> None:
        for _ in range(40):  # bounded, so paging can reach the end
            if stop.is_set():
                return
            rows = random_rows(rng, seeded.tenant.workspace_id, [None], 3, at("2026-09-01"), timedelta(days=60))
            insert(services, rows)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        records = all_pages(http, seeded.tenant.admin_key, limit="5")
    finally:
        stop.set()
        thread.join()
    ids = [r["id"] for r in records]
    # Then no row is repeated and every row that existed before paging started is seen
    assert len(ids) == len(set(ids))
    assert {r.request_id for r in seeded.rows} <= {r["request_id"] for r in records}


def test_unknown_usage_route_and_method(http: httpx.Client, seeded: Seeded) -> None:
    assert http.post("/v1/usage", headers=auth(seeded.tenant.admin_key)).status_code == 405
    assert http.get(f"/v1/usage/{uuid.uuid4()}", headers=auth(seeded.tenant.admin_key)).status_code == 404
