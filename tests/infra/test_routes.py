"""Every route of DESIGN.md section 3 reaches the function that owns it, and nothing else is routed."""

from __future__ import annotations

from typing import Any

import pytest

EXPECTED_ROUTES = {
    "execute": [
        "POST /v1/chat/completions", "POST /v1/messages", "POST /v1/messages/count_tokens", "POST /v1/embeddings",
        "GET /v1/models", "POST /v1/cost/estimate",
    ],
    "keys": [
        "POST /v1/workspaces", "GET /v1/workspaces",
        "POST /v1/keys", "GET /v1/keys", "DELETE /v1/keys/{id}",
        "POST /v1/credentials", "GET /v1/credentials",
        "GET /v1/credentials/{id}", "PATCH /v1/credentials/{id}", "DELETE /v1/credentials/{id}",
        "POST /v1/credentials/test", "POST /v1/credentials/{id}/test", "POST /v1/credentials/{id}/rotate",
    ],
    "budgets": [
        "POST /v1/budgets", "GET /v1/budgets", "GET /v1/budgets/status",
        "GET /v1/budgets/{id}", "PUT /v1/budgets/{id}", "DELETE /v1/budgets/{id}",
        "POST /v1/budgets/{id}/reset", "GET /v1/budgets/{id}/status", "GET /v1/budgets/{id}/history",
        "POST /v1/alert-channels", "GET /v1/alert-channels", "DELETE /v1/alert-channels/{id}",
        "POST /v1/alert-channels/{id}/test",
    ],
    "usage": [
        "GET /v1/usage", "GET /v1/usage/summary", "GET /v1/usage/export",
        "GET /v1/pricing", "GET /v1/pricing/status",
        "GET /v1/pricing/{provider}/{model+}", "PUT /v1/pricing/{provider}/{model+}",
        "GET /health", "GET /openapi.json",
    ],
    "pricing_updater": ["POST /v1/pricing/refresh"],
}  # fmt: skip
ROUTE_TO_FUNCTION = {route: name for name, routes in EXPECTED_ROUTES.items() for route in routes}


def routed_function_ids(stack: Any) -> dict[str, str]:
    """route key -> logical id of the Lambda function its integration invokes."""
    integrations = stack.of_type("AWS::ApiGatewayV2::Integration")
    routes = {}
    for route in stack.of_type("AWS::ApiGatewayV2::Route").values():
        integration_id = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        uri = integrations[integration_id]["Properties"]["IntegrationUri"]
        routes[route["Properties"]["RouteKey"]] = uri["Fn::GetAtt"][0]
    return routes


def test_exactly_the_contract_routes_exist(dev: Any) -> None:
    assert sorted(routed_function_ids(dev)) == sorted(ROUTE_TO_FUNCTION)


@pytest.mark.parametrize("route_key", sorted(ROUTE_TO_FUNCTION))
def test_route_reaches_its_function(dev: Any, route_key: str) -> None:
    assert routed_function_ids(dev)[route_key] == dev.function_id(ROUTE_TO_FUNCTION[route_key])


def test_background_functions_have_no_routes(dev: Any) -> None:
    targets = set(routed_function_ids(dev).values())
    for name in ("alert_delivery", "sweeper", "migrate"):
        assert dev.function_id(name) not in targets


def test_integrations_use_payload_v2_and_lambda_proxy(dev: Any) -> None:
    integrations = dev.of_type("AWS::ApiGatewayV2::Integration").values()
    assert {i["Properties"]["PayloadFormatVersion"] for i in integrations} == {"2.0"}
    assert {i["Properties"]["IntegrationType"] for i in integrations} == {"AWS_PROXY"}


def test_routes_have_no_gateway_authorizer_because_functions_authenticate(dev: Any) -> None:
    routes = dev.of_type("AWS::ApiGatewayV2::Route").values()
    assert {r["Properties"].get("AuthorizationType", "NONE") for r in routes} == {"NONE"}
    assert not dev.of_type("AWS::ApiGatewayV2::Authorizer")


def test_model_ids_with_slashes_use_a_greedy_path_parameter(dev: Any) -> None:
    keys = routed_function_ids(dev)
    assert "GET /v1/pricing/{provider}/{model+}" in keys
    assert "GET /v1/pricing/{provider}/{model}" not in keys


def test_stage_throttles_and_writes_json_access_logs(any_stage: Any) -> None:
    (stage,) = any_stage.of_type("AWS::ApiGatewayV2::Stage").values()
    properties = stage["Properties"]
    config = any_stage.stack.config
    assert properties["StageName"] == "$default"
    assert properties["AutoDeploy"] is True
    assert properties["DefaultRouteSettings"]["ThrottlingRateLimit"] == config.api_throttle_rate
    assert properties["DefaultRouteSettings"]["ThrottlingBurstLimit"] == config.api_throttle_burst
    assert "$context.requestId" in properties["AccessLogSettings"]["Format"]
    assert "Fn::GetAtt" in properties["AccessLogSettings"]["DestinationArn"]


def test_prod_throttles_higher_than_dev(dev: Any, prod: Any) -> None:
    assert prod.stack.config.api_throttle_rate > dev.stack.config.api_throttle_rate
