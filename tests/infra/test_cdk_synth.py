"""`cdk synth` as docs/deploy.md runs it: the CDK CLI (or, without one, the app command it would run) exits 0."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra"


def cdk_cli() -> str | None:
    local = INFRA_DIR / "node_modules" / ".bin" / "cdk"
    return str(local) if local.exists() else shutil.which("cdk")


def test_cdk_synth_succeeds(synth_source_root: Path | None, tmp_path: Path) -> None:
    # Given the README's environment: this interpreter first on PATH (cdk.json runs `python3 app.py`)
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "1",
    }
    context = {"tollgate:skipLayerBundling": "true"}  # the offline variant of the documented command
    if synth_source_root:
        context["tollgate:sourceRoot"] = str(synth_source_root)
    out = tmp_path / "cdk.out"
    cli = cdk_cli()
    if cli:
        command = [cli, "synth", "--quiet", "--output", str(out)]
        for key, value in context.items():
            command += ["--context", f"{key}={value}"]
    else:  # what the CLI does: run cdk.json's app with the output folder and context in the environment
        command = [sys.executable, "app.py"]
        cdk_context = json.loads((INFRA_DIR / "cdk.json").read_text())["context"]
        environment |= {"CDK_OUTDIR": str(out), "CDK_CONTEXT_JSON": json.dumps({**cdk_context, **context})}
    # When it synthesizes
    result = subprocess.run(  # noqa: S603 - fixed argv
        command, cwd=INFRA_DIR, env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    # Then it succeeds (the CLI also fails on cdk-nag errors) and writes the dev stack
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    template = json.loads((out / "Tollgate-dev.template.json").read_text())
    assert template["Outputs"]["RootKeySecretName"]["Value"] == "tollgate/dev/root-key"
