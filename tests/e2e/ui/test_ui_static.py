"""The local server serves the dashboard's files safely: types, CSP, no path traversal."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support import LiveServer
from tollgate.ui.assets import STATIC_DIR, find_asset

# The SVG namespace (not fetched) and a placeholder text in the alert-channel form.
ALLOWED_URLS = {"http://www.w3.org/2000/svg", "https://…"}


@pytest.fixture
def http(ui_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=ui_server.base_url, timeout=10)


def test_ui_redirects_to_the_page_with_strict_headers(http: httpx.Client) -> None:
    response = http.get("/ui")
    assert response.status_code == 308
    assert response.headers["location"] == "/ui/"
    page = http.get("/ui/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert '<script type="module" src="app.js"></script>' in page.text


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/ui/app.js", "text/javascript; charset=utf-8"),
        ("/ui/views/overview.js", "text/javascript; charset=utf-8"),
        ("/ui/app.css", "text/css; charset=utf-8"),
        ("/ui/favicon.svg", "image/svg+xml"),
        ("/ui/config.json", "application/json"),
    ],
)
def test_assets_have_their_content_type(http: httpx.Client, path: str, content_type: str) -> None:
    response = http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert "content-security-policy" in response.headers


def test_local_config_points_at_the_same_origin(http: httpx.Client) -> None:
    assert http.get("/ui/config.json").json() == {"api_url": ""}


@pytest.mark.parametrize(
    "path",
    [
        "/ui/../pyproject.toml",
        "/ui/%2e%2e/assets.py",
        "/ui/..%2fassets.py",
        "/ui/views/../../assets.py",
        "/ui/.hidden.js",
        "/ui//etc/passwd",
        "/ui/%5c..%5cassets.py",
        "/ui/nope.js",
        "/ui/views",
        "/ui/app.py",
        "/ui/C:%5cwindows.js",
    ],
)
def test_paths_outside_the_static_folder_are_404(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"


def test_only_files_inside_the_folder_resolve(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "inside.js").write_text("ok")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.js"
    outside.write_text("secret")
    (tmp_path / "link.js").symlink_to(outside)
    assert find_asset("inside.js", tmp_path) is not None
    assert find_asset("link.js", tmp_path) is None
    assert find_asset("../" + outside.name, tmp_path) is None
    assert find_asset("index.html") is not None
    assert (STATIC_DIR / "index.html").is_file()


def test_no_inline_script_or_style_and_no_remote_urls() -> None:
    for path in STATIC_DIR.rglob("*"):
        if path.suffix not in {".html", ".js", ".css"}:
            continue
        text = path.read_text()
        urls = set(re.findall(r"https?://[^\s\"'`)]+", text)) - ALLOWED_URLS
        assert not urls, f"{path} refers to remote URLs {urls}: the dashboard must ship what it needs"
        if path.suffix == ".html":
            assert "<script>" not in text and "style=" not in text and " on" + "click=" not in text
        assert "innerHTML" not in text, path


def test_every_static_file_is_package_data() -> None:
    """`pip install tollgate` must ship the whole dashboard: no build step, no missing file."""
    import fnmatch
    import tomllib

    from tests.support import REPO

    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["tollgate"]
    package = STATIC_DIR.parent.parent
    for path in STATIC_DIR.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            relative = path.relative_to(package).as_posix()
            assert any(fnmatch.fnmatch(relative, g) and relative.count("/") == g.count("/") for g in globs), relative
