"""Stage settings from CDK context: parsing, validation, and overrides that reach the template."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from tollgate_infra.app_builder import build_app
from tollgate_infra.config import LayerBundling, load_stage_config, parse_bool


@dataclass
class FakeNode:
    context: dict[str, Any] = field(default_factory=dict)

    def try_get_context(self, key: str) -> Any:
        return self.context.get(key)


def test_dev_is_the_default_stage() -> None:
    assert load_stage_config(FakeNode()).stage == "dev"


def test_command_line_strings_are_parsed() -> None:
    config = load_stage_config(
        FakeNode({"tollgate:stage": "prod", "tollgate:natGateways": "1", "tollgate:deletionProtection": "false"})
    )
    assert (config.stage, config.nat_gateways, config.deletion_protection) == ("prod", 1, False)


def test_skip_flag_turns_off_layer_bundling() -> None:
    assert load_stage_config(FakeNode({"tollgate:skipLayerBundling": "true"})).layer_bundling is LayerBundling.SKIP
    assert load_stage_config(FakeNode({"tollgate:layerBundling": "docker"})).layer_bundling is LayerBundling.DOCKER


def test_dashboard_is_on_by_default_and_off_by_context() -> None:
    assert load_stage_config(FakeNode()).dashboard is True
    assert load_stage_config(FakeNode({"tollgate:stage": "prod"})).dashboard is True
    assert load_stage_config(FakeNode({"tollgate:dashboard": "false"})).dashboard is False


def test_cdk_json_tags_reach_the_config() -> None:
    assert load_stage_config(FakeNode({"tollgate:tags": {"owner": "platform"}})).tags == {"owner": "platform"}


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"tollgate:stage": "staging"}, "unknown stage"),
        ({"tollgate:natGateways": "0"}, "natGateways must be >= 1"),
        ({"tollgate:natGateways": "3"}, "cannot exceed maxAzs"),
        ({"tollgate:sesFromAddress": "not-an-address"}, "not an email address"),
        ({"tollgate:deletionProtection": "maybe"}, "not a boolean"),
    ],
)
def test_bad_settings_fail_synth_with_a_clear_message(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_stage_config(FakeNode(context))


def test_parse_bool_accepts_the_usual_spellings() -> None:
    assert [parse_bool(v) for v in ("true", "1", "YES", True)] == [True] * 4
    assert [parse_bool(v) for v in ("false", "0", "no", False)] == [False] * 4


@pytest.fixture(scope="module")
def overridden(test_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """dev synthesized with `-c tollgate:pricingRefreshHours=6`, `natGateways=2` and `dashboard=false` overrides.

    The nag errors of that stack ride along under "nag_errors" (the dashboard-off stack must pass cdk-nag too).
    """
    context = {
        **test_context,
        "tollgate:pricingRefreshHours": "6",
        "tollgate:natGateways": "2",
        "tollgate:dashboard": "false",
    }
    (stack,) = build_app(cdk.App(context=context, outdir=str(tmp_path_factory.mktemp("cdk.out"))))
    template: dict[str, Any] = dict(Template.from_stack(stack).to_json())
    template["nag_errors"] = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    return template


def test_context_overrides_reach_the_template(overridden: dict[str, Any]) -> None:
    resources = overridden["Resources"].values()
    schedules = {r["Properties"]["ScheduleExpression"] for r in resources if r["Type"] == "AWS::Events::Rule"}
    assert schedules == {"rate(6 hours)", "rate(5 minutes)"}
    assert sum(r["Type"] == "AWS::EC2::NatGateway" for r in resources) == 2


def test_dashboard_off_creates_none_of_it(overridden: dict[str, Any]) -> None:
    types = {r["Type"] for r in overridden["Resources"].values()}
    assert not types & {
        "AWS::S3::Bucket",
        "AWS::CloudFront::Distribution",
        "AWS::CloudFront::OriginAccessControl",
        "AWS::CloudFront::ResponseHeadersPolicy",
        "Custom::CDKBucketDeployment",
    }
    (api,) = [r for r in overridden["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    assert "CorsConfiguration" not in api["Properties"]
    assert "DashboardUrl" not in overridden["Outputs"] and "ApiUrl" in overridden["Outputs"]
    assert overridden["nag_errors"] == []
