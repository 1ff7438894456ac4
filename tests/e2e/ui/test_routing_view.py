"""The routing-rules screen: the body its form builds is the one the API accepts (run in node), and
in the browser it lists, creates, edits and deletes rules and shows hit counts from usage rows."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import httpx
import pytest

from tests.e2e.ui.conftest import mock_call, screenshot, sign_in
from tests.support import REPO, LiveServer, Tenant

VIEW = REPO / "shared" / "tollgate" / "ui" / "static" / "views" / "routing.js"


def run_view_function(expression: str) -> Any:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = f"import * as view from {json.dumps(VIEW.as_uri())};\nconsole.log(JSON.stringify({expression}));"
    done = subprocess.run(  # noqa: S603 - a fixed script on our own module
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    return json.loads(done.stdout)


def test_the_form_body_is_accepted_by_the_api(live_server: LiveServer, tenant: Tenant) -> None:
    form = {
        "name": "cheap chat",
        "priority": "7",
        "is_active": True,
        "model": "openai/*",
        "workflow": "",
        "agent": "support",
        "tags": "prod, eu",
        "key_id": "",
        "action": "cheapest",
        "targets": "openai/gpt-4o, openai/gpt-4o-mini",
        "message": "",
    }
    body = run_view_function(f"view.ruleBody({json.dumps(form)})")
    blocked = run_view_function(f"view.ruleBody({json.dumps({**form, 'action': 'block', 'message': 'no'})})")
    with httpx.Client(base_url=live_server.base_url, headers={"Authorization": f"Bearer {tenant.admin_key}"}) as api:
        created = api.post("/v1/routing-rules", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["match"] == {"model": "openai/*", "agent": "support", "tags": ["prod", "eu"]}
        assert created.json()["action"] == {"type": "cheapest", "targets": ["openai/gpt-4o", "openai/gpt-4o-mini"]}
        assert api.post("/v1/routing-rules", json=blocked).json()["action"] == {"type": "block", "message": "no"}
    summary = run_view_function('view.describeMatch({"model": "openai/*", "tags": ["a", "b"]})')
    assert summary == "model openai/* · tags a, b"


@pytest.mark.browser
def test_rules_screen_creates_edits_deletes_and_counts_hits(
    page: Any, ui_server: LiveServer, ui_tenant: Tenant, api: httpx.Client
) -> None:
    from playwright.sync_api import expect

    sign_in(page, ui_server, ui_tenant.admin_key, view="routing")
    # When a rule is created through the form
    page.get_by_label("Rule name").fill("to echo")
    page.get_by_label("Priority").fill("5")
    page.get_by_label("Match model").fill("smart*")
    page.get_by_label("Targets").fill("mock/echo")
    page.get_by_role("button", name="Create rule").click()
    expect(page.get_by_text("Rule “to echo” created.")).to_be_visible()
    rules = api.get("/v1/routing-rules").json()["data"]
    assert [(r["name"], r["match"], r["action"]) for r in rules] == [
        ("to echo", {"model": "smart*"}, {"type": "route", "targets": ["mock/echo"]})
    ]
    # And a call matches it, the list shows one hit after a reload
    body = {"model": "smart-1", "messages": [{"role": "user", "content": "hi"}]}
    assert api.post("/v1/chat/completions", json=body).status_code == 200
    mock_call(api, "not routed")
    page.reload()
    page.locator('.view[data-view="routing"]').wait_for()
    row = page.get_by_role("row").filter(has_text="to echo")
    expect(row).to_contain_text("route: mock/echo")
    expect(row.locator("td").nth(5)).to_have_text("1")
    screenshot(page, "20-routing-rules")
    # When it is edited and then deleted
    page.get_by_role("button", name="Edit rule to echo").click()
    page.get_by_label("Priority").fill("9")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Rule “to echo” saved.")).to_be_visible()
    assert api.get("/v1/routing-rules").json()["data"][0]["priority"] == 9
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete rule to echo").click()
    expect(page.get_by_text("No routing rules yet")).to_be_visible()
    assert api.get("/v1/routing-rules").json()["data"] == []
