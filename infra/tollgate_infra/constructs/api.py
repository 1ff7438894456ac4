"""API: one HTTP API (payload format 2.0) whose routes (tollgate_infra.routes) proxy to the API functions,
with stage-level throttling and JSON access logs.

There is no API Gateway authorizer: the functions authenticate every request themselves with gateway keys
(`Authorization: Bearer tg_...` or `x-api-key`), the same code the local server runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from tollgate_infra.config import StageConfig
from tollgate_infra.log_groups import stage_log_group
from tollgate_infra.routes import ROUTES_BY_FUNCTION

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
        for function_name, routes in ROUTES_BY_FUNCTION.items():
            integration = integrations.HttpLambdaIntegration(
                f"{function_name}Integration",
                functions[function_name],
                payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
            )
            for route in routes:
                self.api.add_routes(
                    path=route.path, methods=[apigwv2.HttpMethod(route.method)], integration=integration
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
