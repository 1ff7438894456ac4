"""`TollgateStack`: one stack per stage, composed of one construct per concern.

One stack, not one per concern: the KMS key policy names the function roles while the roles' policies name
the key, the functions need the proxy, queue and secrets, and the migration must run between the database and
the functions. Across stacks that becomes a web of exports that blocks replacements; inside one stack
CloudFormation orders it all.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Environment, RemovalPolicy, Stack, Tags
from constructs import Construct

from tollgate_infra import function_specs as specs
from tollgate_infra.config import StageConfig
from tollgate_infra.constructs.api import HttpApi
from tollgate_infra.constructs.dashboard_site import DashboardSite
from tollgate_infra.constructs.data import Database
from tollgate_infra.constructs.functions import FunctionPlatform, TollgateFunction
from tollgate_infra.constructs.layers import Layers
from tollgate_infra.constructs.messaging import AlertQueue
from tollgate_infra.constructs.migrations import Migrations
from tollgate_infra.constructs.network import Network
from tollgate_infra.constructs.observability import Alarms
from tollgate_infra.constructs.scheduling import Schedules
from tollgate_infra.constructs.security import ProviderKeyEncryption, RootKeySecret
from tollgate_infra.constructs.streaming_api import StreamingApi
from tollgate_infra.nag import NagTargets, suppress_findings
from tollgate_infra.routes import STREAMING_ROUTES


class TollgateStack(Stack):
    def __init__(self, scope: Construct, config: StageConfig) -> None:
        env = Environment(account=config.account, region=config.region) if config.account or config.region else None
        super().__init__(
            scope, config.stack_name, env=env, description=f"Tollgate AI gateway with cost control ({config.stage})"
        )
        self.config = config
        for key, value in {"project": "tollgate", "stage": config.stage, **config.tags}.items():
            # DBProxyTargetGroup takes no Tags in CloudFormation (CDK tags it anyway and the deploy fails).
            Tags.of(self).add(key, value, exclude_resource_types=["AWS::RDS::DBProxyTargetGroup"])

        network = Network(self, "Network", config=config)
        database = Database(
            self, "Data", config=config, vpc=network.vpc, client_security_group=network.function_security_group
        )
        provider_keys = ProviderKeyEncryption(self, "ProviderKeys", config=config)
        root_key = RootKeySecret(self, "RootKey", config=config)
        alerts = AlertQueue(
            self, "Alerts", config=config, consumer_timeout=Duration.seconds(specs.ALERT_DELIVERY.timeout_seconds)
        )
        layers = Layers(self, "Layers", config=config)
        platform = FunctionPlatform(
            config=config,
            vpc=network.vpc,
            security_group=network.function_security_group,
            layers=layers,
            database=database,
            provider_keys=provider_keys,
            alerts=alerts,
            root_key=root_key,
        )
        self.functions = {
            spec.name: TollgateFunction(self, spec.construct_id, spec=spec, platform=platform)
            for spec in specs.ALL_FUNCTIONS
        }
        lambdas = {name: built.function for name, built in self.functions.items()}

        migrations = Migrations(self, "Migrations", platform=platform, migrate=lambdas[specs.MIGRATE.name])
        for name, function in lambdas.items():
            if name != specs.MIGRATE.name:
                # New code goes live on the migrated schema. Only the CfnFunction waits: its role must not, as
                # the KMS key policy (which migrate's environment references) names the roles.
                function.node.default_child.node.add_dependency(migrations.resource)  # type: ignore[union-attr]

        api = HttpApi(self, "Api", config=config, functions=lambdas)
        execute = self.functions[specs.EXECUTE.name]
        streaming = StreamingApi(
            self,
            "ExecuteApi",
            config=config,
            target=execute.target,
            routes=[route for routes in STREAMING_ROUTES.values() for route in routes],
        )
        dashboard = self._dashboard(config, api) if config.dashboard else None
        Schedules(
            self, "Schedules", config=config, pricing_updater=lambdas["pricing_updater"], sweeper=lambdas["sweeper"]
        )
        alarms = Alarms(self, "Observability", config=config)
        alarms.watch_dead_letter_queue(alerts.dead_letter_queue)
        alarms.watch_api(api.api)
        alarms.watch_rest_api(streaming.api)
        alarms.watch_pricing_age()
        alarms.watch_sweeper()
        alarms.watch_functions(lambdas)
        # Operators' events (e.g. a rejected price feed) go to the operators' topic, never the tenants' queue.
        publisher = lambdas[specs.PRICING_UPDATER.name]
        alarms.topic.grant_publish(publisher)
        publisher.add_environment("TOLLGATE_OPERATOR_TOPIC_ARN", alarms.topic.topic_arn)

        CfnOutput(
            self, "ExecuteApiUrl", value=streaming.url, description="Model calls: point OpenAI clients at <url>v1"
        )
        CfnOutput(self, "ApiUrl", value=api.url, description="Management API (keys, budgets, usage, pricing)")
        if dashboard:
            CfnOutput(self, "DashboardUrl", value=dashboard.url, description="Dashboard: sign in with an admin key")
        CfnOutput(self, "RootKeySecretName", value=root_key.secret_name, description="Root key secret")
        CfnOutput(self, "RootKeySecretArn", value=root_key.secret.secret_arn)
        CfnOutput(self, "DatabaseProxyEndpoint", value=database.proxy_endpoint)
        CfnOutput(self, "AlertDeadLetterQueueUrl", value=alerts.dead_letter_queue.queue_url)
        CfnOutput(self, "AlarmTopicArn", value=alarms.topic.topic_arn)
        suppress_findings(
            self,
            config,
            NagTargets(
                api=api,
                streaming_api=streaming,
                database_instance=database.instance,
                database_secret=database.credentials_secret,
                root_key_secret=root_key.secret,
                function_policies=[built.role.node.find_child("DefaultPolicy") for built in self.functions.values()],
                migration_provider=migrations,
                dashboard=dashboard,
            ),
        )

    def _dashboard(self, config: StageConfig, api: HttpApi) -> DashboardSite:
        """The dashboard on S3 + CloudFront, and the API's CORS opened to exactly its origin.

        Dependencies stay one-way: the API's CORS configuration references the distribution's domain, so the
        distribution must not reference the API. Its CSP therefore allows API Gateway origins of this region
        (`connect_src`, no API token) and the API URL reaches the page only through `config.json`, which the
        deployment custom resource writes at deploy time (it alone depends on both API and distribution).
        """
        site = DashboardSite(
            self,
            "Dashboard",
            site_dir=str(config.source_root / "shared" / "tollgate" / "ui" / "static"),
            api_url=api.url,
            connect_src=f"https://*.execute-api.{self.region}.{self.url_suffix}",
            removal_policy=RemovalPolicy.RETAIN if config.retain_data_on_delete else RemovalPolicy.DESTROY,
        )
        api.allow_browser_origins([site.origin])
        return site
