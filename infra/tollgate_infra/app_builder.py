"""Builds the CDK app: a `TollgateStack` per stage config, all checked by cdk-nag (AwsSolutions)."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from tollgate_infra.config import StageConfig, load_stage_config
from tollgate_infra.stack import TollgateStack


def build_app(app: cdk.App, configs: Sequence[StageConfig] | None = None) -> list[TollgateStack]:
    """Add one stack per config to `app` (default: the stage named by context `tollgate:stage`, else dev)."""
    stacks = [TollgateStack(app, config) for config in configs or [load_stage_config(app.node)]]
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return stacks
