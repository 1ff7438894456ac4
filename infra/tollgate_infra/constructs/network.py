"""VPC: public subnets for the NAT gateways, private subnets with egress for the functions (they call AI
providers on the internet), isolated subnets for the database and RDS Proxy."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from tollgate_infra.config import StageConfig
from tollgate_infra.log_groups import stage_log_group

FUNCTION_SUBNETS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
DATABASE_SUBNETS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=config.max_azs,
            nat_gateways=config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="app", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
                ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
        )
        flow_logs = stage_log_group(self, "FlowLogs", config)
        # Rejected traffic only: enough to debug security groups, cheap when idle.
        self.vpc.add_flow_log(
            "RejectedTraffic",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        # Functions may call any provider endpoint (custom OpenAI-compatible servers included), so egress is
        # open; nothing is allowed in.
        self.function_security_group = ec2.SecurityGroup(
            self,
            "FunctionSecurityGroup",
            vpc=self.vpc,
            description="Tollgate Lambda functions: egress to providers and RDS Proxy, no ingress",
            allow_all_outbound=True,
        )
