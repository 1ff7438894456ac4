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
from tollgate_infra.function_specs import FunctionSpec, QueueUse
from tollgate_infra.log_groups import stage_log_group

HANDLER = "handler.handler"
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
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=f"tollgate-{config.stage}-{spec.name.replace('_', '-')}",
            description=f"Tollgate {spec.name}: {spec.description}",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(config.source_root / "functions" / spec.name), exclude=CODE_EXCLUDES),
            layers=platform.layers.all,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            reserved_concurrent_executions=reserved,
            environment=platform.environment(),
            vpc=platform.vpc,
            vpc_subnets=FUNCTION_SUBNETS,
            security_groups=[platform.security_group],
            tracing=lambda_.Tracing.ACTIVE,
            log_group=stage_log_group(self, "Logs", config),
        )
        self.role: iam.IRole = self.function.role  # type: ignore[assignment]  # always set: CDK creates one
        self._grant_permissions(platform)

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
