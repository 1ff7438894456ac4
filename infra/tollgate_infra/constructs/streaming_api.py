"""Streaming API: a regional REST API whose routes (the `execute` function's, generated from the code's
routers) invoke the execute `live` alias with response streaming (`ResponseTransferMode.STREAM`).

Why a REST API and not a Lambda function URL: function URLs do not stream responses for functions attached
to a VPC, and execute must be in the VPC to reach RDS Proxy. A REST API proxy integration in STREAM mode
invokes the function with InvokeWithResponseStream, which works for VPC functions, and may run up to 15
minutes (the HTTP API cuts every integration at 30 s). Management routes stay on the HTTP API.

No API Gateway authorizer: the function authenticates gateway keys itself, like every other route.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from tollgate_infra.config import StageConfig
from tollgate_infra.log_groups import stage_log_group
from tollgate_infra.routes import Route

STREAM_TIMEOUT = Duration.minutes(15)
STAGE_NAME = "api"


class StreamingApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        target: lambda_.IFunction,
        routes: Iterable[Route],
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = stage_log_group(self, "AccessLogs", config)
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"tollgate-{config.stage}-execute",
            description="Tollgate model calls (OpenAI-compatible), streamed for up to 15 minutes",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                throttling_rate_limit=config.api_throttle_rate,
                throttling_burst_limit=config.api_throttle_burst,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                metrics_enabled=True,
                tracing_enabled=True,
            ),
            cloud_watch_role=True,
            disable_execute_api_endpoint=False,
        )
        integration = apigw.LambdaIntegration(
            target,
            proxy=True,
            response_transfer_mode=apigw.ResponseTransferMode.STREAM,
            timeout=STREAM_TIMEOUT,
        )
        self.route_keys: list[str] = []
        for route in routes:
            resource = self.api.root.resource_for_path(route.path)
            resource.add_method(route.method, integration, authorization_type=apigw.AuthorizationType.NONE)
            self.route_keys.append(route.key)

    @property
    def url(self) -> str:
        """Base URL of the stage: point OpenAI clients at `<url>v1`."""
        return self.api.url
