"""Data: RDS PostgreSQL (encrypted, backed up, optionally Multi-AZ and deletion-protected) behind RDS Proxy.

Functions never see the instance: they connect to the proxy endpoint (TOLLGATE_DATABASE_HOST) with the
credentials in the generated Secrets Manager secret (TOLLGATE_DATABASE_SECRET_ARN), and only the proxy's
security group may reach the instance.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from tollgate_infra.config import StageConfig
from tollgate_infra.constructs.network import DATABASE_SUBNETS, FUNCTION_SUBNETS
from tollgate_infra.log_groups import stage_log_group

DATABASE_NAME = "tollgate"
DATABASE_USER = "tollgate"
POSTGRES_PORT = 5432


PROXY_MAX_CONNECTIONS_PERCENT = 90
PROXY_IDLE_CLIENT_TIMEOUT_MINUTES = 10
# PostgreSQL's default max_connections on RDS is LEAST(DBInstanceClassMemory / 9531392, 5000): about 190 on a
# db.t4g.small (2 GiB less what RDS reserves); 90 % of it for the proxy leaves ~170 for Tollgate's functions.
# docs/deploy.md has the arithmetic; tests/infra check the reserved concurrency fits.
PROXY_CONNECTIONS_BY_INSTANCE = {"t4g.micro": 75, "t4g.small": 170, "t4g.medium": 350}


class Database(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        vpc: ec2.IVpc,
        client_security_group: ec2.ISecurityGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        self.database_name = DATABASE_NAME
        self.instance_security_group = ec2.SecurityGroup(
            self,
            "InstanceSecurityGroup",
            vpc=vpc,
            description="Tollgate PostgreSQL: only RDS Proxy may connect",
            allow_all_outbound=False,
        )
        self.proxy_security_group = ec2.SecurityGroup(
            self,
            "ProxySecurityGroup",
            vpc=vpc,
            description="Tollgate RDS Proxy: only the functions may connect",
            allow_all_outbound=False,
        )
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16),
            instance_type=ec2.InstanceType(config.database_instance_type),
            vpc=vpc,
            vpc_subnets=DATABASE_SUBNETS,
            security_groups=[self.instance_security_group],
            database_name=DATABASE_NAME,
            credentials=rds.Credentials.from_generated_secret(
                DATABASE_USER, secret_name=f"tollgate/{config.stage}/database"
            ),
            storage_encrypted=True,
            storage_type=rds.StorageType.GP3,
            allocated_storage=config.database_allocated_storage_gb,
            max_allocated_storage=config.database_max_allocated_storage_gb,
            multi_az=config.database_multi_az,
            backup_retention=Duration.days(config.database_backup_retention_days),
            deletion_protection=config.deletion_protection,
            removal_policy=RemovalPolicy.SNAPSHOT if config.retain_data_on_delete else RemovalPolicy.DESTROY,
            auto_minor_version_upgrade=True,
            enable_performance_insights=False,
            instance_identifier=f"tollgate-{config.stage}",
            cloudwatch_logs_exports=["postgresql"],
            parameter_group=rds.ParameterGroup(
                self,
                "Parameters",
                engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16),
                parameters={"rds.force_ssl": "1"},
            ),
        )
        # Created here (not by RDS on first export) so the stage's retention applies without a custom resource.
        postgres_logs = stage_log_group(
            self, "PostgresLogs", config, name=f"/aws/rds/instance/tollgate-{config.stage}/postgresql"
        )
        self.instance.node.add_dependency(postgres_logs)
        if self.instance.secret is None:
            raise RuntimeError("Credentials.from_generated_secret always creates a secret")
        # `instance.secret` is the attached view (with host/port) the functions read; `credentials_secret` is
        # the generated secret resource itself.
        self.secret: secretsmanager.ISecret = self.instance.secret
        self.credentials_secret = self.instance.node.find_child("Secret")
        if config.retain_data_on_delete:  # a retained snapshot is useless without its password
            self.credentials_secret.apply_removal_policy(RemovalPolicy.RETAIN)  # type: ignore[attr-defined]
        if config.database_secret_rotation_days:
            self.instance.add_rotation_single_user(
                automatically_after=Duration.days(config.database_secret_rotation_days),
                vpc_subnets=FUNCTION_SUBNETS,  # the rotation Lambda calls the Secrets Manager API
            )
        self.proxy = self.instance.add_proxy(
            "Proxy",
            vpc=vpc,
            vpc_subnets=DATABASE_SUBNETS,
            secrets=[self.secret],
            security_groups=[self.proxy_security_group],
            require_tls=True,
            max_connections_percent=PROXY_MAX_CONNECTIONS_PERCENT,
            # Containers recycle their one connection after 5 minutes (TOLLGATE_DB_POOL_RECYCLE_S); a client
            # idle twice that long is a frozen container, so the proxy drops it instead of holding 30 minutes.
            idle_client_timeout=Duration.minutes(PROXY_IDLE_CLIENT_TIMEOUT_MINUTES),
            debug_logging=False,
        )
        self.proxy_security_group.add_ingress_rule(
            client_security_group, ec2.Port.tcp(POSTGRES_PORT), "Tollgate functions to RDS Proxy"
        )
        self.proxy_security_group.add_egress_rule(
            self.instance_security_group, ec2.Port.tcp(POSTGRES_PORT), "RDS Proxy to PostgreSQL"
        )
        self.instance_security_group.add_ingress_rule(
            self.proxy_security_group, ec2.Port.tcp(POSTGRES_PORT), "RDS Proxy to PostgreSQL"
        )

    @property
    def proxy_endpoint(self) -> str:
        return self.proxy.endpoint
