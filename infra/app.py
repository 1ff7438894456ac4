#!/usr/bin/env python3
"""CDK entry point: run `cdk synth` / `cdk deploy` in this folder (see docs/deploy.md)."""

from __future__ import annotations

import aws_cdk as cdk

from tollgate_infra.app_builder import build_app

if __name__ == "__main__":
    app = cdk.App()
    build_app(app)
    app.synth()
