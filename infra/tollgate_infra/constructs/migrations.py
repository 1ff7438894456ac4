"""Migrations: a CloudFormation custom resource that runs Alembic (`upgrade head`) through the migrate
function on every deploy, before the other functions are updated.

The resource uses the CDK provider framework with migrate as its `on_event` handler. The framework sends the
CloudFormation response, so migrate only returns (success) or raises (the deploy fails and rolls back); it
gets the plain Create/Update/Delete event and may run for its whole timeout. (An `AwsCustomResource` calling
lambda:Invoke would report success even when the migration raised, unless it parsed the payload itself.)

"Every deploy": the resource carries a `DeployNonce` that changes on every synth, so CloudFormation sends an
Update each time. `-c tollgate:migrationNonce=<value>` pins it (tests, or to make `cdk diff` quiet).
"""

from __future__ import annotations

from datetime import UTC, datetime

from aws_cdk import CustomResource
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr
from constructs import Construct

from tollgate_infra.constructs.functions import FunctionPlatform
from tollgate_infra.log_groups import stage_log_group


class Migrations(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        platform: FunctionPlatform,
        migrate: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        config, layers = platform.config, platform.layers
        provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=migrate,
            log_group=stage_log_group(self, "ProviderLogs", config),
        )
        self.resource = CustomResource(
            self,
            "Run",
            service_token=provider.service_token,
            resource_type="Custom::TollgateMigrations",
            properties={
                "DeployNonce": config.migration_nonce or datetime.now(UTC).isoformat(timespec="seconds"),
                "PackageLayer": layers.package.layer_version_arn,
                "RuntimeLayer": layers.runtime.layer_version_arn,
            },
        )
        # The proxy endpoint in migrate's environment is not enough: the proxy must also have its target.
        self.resource.node.add_dependency(platform.database)
