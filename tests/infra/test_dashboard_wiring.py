"""The dashboard in the app stack: S3 + CloudFront (OAC) per stage, the API's CORS for exactly that origin,
the `DashboardUrl` output, and no dependency cycle between the API and the distribution.

`tollgate:dashboard=false` (nothing of it created) is checked on the override synth in test_config.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tests.infra.conftest import REPO_ROOT

PUBLIC_ACCESS_BLOCKED = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}


def only(resources: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    assert len(resources) == 1, list(resources)
    (item,) = resources.items()
    return item


def distribution_origin(stack: Any) -> dict[str, Any]:
    """`https://<distribution domain>` as the template spells it."""
    distribution_id, _ = only(stack.of_type("AWS::CloudFront::Distribution"))
    return {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]}


def test_distribution_serves_the_bucket_through_origin_access_control(any_stage: Any) -> None:
    _, distribution = only(any_stage.of_type("AWS::CloudFront::Distribution"))
    oac_id, oac = only(any_stage.of_type("AWS::CloudFront::OriginAccessControl"))
    config = distribution["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not the legacy OAI
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    bucket_id = origin["DomainName"]["Fn::GetAtt"][0]
    assert any_stage.resources[bucket_id]["Type"] == "AWS::S3::Bucket"


def dashboard_bucket(stack: Any) -> tuple[str, dict[str, Any]]:
    _, distribution = only(stack.of_type("AWS::CloudFront::Distribution"))
    bucket_id = distribution["Properties"]["DistributionConfig"]["Origins"][0]["DomainName"]["Fn::GetAtt"][0]
    return bucket_id, stack.resources[bucket_id]


def test_bucket_blocks_public_access_and_non_tls_requests(any_stage: Any) -> None:
    bucket_id, bucket = dashboard_bucket(any_stage)
    assert bucket["Properties"]["PublicAccessBlockConfiguration"] == PUBLIC_ACCESS_BLOCKED
    _, policy = only(
        {
            k: p
            for k, p in any_stage.of_type("AWS::S3::BucketPolicy").items()
            if p["Properties"]["Bucket"] == {"Ref": bucket_id}
        }
    )
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    tls_only = {"Bool": {"aws:SecureTransport": "false"}}
    assert any(s["Effect"] == "Deny" and s["Condition"] == tls_only for s in statements)
    allows = [s for s in statements if s["Effect"] == "Allow"]
    cloudfront = [s for s in allows if s["Principal"] == {"Service": "cloudfront.amazonaws.com"}]
    assert cloudfront and all("AWS:SourceArn" in s["Condition"]["StringEquals"] for s in cloudfront)
    # Besides CloudFront only dev's auto-delete custom resource role (an ARN) is allowed; never everyone.
    assert all(s["Principal"] not in ("*", {"AWS": "*"}) for s in allows)


def test_bucket_outlives_the_stack_only_where_data_is_retained(dev: Any, prod: Any) -> None:
    assert dashboard_bucket(dev)[1]["DeletionPolicy"] == "Delete"
    assert dashboard_bucket(prod)[1]["DeletionPolicy"] == "Retain"


def test_api_cors_allows_exactly_the_distribution_origin(any_stage: Any) -> None:
    _, api = only(any_stage.of_type("AWS::ApiGatewayV2::Api"))
    cors = api["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == [distribution_origin(any_stage)]
    assert set(cors["AllowMethods"]) == {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    assert {h.lower() for h in cors["AllowHeaders"]} == {"authorization", "content-type", "x-api-key"}
    assert cors["AllowCredentials"] is False


def response_headers_set_by_the_api() -> set[str]:
    """Every `x-tollgate-*` name in the API and execution code, minus the request headers it reads."""
    found: set[str] = set()
    for folder in ("api", "execution"):
        for path in (REPO_ROOT / "shared" / "tollgate" / folder).rglob("*.py"):
            found |= set(re.findall(r"x-tollgate-[a-z0-9-]+", path.read_text().lower()))
    request_headers = {"x-tollgate-workflow", "x-tollgate-agent", "x-tollgate-tags", "x-tollgate-user"}
    return found - request_headers


def test_api_cors_exposes_the_request_id_and_every_tollgate_response_header(any_stage: Any) -> None:
    _, api = only(any_stage.of_type("AWS::ApiGatewayV2::Api"))
    exposed = {h.lower() for h in api["Properties"]["CorsConfiguration"]["ExposeHeaders"]}
    wanted = response_headers_set_by_the_api()
    assert {"x-tollgate-cost-usd", "x-tollgate-next-cursor"} <= wanted  # the scan sees the source
    assert exposed >= wanted | {"x-request-id"}, sorted(wanted - exposed)


def test_dashboard_url_output(any_stage: Any) -> None:
    outputs = any_stage.template.to_json()["Outputs"]
    join = distribution_origin(any_stage)["Fn::Join"]
    assert outputs["DashboardUrl"]["Value"] == {"Fn::Join": ["", [*join[1], "/"]]}


def references(value: Any) -> Iterator[str]:
    """Logical ids a template fragment points at (Ref, Fn::GetAtt, ${...} in Fn::Sub)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::GetAtt":
                yield inner[0] if isinstance(inner, list) else inner.split(".")[0]
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                yield from (name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text))
                if isinstance(inner, list):
                    yield from references(inner[1])
            else:
                yield from references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from references(inner)


def dependency_graph(stack: Any) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for logical_id, resource in stack.resources.items():
        depends_on = resource.get("DependsOn", [])
        targets = set(references(resource.get("Properties", {}))) | set(
            [depends_on] if isinstance(depends_on, str) else depends_on
        )
        graph[logical_id] = {t for t in targets if t in stack.resources}
    return graph


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_the_distribution_does_not_depend_on_the_api(any_stage: Any) -> None:
    # The API's CORS names the distribution; a path back from the distribution would be a cycle.
    graph = dependency_graph(any_stage)
    api_id, _ = only(any_stage.of_type("AWS::ApiGatewayV2::Api"))
    distribution_id, _ = only(any_stage.of_type("AWS::CloudFront::Distribution"))
    assert distribution_id in reachable(graph, api_id)
    assert api_id not in reachable(graph, distribution_id)
    cycles = [logical_id for logical_id in graph if logical_id in reachable(graph, logical_id)]
    assert cycles == []


def test_config_json_carries_the_api_url_at_deploy_time(any_stage: Any) -> None:
    _, deployment = only(any_stage.of_type("Custom::CDKBucketDeployment"))
    props = deployment["Properties"]
    assert len(props["SourceObjectKeys"]) == 2  # the static folder and the generated config.json
    api_id, _ = only(any_stage.of_type("AWS::ApiGatewayV2::Api"))
    assert api_id in set(references(props.get("SourceMarkers", []))), "config.json's api_url must be the API"
    distribution_id, _ = only(any_stage.of_type("AWS::CloudFront::Distribution"))
    assert props["DistributionId"] == {"Ref": distribution_id}
    assert props["DistributionPaths"] == ["/*"]


def test_csp_allows_api_gateway_in_the_stack_region_without_naming_the_api(any_stage: Any) -> None:
    _, policy = only(any_stage.of_type("AWS::CloudFront::ResponseHeadersPolicy"))
    csp = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    text = str(csp["ContentSecurityPolicy"])
    assert "connect-src 'self' https://*.execute-api." in text
    assert "AWS::Region" in text and "'unsafe-inline'" not in text
