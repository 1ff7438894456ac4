"""Route matching: static paths beat parameters, greedy paths take slashes, wrong methods are 405s."""

from __future__ import annotations

from tollgate.api.http import ApiResponse
from tollgate.api.router import ADMIN, Match, Router, RouteTable


def _ok(_ctx: object) -> ApiResponse:
    return ApiResponse(status=200)


def build() -> RouteTable:
    router = Router("test")
    router.route("GET", "/v1/budgets/{id}", roles=ADMIN, summary="one")(_ok)
    router.route("GET", "/v1/budgets/status", roles=ADMIN, summary="all")(_ok)
    router.route("GET", "/v1/pricing/{provider}/{model:path}", roles=ADMIN, summary="price")(_ok)
    router.route("DELETE", "/v1/budgets/{id}", roles=ADMIN, summary="delete")(_ok)
    return RouteTable([router])


def test_static_route_wins_over_parameter() -> None:
    found = build().match("GET", "/v1/budgets/status")
    assert isinstance(found, Match)
    assert found.route.summary == "all" and found.params == {}


def test_parameter_route_captures_one_segment() -> None:
    found = build().match("GET", "/v1/budgets/abc")
    assert isinstance(found, Match)
    assert found.params == {"id": "abc"}
    assert build().match("GET", "/v1/budgets/abc/def") is None


def test_greedy_path_parameter_keeps_slashes() -> None:
    found = build().match("GET", "/v1/pricing/openrouter/anthropic/claude-3.5-sonnet")
    assert isinstance(found, Match)
    assert found.params == {"provider": "openrouter", "model": "anthropic/claude-3.5-sonnet"}


def test_wrong_method_reports_allowed_methods() -> None:
    assert build().match("POST", "/v1/budgets/abc") == ("GET", "DELETE")


def test_the_static_lookup_answers_as_the_full_scan_would() -> None:
    table = build()
    # A static path with another method still falls through to the parameter routes (and the 405 list)
    deleted = table.match("DELETE", "/v1/budgets/status")
    assert isinstance(deleted, Match)
    assert (deleted.route.summary, deleted.params) == ("delete", {"id": "status"})
    assert table.match("POST", "/v1/budgets/status") == ("GET", "GET", "DELETE")
    # And a path the dict does not hold verbatim is matched by the patterns as before
    assert table.match("GET", "/v1/budgets/status/") is None
