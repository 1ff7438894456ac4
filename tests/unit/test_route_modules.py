"""Each Lambda imports only its own route modules, and together they serve every route exactly once."""

from __future__ import annotations

from tollgate.api.routes import all_routers, functions, routers_for


def test_every_route_is_served_by_exactly_one_function() -> None:
    everything = {(r.method, r.path) for router in all_routers() for r in router.routes}
    by_function = [(r.method, r.path) for f in functions() for router in routers_for(f) for r in router.routes]
    assert sorted(by_function) == sorted(everything)
    assert len(by_function) == len(set(by_function))


def test_execute_serves_the_model_apis_models_estimate_rules_and_guardrails() -> None:
    paths = {(r.method, r.path) for router in routers_for("execute") for r in router.routes}
    assert paths == {
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/messages"),
        ("POST", "/v1/messages/count_tokens"),
        ("POST", "/v1/embeddings"),
        ("GET", "/v1/models"),
        ("POST", "/v1/cost/estimate"),
        ("POST", "/v1/routing-rules"),
        ("GET", "/v1/routing-rules"),
        ("POST", "/v1/routing-rules/explain"),
        ("GET", "/v1/routing-rules/{id}"),
        ("PUT", "/v1/routing-rules/{id}"),
        ("DELETE", "/v1/routing-rules/{id}"),
        ("GET", "/v1/guardrails"),
        ("PUT", "/v1/guardrails"),
        ("GET", "/v1/security-events"),
    }
