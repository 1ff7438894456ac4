"""Screens whose APIs land from other branches, written against the API contract (docs/api.md).

Each test is marked ``needs_api(...)`` and skips, naming the route, while this server answers
404 unknown_route for it; after the merge they run against the real routes.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.ui.conftest import mock_call, screenshot, sign_in
from tests.e2e.ui.fakes import fake_provider
from tests.e2e.ui.test_dashboard import readable_text, usd_text
from tests.support import LiveServer, Tenant

pytestmark = pytest.mark.browser


@pytest.mark.needs_api("usage")
def test_overview_numbers_equal_the_api(
    page: Page, ui_server: LiveServer, ui_tenant: Tenant, api: httpx.Client
) -> None:
    # Given a few mock calls attributed to workflows and agents
    costs = [
        Decimal(
            mock_call(api, text, **{"X-Tollgate-Workflow": wf, "X-Tollgate-Agent": "bot"}).headers[
                "x-tollgate-cost-usd"
            ]
        )
        for text, wf in (("one", "signup"), ("two two", "signup"), ("three three three", "billing"))
    ]
    total = sum(costs, Decimal(0))
    # When the overview is opened
    sign_in(page, ui_server, ui_tenant.admin_key)
    # Then today / this week / this month all show the API's total (all calls were made today)
    groups = api.get("/v1/usage/summary", params={"group_by": "provider"}).json()["data"]
    api_total = sum((Decimal(g["cost_usd"]) for g in groups), Decimal(0))
    assert api_total == total
    for which in ("today", "week", "month"):
        expect(page.locator(f"#spend-{which}")).to_have_text(readable_text(total))
        expect(page.locator(f"#spend-{which}")).to_have_attribute("title", usd_text(total))
    # And the top workflows are the API's
    workflows = page.get_by_role("region", name="Top workflows")
    for group in api.get("/v1/usage/summary", params={"group_by": "workflow"}).json()["data"]:
        expect(workflows.get_by_role("row").filter(has_text=str(group["workflow"]))).to_contain_text(
            usd_text(Decimal(group["cost_usd"]))
        )
    expect(page.get_by_role("img", name="Cost per day by provider")).to_be_visible()
    expect(page.locator("#failure-rate")).to_have_text("0.0%")
    screenshot(page, "10-overview-with-usage")


@pytest.mark.needs_api("budgets")
def test_create_edit_reset_and_delete_a_budget(
    page: Page, ui_server: LiveServer, ui_tenant: Tenant, api: httpx.Client
) -> None:
    sign_in(page, ui_server, ui_tenant.admin_key, view="budgets")
    form = page.get_by_role("form", name="Create a budget")
    # A bad limit gets the API's validation message
    form.get_by_label("Name").fill("team monthly")
    form.get_by_label("Limit (USD)").fill("-5")
    form.get_by_role("button", name="Create budget").click()
    expect(form.get_by_role("alert")).to_contain_text("limit_usd")
    assert api.get("/v1/budgets").json()["data"] == []
    # A good one appears with its limit, period end and action
    form.get_by_label("Limit (USD)").fill("25.00")
    form.get_by_label("Action").select_option("block")
    form.get_by_role("button", name="Create budget").click()
    card = page.get_by_role("article", name="Budget team monthly")
    expect(card).to_contain_text("$25.00")
    expect(card).to_contain_text("block")
    (budget,) = api.get("/v1/budgets").json()["data"]
    status = api.get(f"/v1/budgets/{budget['id']}/status").json()
    expect(card).to_contain_text(f"remaining {usd_text(Decimal(status['remaining_usd']))}")
    expect(card.get_by_role("progressbar")).to_be_visible()
    screenshot(page, "11-budget-created")
    # Edit the limit
    card.get_by_role("button", name="Edit budget team monthly").click()
    edit = page.get_by_role("form", name="Edit budget team monthly")
    edit.get_by_label("Limit (USD)").fill("30")
    edit.get_by_role("button", name="Save budget").click()
    expect(page.get_by_role("article", name="Budget team monthly")).to_contain_text("$30.00")
    assert Decimal(api.get(f"/v1/budgets/{budget['id']}").json()["limit_usd"]) == Decimal(30)
    # Reset and delete (with confirmation)
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset budget team monthly").click()
    expect(page.get_by_text("Budget “team monthly” reset.")).to_be_visible()
    page.get_by_role("button", name="Delete budget team monthly").click()
    expect(page.get_by_role("article", name="Budget team monthly")).to_have_count(0)


@pytest.mark.needs_api("budgets")
def test_budget_progress_shows_the_api_status(
    page: Page, ui_server: LiveServer, ui_tenant: Tenant, api: httpx.Client
) -> None:
    created = api.post(
        "/v1/budgets",
        json={"name": "tiny", "scope": "workspace", "period": "daily", "limit_usd": "0.000005", "action": "alert_only"},
    )
    assert created.status_code in (200, 201), created.text
    for text in ("spend", "some more", "and a bit more"):
        mock_call(api, text)
    status = api.get(f"/v1/budgets/{created.json()['id']}/status").json()
    sign_in(page, ui_server, ui_tenant.admin_key, view="budgets")
    card = page.get_by_role("article", name="Budget tiny")
    expect(card).to_contain_text(f"Spent {usd_text(Decimal(status['spent_usd']))}")
    expect(card.get_by_role("progressbar")).to_have_class("progress over")
    screenshot(page, "12-budget-over-limit")


@pytest.mark.needs_api("alert-channels")
def test_alert_channel_test_button_delivers(page: Page, ui_server: LiveServer, ui_tenant: Tenant) -> None:
    with fake_provider() as (base, recorded):
        sign_in(page, ui_server, ui_tenant.admin_key, view="budgets")
        form = page.get_by_role("form", name="Add an alert channel")
        form.get_by_label("Type").select_option("webhook")
        form.get_by_label("Target").fill(f"{base}/hook")
        form.get_by_role("button", name="Add channel").click()
        row = page.get_by_role("row").filter(has_text=f"{base}/hook")
        row.get_by_role("button", name="Send a test alert").click()
        expect(page.get_by_text(f"Test alert sent to {base}/hook")).to_be_visible(timeout=15_000)
        assert any(method == "POST" and path == "/hook" for method, path, _, _ in recorded.requests)


@pytest.mark.needs_api("credentials")
def test_add_a_credential_tested_before_save_shows_only_the_hint(
    page: Page, ui_server: LiveServer, ui_tenant: Tenant, api: httpx.Client
) -> None:
    secret = "sk-test-" + "q" * 24 + "9f3a"
    bad = "sk-bad-" + "z" * 24 + "0000"
    with fake_provider(rejected_keys={bad}) as (base, recorded):
        sign_in(page, ui_server, ui_tenant.admin_key, view="credentials")
        form = page.get_by_role("form", name="Add a provider credential")
        form.get_by_label("Name").fill("openai-main")
        form.get_by_label("Provider").fill("openai")
        form.get_by_label("Base URL").fill(f"{base}/v1")
        # A rejected key is caught by the test and not saved
        form.get_by_label("API key").fill(bad)
        form.get_by_role("button", name="Test and save").click()
        expect(form.get_by_role("alert")).to_contain_text("Test failed")
        assert api.get("/v1/credentials").json()["data"] == []
        # A good key is tested against GET /v1/models, saved, and listed only by its hint
        form.get_by_label("API key").fill(secret)
        form.get_by_role("button", name="Test and save").click()
        expect(form).to_contain_text("shown only as")
        assert any(path.endswith("/models") for _, path, _, _ in recorded.requests)
        row = page.get_by_role("row").filter(has_text="openai-main")
        expect(row).to_contain_text("9f3a")
        assert secret not in page.content()
        assert form.get_by_label("API key").input_value() == ""
        (listed,) = api.get("/v1/credentials").json()["data"]
        assert listed["key_hint"].endswith("9f3a") and listed["has_key"] is True
        assert secret not in httpx.Response(200, json=listed).text
        screenshot(page, "13-credential-masked")
        # Test, disable, make primary from the table
        row.get_by_role("button", name="Test credential openai-main").click()
        expect(page.get_by_text("openai-main: Connection OK")).to_be_visible()
        row.get_by_role("button", name="Disable credential openai-main").click()
        expect(page.get_by_role("row").filter(has_text="openai-main")).to_contain_text("Disabled")
        # Rotate to a new key: the hint follows, the key never shows
        new_secret = "sk-test-" + "w" * 24 + "77b1"
        page.get_by_role("button", name="Rotate the key of openai-main").click()
        page.get_by_label("New API key").fill(new_secret)
        page.get_by_role("button", name="Rotate", exact=True).click()
        expect(page.get_by_role("row").filter(has_text="openai-main")).to_contain_text("77b1")
        assert new_secret not in page.content()


@pytest.mark.needs_api("usage-records")
def test_usage_explorer_filters_paginates_and_exports(
    page: Page, ui_server: LiveServer, ui_tenant: Tenant, api: httpx.Client
) -> None:
    for index in range(27):
        mock_call(api, f"call {index}", **{"X-Tollgate-Workflow": "batch" if index % 3 else "chat"})
    sign_in(page, ui_server, ui_tenant.admin_key, view="usage")
    page.get_by_label("Rows per page").select_option("25")
    page.get_by_role("button", name="Apply filters").click()
    records = page.get_by_role("region", name="Records")
    expect(records.locator("tbody tr")).to_have_count(25)
    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_role("region", name="Records").locator("tbody tr")).to_have_count(2)
    # Filter by workflow: the row count is the API's
    page.get_by_label("Workflow").fill("chat")
    page.get_by_role("button", name="Apply filters").click()
    expected = len(api.get("/v1/usage", params={"workflow": "chat", "limit": 100}).json()["data"])
    expect(page.get_by_role("region", name="Records").locator("tbody tr")).to_have_count(expected)
    screenshot(page, "14-usage-explorer")
    # CSV export downloads with the bearer header (the key is never put in a URL)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    lines = download_info.value.path().read_text().strip().splitlines()
    assert len(lines) == expected + 1


@pytest.mark.needs_api("pricing", "pricing-status")
def test_pricing_table_is_searchable_and_shows_freshness(
    page: Page, ui_server: LiveServer, ui_tenant: Tenant, api: httpx.Client
) -> None:
    sign_in(page, ui_server, ui_tenant.admin_key, view="pricing")
    status = api.get("/v1/pricing/status").json()
    expect(page.locator("#pricing-stale" if status["stale"] else "#pricing-fresh")).to_be_visible()
    page.get_by_label("Search models").fill("mock/echo")
    row = page.get_by_role("row").filter(has_text="echo")
    prices = [p for p in api.get("/v1/pricing", params={"provider": "mock"}).json()["data"] if p["model"] == "echo"]
    expect(row.first).to_contain_text(f"${prices[0]['input_per_1m']}")
    expect(row.first).to_contain_text(prices[0]["source"])
    page.get_by_label("Search models").fill("no-such-model-anywhere")
    expect(page.get_by_text("No model matches the search.")).to_be_visible()
    screenshot(page, "15-pricing")
