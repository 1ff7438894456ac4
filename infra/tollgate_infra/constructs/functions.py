"""Functions: `TollgateFunction` builds any of the eight Lambdas from its `FunctionSpec`.

Every function gets the same runtime (Python 3.12, ARM64), layers, VPC placement (private subnets with
egress), environment and database access; the spec decides memory, timeout, reserved concurrency and the
few extra permissions (KMS use, the alert queue, the root key, SES).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from tollgate_infra.config import StageConfig
from tollgate_infra.constructs.data import Database
from tollgate_infra.constructs.layers import ARCHITECTURE, RUNTIME, Layers
from tollgate_infra.constructs.messaging import AlertQueue
from tollgate_infra.constructs.network import FUNCTION_SUBNETS
from tollgate_infra.constructs.security import ProviderKeyEncryption, RootKeySecret
from tollgate_infra.function_specs import (
    DEADLINE_MARGIN_SECONDS,
    EXECUTE,
    RESERVATION_TTL_SECONDS,
    FunctionSpec,
    QueueUse,
)
from tollgate_infra.log_groups import stage_log_group

HANDLER = "handler.handler"
# Streaming functions: the Lambda Web Adapter (AWS-published layer, account 753240598075) wraps the runtime
# (/opt/bootstrap) and proxies each invocation to the ASGI app that run.sh starts on 127.0.0.1:PORT.
LWA_HANDLER = "run.sh"
LWA_ACCOUNT = "753240598075"
LWA_PORT = "8080"
LIVE_ALIAS = "live"
ALERT_BATCH_SIZE = 10
ALERT_MAX_CONCURRENCY = 5  # at most this many alert_delivery instances drain the queue at once
CODE_EXCLUDES = ["__pycache__", "*.pyc", "tests", ".pytest_cache"]


@dataclass(frozen=True)
class FunctionPlatform:
    """What every Tollgate function is wired to."""

    config: StageConfig
    vpc: ec2.IVpc
    security_group: ec2.ISecurityGroup
    layers: Layers
    database: Database
    provider_keys: ProviderKeyEncryption
    alerts: AlertQueue
    root_key: RootKeySecret

    def environment(self) -> dict[str, str]:
        """TOLLGATE_* settings (pydantic-settings) and Powertools settings, the same for every function.

        Every function sees the same settings so `Settings` validates identically everywhere; IAM, not the
        environment, decides what each function may actually read or decrypt.
        """
        config = self.config
        environment = {
            "TOLLGATE_STAGE": config.stage,
            "TOLLGATE_DATABASE_SECRET_ARN": self.database.secret.secret_arn,
            "TOLLGATE_DATABASE_HOST": self.database.proxy_endpoint,
            "TOLLGATE_DATABASE_NAME": self.database.database_name,
            "TOLLGATE_KEY_BACKEND": "kms",
            "TOLLGATE_KMS_KEY_ARN": self.provider_keys.key.key_arn,
            "TOLLGATE_ALERT_BACKEND": "sqs",
            "TOLLGATE_ALERT_QUEUE_URL": self.alerts.queue.queue_url,
            "TOLLGATE_ROOT_KEY_SECRET_ARN": self.root_key.secret.secret_arn,
            "TOLLGATE_PRICING_LITELLM_URL": config.pricing_litellm_url,
            "TOLLGATE_PRICING_OPENROUTER_URL": config.pricing_openrouter_url,
            "TOLLGATE_PRICING_STALE_AFTER_S": str(config.pricing_stale_after_seconds),
            "POWERTOOLS_SERVICE_NAME": "tollgate",
            "POWERTOOLS_LOG_LEVEL": config.log_level,
            "POWERTOOLS_METRICS_NAMESPACE": "Tollgate",
            # RDS Proxy pooling: one connection per container (one request at a time), no overflow, a short
            # borrow timeout, and no server-side prepared statements (they pin the proxy session).
            "TOLLGATE_DB_POOL_SIZE": "1",
            "TOLLGATE_DB_MAX_OVERFLOW": "0",
            "TOLLGATE_DB_POOL_TIMEOUT_S": "10",
            "TOLLGATE_DB_SERVER_PREPARE": "false",
            "TOLLGATE_SECRET_MAX_AGE_S": "300",
            # Every call ends (deadline) before its reservation expires; the sweeper settles what is left.
            "TOLLGATE_RESERVATION_TTL_S": str(RESERVATION_TTL_SECONDS),
            "TOLLGATE_CALL_DEADLINE_S": str(EXECUTE.timeout_seconds - DEADLINE_MARGIN_SECONDS),
            "TOLLGATE_DEADLINE_MARGIN_S": str(DEADLINE_MARGIN_SECONDS),
        }
        if config.ses_from_address:
            environment["TOLLGATE_SES_FROM_ADDRESS"] = config.ses_from_address
        return environment


class TollgateFunction(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, spec: FunctionSpec, platform: FunctionPlatform) -> None:
        super().__init__(scope, construct_id)
        config = platform.config
        self.spec = spec
        reserved = spec.reserved_concurrency if config.reserve_concurrency else None
        environment = platform.environment()
        layers = list(platform.layers.all)
        handler = HANDLER
        if spec.streams:
            handler = LWA_HANDLER
            layers.append(lwa_layer(self, config))
            environment.update(lwa_environment())
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=f"tollgate-{config.stage}-{spec.name.replace('_', '-')}",
            description=f"Tollgate {spec.name}: {spec.description}",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=lambda_.Code.from_asset(str(config.source_root / "functions" / spec.name), exclude=CODE_EXCLUDES),
            layers=layers,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            reserved_concurrent_executions=reserved,
            environment=environment,
            vpc=platform.vpc,
            vpc_subnets=FUNCTION_SUBNETS,
            security_groups=[platform.security_group],
            tracing=lambda_.Tracing.ACTIVE,
            log_group=stage_log_group(self, "Logs", config),
        )
        self.role: iam.IRole = self.function.role  # type: ignore[assignment]  # always set: CDK creates one
        self._grant_permissions(platform)
        # What API Gateway invokes: the published version behind the `live` alias for streaming functions
        # (provisioned concurrency attaches to it), the unpublished function for the others.
        self.target: lambda_.IFunction = self.function
        if spec.streams:
            provisioned = config.execute_provisioned_concurrency or None
            self.alias = lambda_.Alias(
                self,
                "Live",
                alias_name=LIVE_ALIAS,
                version=self.function.current_version,
                provisioned_concurrent_executions=provisioned,
            )
            self.target = self.alias

    def _grant_permissions(self, platform: FunctionPlatform) -> None:
        spec, fn = self.spec, self.function
        platform.database.secret.grant_read(fn)
        if spec.reads_root_key:
            platform.root_key.secret.grant_read(fn)
        platform.provider_keys.allow_key_use(self.role, spec.key_use, spec.construct_id)
        if spec.queue_use is QueueUse.SEND:
            platform.alerts.queue.grant_send_messages(fn)
        elif spec.queue_use is QueueUse.CONSUME:
            fn.add_event_source(
                event_sources.SqsEventSource(
                    platform.alerts.queue,
                    batch_size=ALERT_BATCH_SIZE,
                    report_batch_item_failures=True,
                    max_concurrency=ALERT_MAX_CONCURRENCY,
                )
            )
        sender = platform.config.ses_from_address
        if spec.sends_email and sender:
            fn.add_to_role_policy(ses_send_statement(self, sender))


def lwa_layer(scope: Construct, config: StageConfig) -> lambda_.ILayerVersion:
    """The AWS Lambda Web Adapter layer for this region and the functions' architecture."""
    stack = Stack.of(scope)
    name = (
        "LambdaAdapterLayerArm64" if ARCHITECTURE.name == lambda_.Architecture.ARM_64.name else "LambdaAdapterLayerX86"
    )
    arn = f"arn:{stack.partition}:lambda:{stack.region}:{LWA_ACCOUNT}:layer:{name}:{config.lwa_layer_version}"
    return lambda_.LayerVersion.from_layer_version_arn(scope, "WebAdapter", arn)


def lwa_environment() -> dict[str, str]:
    """The adapter streams the app's response (chunk by chunk) instead of buffering it."""
    return {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
        "AWS_LWA_INVOKE_MODE": "response_stream",
        "AWS_LWA_PORT": LWA_PORT,
        "PORT": LWA_PORT,
        "AWS_LWA_READINESS_CHECK_PATH": "/health",
    }


def ses_send_statement(scope: Construct, sender: str) -> iam.PolicyStatement:
    """SES send, limited to the configured sender (verified as an address or as its domain)."""
    stack = Stack.of(scope)
    domain = sender.rsplit("@", 1)[1]
    return iam.PolicyStatement(
        actions=["ses:SendEmail", "ses:SendRawEmail"],
        resources=[
            stack.format_arn(service="ses", resource="identity", resource_name=identity)
            for identity in (sender, domain)
        ],
        conditions={"StringEquals": {"ses:FromAddress": sender}},
    )
