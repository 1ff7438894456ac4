"""One money format on the dashboard, the workspace's name in the header, providers in "Top models",
the display currency on the tiles, and spend tiles that stay inside their card at 800 px (real chromium
against the local server)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.ui.conftest import mock_call, screenshot, sign_in
from tests.e2e.ui.test_dashboard import readable_text, usd_text
from tests.support import ROOT_KEY, LiveServer, Tenant

pytestmark = pytest.mark.browser


def seed(api: httpx.Client) -> Decimal:
    costs = [Decimal(mock_call(api, "x" * n).headers["x-tollgate-cost-usd"]) for n in (40, 400, 4000)]
    return sum(costs, Decimal(0))


def test_money_reads_the_same_everywhere(
    page: Page, ui_server: LiveServer, ui_tenant: Tenant, api: httpx.Client
) -> None:
    total = seed(api)
    sign_in(page, ui_server, ui_tenant.admin_key)
    # The header names the workspace, not its id
    expect(page.locator("#workspace-info")).to_have_text("acme")
    # Tiles: readable, and never a different number without saying so; the exact amount in the title
    tile = page.locator("#spend-today")
    expect(tile).to_have_text(readable_text(total))
    expect(tile).to_have_attribute("title", usd_text(total))
    # The chart's table shows the exact amount of the day (not rounded to 6 decimals)
    page.get_by_text("Show the numbers as a table").click()
    today = datetime.now(UTC).date().isoformat()
    expect(page.get_by_role("row").filter(has_text=today).last).to_contain_text(usd_text(total))
    # Axis labels are multiples of one step with the same number of decimals
    labels = page.locator("svg.chart text.axis").all_text_contents()
    money_labels = [label for label in labels if label.startswith("$")]
    assert len(money_labels) == 5
    assert len({len(label.split(".")[1]) for label in money_labels}) == 1, money_labels
    # Top models names the provider with the model
    expect(page.get_by_role("region", name="Top models").locator("tbody tr").first).to_contain_text("mock/echo")
    # Prices: exact, at least 2 decimals ($0.60, not $0.6)
    page.goto(f"{ui_server.base_url}/ui/#/pricing")  # still signed in
    page.locator('.view[data-view="pricing"]').wait_for()
    expect(page.locator('[aria-busy="true"]')).to_have_count(0)
    page.get_by_label("Search models").fill("mock/echo")
    row = page.get_by_role("row").filter(has_text="echo").first
    expect(row).to_contain_text("$0.15")
    expect(row).to_contain_text("$0.60")
    screenshot(page, "30-money-format")


def test_display_currency_on_the_tiles(page: Page, ui_server: LiveServer, ui_tenant: Tenant, api: httpx.Client) -> None:
    assert api.patch("/v1/workspace", json={"display_currency": "ZAR"}).status_code == 200
    root = {"Authorization": f"Bearer {ROOT_KEY}"}
    rate = httpx.put(f"{ui_server.base_url}/v1/fx-rates/ZAR", json={"rate_per_usd": "18.5"}, headers=root)
    assert rate.status_code == 200, rate.text
    total = seed(api)
    sign_in(page, ui_server, ui_tenant.admin_key)
    shown = page.locator("#spend-today-display")
    exact_zar = format((total * Decimal("18.5")).normalize(), "f")
    whole, _, fraction = exact_zar.partition(".")
    expect(shown).to_have_attribute("title", f"{whole}.{fraction.ljust(2, '0')} ZAR")
    expect(shown).to_contain_text("ZAR")


def test_spend_tiles_stay_inside_their_card_at_800px(
    page: Page, ui_server: LiveServer, ui_tenant: Tenant, api: httpx.Client
) -> None:
    # Given amounts with many digits (what made the tiles spill)
    seed(api)
    page.set_viewport_size({"width": 800, "height": 900})
    sign_in(page, ui_server, ui_tenant.admin_key)
    page.locator("#spend-month").wait_for()
    # Then every tile's value fits inside its tile, and every tile inside the card around them
    overflow = page.evaluate(
        """() => {
          const out = [];
          for (const stat of document.querySelectorAll('.stat')) {
            const box = stat.getBoundingClientRect();
            for (const child of stat.children) {
              const inner = child.getBoundingClientRect();
              const spills = inner.right > box.right + 0.5 || child.scrollWidth > child.clientWidth + 1;
              if (spills) out.push(child.id || child.className);
            }
            const card = stat.closest('section, .panel') || document.body;
            if (box.right > card.getBoundingClientRect().right + 0.5) out.push('tile outside card');
          }
          return out;
        }"""
    )
    assert overflow == []
    screenshot(page, "31-tiles-800px")
