"""Layers: third-party runtime dependencies (layers/runtime/requirements.txt) and the `tollgate` package
(shared/tollgate), both built by layers/build.py.

Bundling runs `layers/build.py` on the synthesizing machine (ILocalBundling: pip installs the hash-locked
manylinux wheels for CPython 3.12 on the functions' architecture, no Docker needed, and a CPython 3.12 compiles
unchecked-hash bytecode). If that fails (no network, no CPython 3.12 on the machine), or the stage asks for
`layerBundling=docker`, CDK runs the same script in the SAM Python 3.12 build image instead.

The asset hash is taken from the built output (AssetHashType.OUTPUT): a new layer version is published when
what ships changes, and only then.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import Annotations, AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from tollgate_infra.config import LayerBundling, StageConfig

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
BUILD_SCRIPT = "build.py"
ASSET_EXCLUDES = [".build", "__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache"]


def pip_architecture(architecture: lambda_.Architecture) -> str:
    """layers/build.py's name for a Lambda architecture."""
    return "arm64" if architecture.name == lambda_.Architecture.ARM_64.name else "x86_64"


@jsii.implements(ILocalBundling)
class BuildScriptBundling:
    """Runs `python <layers>/build.py <args> --out <output_dir>` with the interpreter running the CDK app."""

    def __init__(self, build_script: Path, args: list[str], *, enabled: bool = True) -> None:
        self._build_script = build_script
        self._args = args
        self._enabled = enabled

    def try_bundle(self, output_dir: str, *_options: Any, **_named_options: Any) -> bool:
        if not self._enabled:
            return False  # fall through to Docker bundling
        command = [sys.executable, str(self._build_script), *self._args, "--out", output_dir]
        try:
            subprocess.run(command, check=True)  # noqa: S603 - this interpreter and our own build script
        except (OSError, subprocess.CalledProcessError) as error:
            print(f"local layer bundling failed ({error}); trying Docker", file=sys.stderr)  # noqa: T201
            return False
        return True


class Layers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        layers_dir = config.source_root / "layers"
        shared_dir = config.source_root / "shared"
        build_script = layers_dir / BUILD_SCRIPT
        local = config.layer_bundling is not LayerBundling.DOCKER
        arch = pip_architecture(ARCHITECTURE)
        # A deployable layer must carry bytecode; the test-only SKIP mode builds whatever this machine can.
        bytecode = [] if config.layer_bundling is LayerBundling.SKIP else ["--require-bytecode"]

        if config.layer_bundling is LayerBundling.SKIP:
            runtime_code = lambda_.Code.from_asset(str(layers_dir / "runtime"), exclude=ASSET_EXCLUDES)
            Annotations.of(self).add_warning_v2(
                "tollgate:layers-not-bundled",
                "layerBundling=skip: the runtime layer holds only requirements.txt. Do not deploy this synth.",
            )
        else:
            runtime_args = ["runtime", "--arch", arch, *bytecode]
            runtime_code = lambda_.Code.from_asset(
                str(layers_dir),
                exclude=ASSET_EXCLUDES,
                asset_hash_type=AssetHashType.OUTPUT,
                bundling=BundlingOptions(
                    image=RUNTIME.bundling_image,
                    command=["python", f"/asset-input/{BUILD_SCRIPT}", *runtime_args, "--out", "/asset-output"],
                    local=BuildScriptBundling(build_script, runtime_args, enabled=local),
                ),
            )
        self.runtime = lambda_.LayerVersion(
            self,
            "Runtime",
            code=runtime_code,
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Tollgate third-party dependencies (layers/runtime/requirements.txt)",
        )

        package_args = ["package", "--source", str(shared_dir), *bytecode]
        self.package = lambda_.LayerVersion(
            self,
            "Package",
            code=lambda_.Code.from_asset(
                str(shared_dir),
                exclude=ASSET_EXCLUDES,
                asset_hash_type=AssetHashType.OUTPUT,
                bundling=BundlingOptions(
                    image=RUNTIME.bundling_image,
                    command=[
                        "bash",
                        "-c",
                        "mkdir -p /asset-output/python && cp -r /asset-input/tollgate /asset-output/python/"
                        " && find /asset-output -name __pycache__ -prune -exec rm -rf {} +"
                        " && python -m compileall -q --invalidation-mode unchecked-hash -s /asset-output/python"
                        " -p /opt/python /asset-output/python",
                    ],
                    local=BuildScriptBundling(build_script, package_args, enabled=local),
                ),
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Tollgate domain package (shared/tollgate)",
        )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.runtime, self.package]
