"""Browser fixtures: Debian's chromium driven by Playwright against a local server on SQLite.

The browser tests skip (with the reason) only when /usr/bin/chromium or the playwright package
is missing; `.ci/install-browser.sh` installs both. Tests for APIs that other branches add are
marked ``needs_api("budgets")`` etc. and skip while the server answers 404 unknown_route.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.support import REPO, LiveServer, Tenant, installed_services, make_tenant, run_server
from tollgate.wiring import Services

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts" / "ui"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}

# One cheap GET per API area; 404 unknown_route means that branch is not merged yet.
API_PROBES = {
    "budgets": "/v1/budgets",
    "alert-channels": "/v1/alert-channels",
    "credentials": "/v1/credentials",
    "usage": "/v1/usage/summary?group_by=provider",
    "usage-records": "/v1/usage",
    "pricing": "/v1/pricing",
    "pricing-status": "/v1/pricing/status",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_api(*areas): skip while the server has no such API (404 unknown_route)")
    config.addinivalue_line("markers", "browser: drives headless chromium through Playwright")


def browser_unavailable() -> str | None:
    if not CHROMIUM.exists():
        return (
            "the dashboard tests need Chromium at /usr/bin/chromium: "
            "`sudo apt-get install chromium` (Debian/Ubuntu) or `bash .ci/install-browser.sh`"
        )
    if importlib.util.find_spec("playwright") is None:
        return "the playwright Python package is not installed (pip install playwright; no browser download needed)"
    return None


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One browser for the dashboard tests. Package scope, not session: Playwright's sync API keeps an
    event loop running in the main thread while it is open, and the tests after this package call
    ``asyncio.run`` (which refuses to start inside a running loop)."""
    reason = browser_unavailable()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def ui_services(tmp_path: Path) -> Iterator[Services]:
    """SQLite only: the browser suite checks the page, the API suites check both databases."""
    with installed_services(f"sqlite:///{tmp_path / 'ui.db'}", tmp_path) as built:
        yield built


@pytest.fixture
def ui_server(ui_services: Services) -> Iterator[LiveServer]:
    with run_server(ui_services, workers=8) as server:
        yield server


@pytest.fixture
def ui_tenant(ui_services: Services) -> Tenant:
    return make_tenant(ui_services)


@pytest.fixture
def api(ui_server: LiveServer, ui_tenant: Tenant) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {ui_tenant.admin_key}"}
    with httpx.Client(base_url=ui_server.base_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture(autouse=True)
def _skip_missing_api(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("needs_api")
    if marker is None:
        return
    client: httpx.Client = request.getfixturevalue("api")
    for area in marker.args:
        path = API_PROBES[area]
        response = client.get(path)
        if response.status_code == 404 and response.json().get("error", {}).get("code") == "unknown_route":
            pytest.skip(f"needs the {area} API: GET {path} answers 404 unknown_route on this branch")


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.set_default_timeout(10_000)
    try:
        yield opened
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, server: LiveServer, key: str, view: str = "overview") -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.base_url}/ui/#/{view}")
    page.get_by_label("Gateway admin key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.locator(f'.view[data-view="{view}"]').wait_for()
    # (not wait_for_function: the page's CSP forbids the eval it uses, which is the point of the CSP)
    expect(page.locator('[aria-busy="true"]')).to_have_count(0)


def mock_call(api: httpx.Client, text: str, **headers: Any) -> httpx.Response:
    body = {"model": "mock/echo", "messages": [{"role": "user", "content": text}]}
    response = api.post("/v1/chat/completions", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response
