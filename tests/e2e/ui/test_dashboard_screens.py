"""Every screen drawn from answers shaped like docs/api.md (see contract_data.py), so the page code for the
APIs that other branches add is exercised now; keys and sign-in stay on the real server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.ui import contract_data
from tests.e2e.ui.conftest import screenshot, sign_in
from tests.e2e.ui.test_dashboard import readable_text, usd_text
from tests.support import LiveServer, Tenant

pytestmark = pytest.mark.browser


@pytest.fixture
def faked(page: Page) -> Iterator[Page]:
    contract_data.install(page)
    yield page


def test_overview_draws_summary_data(faked: Page, ui_server: LiveServer, ui_tenant: Tenant) -> None:
    sign_in(faked, ui_server, ui_tenant.admin_key)
    periods = faked.evaluate("import('./views/overview.js').then((m) => m.periods())")
    for which in ("today", "week", "month"):
        expected = contract_data.spend_since(date.fromisoformat(periods[which]))
        if which == "today":
            expected = Decimal(contract_data.day_groups(None, date.fromisoformat(periods["today"]))[-1]["cost_usd"])
        expect(faked.locator(f"#spend-{which}")).to_have_text(readable_text(expected))
        expect(faked.locator(f"#spend-{which}")).to_have_attribute("title", usd_text(expected))
    expect(faked.get_by_role("img", name="Cost per day by provider")).to_be_visible()
    assert faked.locator("svg.chart rect").count() == 90  # 30 days x 3 providers
    expect(faked.locator(".legend")).to_contain_text("anthropic")
    expect(faked.get_by_role("region", name="Top models").locator("tbody tr").first).to_contain_text("gpt-4o-mini")
    expect(faked.get_by_role("region", name="Top workflows")).to_contain_text("(none)")
    expect(faked.locator("#failure-rate")).to_have_text("3.0%")  # 6 failed of 200
    expect(faked.locator("#pricing-state")).to_have_text("Prices are stale")
    screenshot(faked, "20-overview-contract-data")


def test_budgets_screen(faked: Page, ui_server: LiveServer, ui_tenant: Tenant) -> None:
    sign_in(faked, ui_server, ui_tenant.admin_key, view="budgets")
    expect(faked.get_by_role("article", name="Budget Team monthly").get_by_role("progressbar")).to_have_class(
        "progress warn"
    )
    expect(faked.get_by_role("article", name="Budget Summarizer daily").get_by_role("progressbar")).to_have_class(
        "progress over"
    )
    expect(faked.get_by_role("article", name="Budget Team monthly")).to_contain_text("remaining $18.00")
    form = faked.get_by_role("form", name="Create a budget")
    form.get_by_label("Name").fill("Nightly batch")
    form.get_by_label("Limit (USD)").fill("abc")
    form.get_by_role("button", name="Create budget").click()
    expect(form.get_by_role("alert")).to_have_text("body.limit_usd: must be greater than 0 (request id req_fake)")
    form.get_by_label("Limit (USD)").fill("5")
    form.get_by_role("button", name="Create budget").click()
    expect(faked.get_by_role("article", name="Budget Nightly batch")).to_contain_text("$5.00")
    faked.get_by_role("button", name="Send a test alert to https://hooks.slack.example/T000/B000").click()
    expect(faked.get_by_text("Test alert sent to")).to_be_visible()
    screenshot(faked, "21-budgets-contract-data")


def test_credentials_screen(faked: Page, ui_server: LiveServer, ui_tenant: Tenant) -> None:
    sign_in(faked, ui_server, ui_tenant.admin_key, view="credentials")
    expect(faked.get_by_role("row").filter(has_text="anthropic-backup")).to_contain_text("Disabled")
    form = faked.get_by_role("form", name="Add a provider credential")
    form.get_by_label("Name").fill("deepseek-main")
    form.get_by_label("Provider").fill("deepseek")
    form.get_by_label("API key").fill("sk-deepseek-secret-value-7777")
    form.get_by_role("button", name="Test and save").click()
    expect(form).to_contain_text("shown only as sk-...7777")
    expect(faked.get_by_role("row").filter(has_text="deepseek-main")).to_contain_text("sk-...7777")
    assert "sk-deepseek-secret-value-7777" not in faked.content()
    screenshot(faked, "22-credentials-contract-data")


def test_usage_screen(faked: Page, ui_server: LiveServer, ui_tenant: Tenant) -> None:
    sign_in(faked, ui_server, ui_tenant.admin_key, view="usage")
    expect(faked.get_by_role("region", name="Records").locator("tbody tr")).to_have_count(3)
    expect(faked.get_by_role("button", name="Next page")).to_be_disabled()
    with faked.expect_download() as download:
        faked.get_by_role("button", name="Export CSV").click()
    assert download.value.suggested_filename == "tollgate-usage.csv"
    screenshot(faked, "23-usage-contract-data")


def test_pricing_screen(faked: Page, ui_server: LiveServer, ui_tenant: Tenant) -> None:
    sign_in(faked, ui_server, ui_tenant.admin_key, view="pricing")
    expect(faked.locator("#pricing-stale")).to_contain_text("Prices are stale")
    faked.get_by_label("Search models").fill("claude")
    rows = faked.get_by_role("region", name="Prices").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("$3.75")
    expect(rows.first).to_contain_text("openrouter")
    screenshot(faked, "24-pricing-contract-data")
