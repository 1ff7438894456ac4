"""API: one HTTP API (payload format 2.0) whose routes (tollgate_infra.routes, generated from the code's
routers) proxy to the management functions, with stage-level throttling and JSON access logs. Model calls
(the execute function) are on the streaming REST API (constructs/streaming_api.py).

There is no API Gateway authorizer: the functions authenticate every request themselves with gateway keys
(`Authorization: Bearer tg_...` or `x-api-key`), the same code the local server runs.

CORS is off unless `allow_browser_origins` names origins (the app stack passes the dashboard's CloudFront
origin). API Gateway then answers preflight requests itself and adds the CORS headers to every response.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from tollgate_infra.config import StageConfig
from tollgate_infra.log_groups import stage_log_group
from tollgate_infra.routes import HTTP_API_ROUTES

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
    "errorMessage": "$context.error.message",
    "userAgent": "$context.identity.userAgent",
}

CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
CORS_ALLOW_HEADERS = ("authorization", "content-type", "x-api-key")
# Response headers a browser script may read: every x-tollgate-* header the API sets (shared/tollgate/api and
# execution; tests/infra/test_dashboard_wiring.py keeps this list complete) plus the request id. CORS has no
# prefix wildcard, so they are listed one by one.
CORS_EXPOSE_HEADERS = (
    "x-request-id",
    "request-id",  # Anthropic's spelling, on /v1/messages
    "x-tollgate-budget-remaining-usd",
    "x-tollgate-cost-usd",
    "x-tollgate-downgraded-to",
    "x-tollgate-export-truncated",
    "x-tollgate-fallback",
    "x-tollgate-guardrail",
    "x-tollgate-model",
    "x-tollgate-next-cursor",
    "x-tollgate-provider",
    "x-tollgate-token-count",
)
CORS_MAX_AGE_SECONDS = 3600


class HttpApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: Mapping[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=f"tollgate-{config.stage}",
            description="Tollgate AI gateway (OpenAI-compatible) with cost control",
            create_default_stage=False,
        )
        self.access_logs = stage_log_group(self, "AccessLogs", config)
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.api_throttle_rate, burst_limit=config.api_throttle_burst
            ),
            access_log_settings=JsonAccessLogs(self.access_logs),
        )
        for function_name, routes in HTTP_API_ROUTES.items():
            integration = integrations.HttpLambdaIntegration(
                f"{function_name}Integration",
                functions[function_name],
                payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
            )
            for route in routes:
                self.api.add_routes(
                    path=route.path, methods=[apigwv2.HttpMethod(route.method)], integration=integration
                )

    def allow_browser_origins(self, origins: Sequence[str]) -> None:
        """Let pages served from `origins` (e.g. "https://d123.cloudfront.net") call the API.

        Set on the CfnApi rather than through `HttpApiProps.cors_preflight` so the API can be built before the
        site whose origin it allows (the site needs the API's URL). Credentials are never allowed: the
        dashboard sends its key in the Authorization header, not in cookies.
        """
        cfn_api: apigwv2.CfnApi = self.api.node.default_child  # type: ignore[assignment]
        cfn_api.cors_configuration = apigwv2.CfnApi.CorsProperty(
            allow_origins=list(origins),
            allow_methods=list(CORS_METHODS),
            allow_headers=list(CORS_ALLOW_HEADERS),
            expose_headers=list(CORS_EXPOSE_HEADERS),
            max_age=CORS_MAX_AGE_SECONDS,
            allow_credentials=False,
        )

    @property
    def url(self) -> str:
        return self.stage.url


@jsii.implements(apigwv2.IAccessLogSettings)
class JsonAccessLogs:
    """One JSON object per request in `log_group` (ACCESS_LOG_FIELDS)."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))
