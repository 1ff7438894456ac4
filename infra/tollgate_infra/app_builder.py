"""Builds the CDK app: one `TollgateStack` for the selected stage, checked by cdk-nag (AwsSolutions)."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from tollgate_infra.config import load_stage_config
from tollgate_infra.stack import TollgateStack


def build_app(app: cdk.App, stages: tuple[str, ...] | None = None) -> cdk.App:
    """Add the stack(s) to `app`: the context's stage by default, or each of `stages` (tests build both)."""
    for stage in stages or (None,):
        TollgateStack(app, load_stage_config(app.node, stage))
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app
