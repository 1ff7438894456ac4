"""The dashboard in a real browser against the routes that exist on every branch:
sign in, key messages, gateway keys, and an overview that degrades when an API is missing."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.ui.conftest import mock_call, screenshot, sign_in
from tests.support import ROOT_KEY, LiveServer, Tenant, make_key

pytestmark = pytest.mark.browser


def usd_text(value: Decimal) -> str:
    """How the dashboard prints an exact USD amount: trailing zeros trimmed, at least 2 decimals."""
    text = format(value.normalize(), "f")
    whole, _, fraction = text.partition(".")
    return f"${whole}.{fraction.ljust(2, '0')}"


def readable_text(value: Decimal) -> str:
    """How a spend tile prints an amount (money.js ``readable``): 2 decimals from $1, else 3 significant
    digits, rounded half-up; "≈" in front when that is not the exact amount."""
    exact = value.normalize()
    if exact != 0 and abs(exact) < 1:
        leading_zeros = -exact.adjusted() - 1
        places = max(2, leading_zeros + 3)
    else:
        places = 2
    shown = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = usd_text(shown)
    return text if shown == exact else f"≈{text}"


def test_readable_text_rule() -> None:
    assert readable_text(Decimal("0.01061365")) == "≈$0.0106"
    assert readable_text(Decimal("0.00001365")) == "≈$0.0000137"
    assert readable_text(Decimal("0.5")) == "$0.50"
    assert readable_text(Decimal("12.345")) == "≈$12.35"
    assert readable_text(Decimal("0")) == "$0.00"


def test_usd_text_matches_the_page_format() -> None:
    assert usd_text(Decimal("0.0000054000")) == "$0.0000054"
    assert usd_text(Decimal("12.5")) == "$12.50"
    assert usd_text(Decimal("100")) == "$100.00"
    assert usd_text(Decimal("0")) == "$0.00"


def test_sign_in_keeps_the_key_in_session_storage_only(page: Page, ui_server: LiveServer, ui_tenant: Tenant) -> None:
    # Given the page without a key, the sign-in form is all there is
    page.goto(f"{ui_server.base_url}/ui/")
    expect(page.get_by_role("heading", name="Sign in to Tollgate")).to_be_visible()
    expect(page.get_by_role("navigation")).to_be_hidden()
    screenshot(page, "01-sign-in")
    # When an admin key is pasted
    sign_in(page, ui_server, ui_tenant.admin_key)
    # Then the overview and the navigation appear
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    expect(page.get_by_role("navigation", name="Dashboard sections")).to_be_visible()
    # And the key is in sessionStorage, never in the URL or localStorage
    assert page.evaluate("sessionStorage.getItem('tollgate.adminKey')") == ui_tenant.admin_key
    assert page.evaluate("localStorage.length") == 0
    assert ui_tenant.admin_key not in page.url
    # And a reload keeps the session; signing out forgets the key
    page.reload()
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Tollgate")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('tollgate.adminKey')") is None


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("garbage", "This key is not valid"),
        ("unknown", "This key is not valid"),
        ("revoked", "This key has been revoked"),
        ("member", "needs a workspace admin key"),
        ("root", "needs a workspace admin key"),
        ("empty", "Paste a gateway admin key"),
    ],
)
def test_bad_keys_get_a_clear_message(
    page: Page, ui_server: LiveServer, ui_tenant: Tenant, which: str, message: str
) -> None:
    services = ui_server.services
    keys = {
        "garbage": "not a key at all",
        "unknown": "tg_doesnotexist_" + "x" * 32,
        "member": make_key(services, ui_tenant.workspace_id, "member"),
        "root": ROOT_KEY,
        "empty": "",
    }
    if which == "revoked":
        created = services.gateway_keys.create(ui_tenant.workspace_id, "old", "admin")
        services.gateway_keys.revoke(ui_tenant.workspace_id, created.row.id)
        keys["revoked"] = created.plaintext
    page.goto(f"{ui_server.base_url}/ui/")
    page.get_by_label("Gateway admin key").fill(keys[which])
    page.get_by_role("button", name="Sign in").click()
    alert = page.locator("#sign-in-error")
    expect(alert).to_contain_text(message)
    expect(page.get_by_role("navigation")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('tollgate.adminKey')") is None
    if which == "revoked":
        screenshot(page, "02-revoked-key-message")


def test_create_a_key_copy_it_once_and_revoke_it(
    page: Page, ui_server: LiveServer, ui_tenant: Tenant, api: httpx.Client
) -> None:
    sign_in(page, ui_server, ui_tenant.admin_key, view="keys")
    # When a member key is created
    page.get_by_label("Name").fill("ci-runner")
    page.get_by_label("Role").select_option("member")
    page.get_by_role("button", name="Create key").click()
    # Then its secret is shown once, with a copy button that puts it on the clipboard
    secret = page.locator("#new-key-secret")
    expect(secret).to_be_visible()
    value = secret.input_value()
    assert value.startswith("tg_")
    expect(page.get_by_text("It is shown only once")).to_be_visible()
    page.get_by_role("button", name="Copy key").click()
    expect(page.get_by_text("Copied to the clipboard.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == value
    screenshot(page, "03-key-created-secret-once")
    # And the new key works against the API
    check = httpx.get(f"{ui_server.base_url}/health")
    assert check.status_code == 200
    used = api.post(
        "/v1/chat/completions",
        json={"model": "mock/echo", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {value}"},
    )
    assert used.status_code == 200
    # And after "Done" the secret is gone from the page for good
    page.get_by_role("button", name="Done, I saved it").click()
    expect(secret).to_have_count(0)
    assert value not in page.content()
    row = page.get_by_role("row").filter(has_text="ci-runner")
    expect(row).to_contain_text("Active")
    # When it is revoked
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke key ci-runner").click()
    # Then the table says so, and the API refuses the key
    expect(page.get_by_role("row").filter(has_text="ci-runner")).to_contain_text("Revoked")
    screenshot(page, "04-key-revoked")
    refused = api.post(
        "/v1/chat/completions",
        json={"model": "mock/echo", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {value}"},
    )
    assert refused.status_code == 401
    listed = {k["name"]: k for k in api.get("/v1/keys").json()["data"]}
    assert listed["ci-runner"]["revoked_at"] is not None


def test_key_revoked_during_the_session_signs_out(page: Page, ui_server: LiveServer, ui_tenant: Tenant) -> None:
    services = ui_server.services
    created = services.gateway_keys.create(ui_tenant.workspace_id, "temporary", "admin")
    sign_in(page, ui_server, created.plaintext, view="keys")
    services.gateway_keys.revoke(ui_tenant.workspace_id, created.row.id)
    page.get_by_role("link", name="Overview").click()
    expect(page.locator("#sign-in-error")).to_contain_text("revoked", timeout=15_000)
    assert page.evaluate("sessionStorage.getItem('tollgate.adminKey')") is None


def test_overview_shows_what_the_api_returns_and_degrades(
    page: Page, ui_server: LiveServer, ui_tenant: Tenant, api: httpx.Client
) -> None:
    # Given a few mock calls and a second key
    for text in ("one", "two two", "three three three"):
        mock_call(api, text)
    make_key(ui_server.services, ui_tenant.workspace_id, "member")
    sign_in(page, ui_server, ui_tenant.admin_key)
    # Then the active key count is the API's
    keys = api.get("/v1/keys").json()["data"]
    expect(page.locator("#active-keys")).to_have_text(str(sum(1 for k in keys if k["revoked_at"] is None)))
    # And every panel whose API is missing says so instead of breaking the page
    for title, path in (("Spend", "/v1/usage/summary?group_by=day"), ("Pricing freshness", "/v1/pricing/status")):
        panel = page.get_by_role("region", name=title)
        if api.get(path).status_code == 404:
            expect(panel).to_contain_text(f"{title} is not available on this gateway")
        else:
            expect(panel.locator("[data-state]")).to_have_count(0)
    screenshot(page, "05-overview")
