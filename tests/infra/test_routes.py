"""The deployed routes are generated from the code's routers: every route the code serves on AWS reaches
the function that owns it (execute's on the streaming REST API, the rest on the HTTP API), and nothing else
is routed. `routes.json` (what infra reads) must equal the table built from the routers."""

from __future__ import annotations

from typing import Any

import pytest

from tollgate.api.route_table import route_table, route_table_json
from tollgate_infra.routes import ROUTES_JSON, STREAMING_FUNCTIONS

CODE_ROUTES = route_table()
HTTP_API = {r.key: r.function for r in CODE_ROUTES if r.function not in STREAMING_FUNCTIONS}
STREAMED = {r.key: r.function for r in CODE_ROUTES if r.function in STREAMING_FUNCTIONS}


def routed_function_ids(stack: Any) -> dict[str, str]:
    """HTTP API route key -> logical id of the Lambda function its integration invokes."""
    integrations = stack.of_type("AWS::ApiGatewayV2::Integration")
    routes = {}
    for route in stack.of_type("AWS::ApiGatewayV2::Route").values():
        integration_id = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        uri = integrations[integration_id]["Properties"]["IntegrationUri"]
        routes[route["Properties"]["RouteKey"]] = uri["Fn::GetAtt"][0]
    return routes


def rest_route_keys(stack: Any) -> set[str]:
    """REST API method -> "METHOD /full/path" (resources resolved through their parents)."""
    resources = stack.of_type("AWS::ApiGateway::Resource")

    def path_of(ref: dict[str, Any]) -> str:
        if "Fn::GetAtt" in ref:  # the API's root resource
            return ""
        resource = resources[ref["Ref"]]["Properties"]
        return f"{path_of(resource['ParentId'])}/{resource['PathPart']}"

    return {
        f"{m['Properties']['HttpMethod']} {path_of(m['Properties']['ResourceId'])}"
        for m in stack.of_type("AWS::ApiGateway::Method").values()
    }


def test_routes_json_is_generated_from_the_routers() -> None:
    assert ROUTES_JSON.read_text() == route_table_json(), (
        "infra/tollgate_infra/routes.json is stale: run "
        "`python -m tollgate.api.route_table > infra/tollgate_infra/routes.json`"
    )


def test_the_known_drift_is_gone() -> None:
    assert "GET /v1/usage/executions" in HTTP_API


def test_every_route_the_code_serves_is_deployed_and_nothing_else(dev: Any) -> None:
    assert sorted(routed_function_ids(dev)) == sorted(HTTP_API)
    assert rest_route_keys(dev) == set(STREAMED)


@pytest.mark.parametrize("route_key", sorted(HTTP_API))
def test_route_reaches_its_function(dev: Any, route_key: str) -> None:
    assert routed_function_ids(dev)[route_key] == dev.function_id(HTTP_API[route_key])


def test_model_calls_are_on_the_streaming_api_not_the_http_api(dev: Any) -> None:
    assert "POST /v1/chat/completions" in STREAMED
    assert "POST /v1/chat/completions" not in routed_function_ids(dev)


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
    methods = dev.of_type("AWS::ApiGateway::Method").values()
    assert {m["Properties"]["AuthorizationType"] for m in methods} == {"NONE"}


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
