"""Functions live in private subnets with a NAT route and reach PostgreSQL only through RDS Proxy."""

from __future__ import annotations

from typing import Any


def private_subnets_with_nat(stack: Any) -> set[str]:
    """Subnets whose route table sends 0.0.0.0/0 to a NAT gateway."""
    tables_with_nat = {
        route["Properties"]["RouteTableId"]["Ref"]
        for route in stack.of_type("AWS::EC2::Route").values()
        if "NatGatewayId" in route["Properties"]
    }
    return {
        association["Properties"]["SubnetId"]["Ref"]
        for association in stack.of_type("AWS::EC2::SubnetRouteTableAssociation").values()
        if association["Properties"]["RouteTableId"]["Ref"] in tables_with_nat
    }


def security_group_of(stack: Any, name: str) -> str:
    (group,) = stack.function(name)["Properties"]["VpcConfig"]["SecurityGroupIds"]
    return str(group["Fn::GetAtt"][0])


def ingress_sources(stack: Any, group_id: str) -> set[str]:
    return {
        rule["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0]
        for rule in stack.of_type("AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["GroupId"]["Fn::GetAtt"][0] == group_id
    }


def test_nat_gateway_count_follows_the_stage(dev: Any, prod: Any) -> None:
    assert len(dev.of_type("AWS::EC2::NatGateway")) == dev.stack.config.nat_gateways == 1
    assert len(prod.of_type("AWS::EC2::NatGateway")) == prod.stack.config.nat_gateways == 2


def test_every_function_runs_in_private_subnets_with_egress(any_stage: Any, function_name: str) -> None:
    vpc_config = any_stage.function(function_name)["Properties"]["VpcConfig"]
    subnets = {subnet["Ref"] for subnet in vpc_config["SubnetIds"]}
    assert subnets
    assert subnets <= private_subnets_with_nat(any_stage)


def test_functions_connect_to_the_proxy_endpoint_not_the_instance(any_stage: Any, function_name: str) -> None:
    (proxy_id,) = any_stage.of_type("AWS::RDS::DBProxy")
    (instance_id,) = any_stage.of_type("AWS::RDS::DBInstance")
    environment = any_stage.environment(function_name)
    assert environment["TOLLGATE_DATABASE_HOST"] == {"Fn::GetAtt": [proxy_id, "Endpoint"]}
    assert instance_id not in str(environment)


def test_only_functions_reach_the_proxy_and_only_the_proxy_reaches_the_instance(any_stage: Any) -> None:
    function_group = security_group_of(any_stage, "execute")
    proxy = next(iter(any_stage.of_type("AWS::RDS::DBProxy").values()))["Properties"]
    (proxy_group,) = [g["Fn::GetAtt"][0] for g in proxy["VpcSecurityGroupIds"]]
    instance = next(iter(any_stage.of_type("AWS::RDS::DBInstance").values()))["Properties"]
    (instance_group,) = [g["Fn::GetAtt"][0] for g in instance["VPCSecurityGroups"]]
    assert ingress_sources(any_stage, proxy_group) == {function_group}
    assert ingress_sources(any_stage, instance_group) <= {proxy_group, *rotation_groups(any_stage)}
    assert proxy_group in ingress_sources(any_stage, instance_group)


def rotation_groups(stack: Any) -> set[str]:
    """prod's password rotation Lambda also connects to the instance (directly, as RDS rotation must)."""
    return {i for i in stack.of_type("AWS::EC2::SecurityGroup") if "Rotation" in i}


def test_all_functions_share_one_security_group_without_ingress(any_stage: Any, function_name: str) -> None:
    group = security_group_of(any_stage, function_name)
    assert group == security_group_of(any_stage, "execute")
    assert not ingress_sources(any_stage, group)
    assert "SecurityGroupIngress" not in any_stage.resources[group]["Properties"]


def test_database_sits_in_isolated_subnets(any_stage: Any) -> None:
    (subnet_group,) = any_stage.of_type("AWS::RDS::DBSubnetGroup").values()
    subnets = {s["Ref"] for s in subnet_group["Properties"]["SubnetIds"]}
    assert not subnets & private_subnets_with_nat(any_stage)
    assert all("data" in s for s in subnets)
