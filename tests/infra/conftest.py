"""Fixtures for the CDK assertions: the app is synthesized once per session, for both stages.

The synth never needs Docker, the network or the `tollgate` package: it runs against a small stand-in source
tree (eight stub handlers, an empty `tollgate` package with a one-page dashboard, the real layers/ files) with
the runtime layer left unbundled, so the templates depend only on infra/. `test_layer_build.py` covers the
real layer build.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra"
FUNCTION_NAMES = ("execute", "keys", "budgets", "usage", "pricing_updater", "alert_delivery", "sweeper", "migrate")
SES_SENDER = "alerts@example.com"
CDK_CLI = INFRA_DIR / "node_modules" / ".bin" / "cdk"


def _missing() -> str | None:
    """Why the CDK tests cannot run here (aws-cdk-lib runs its JavaScript core on Node.js), or None."""
    if importlib.util.find_spec("aws_cdk") is None or importlib.util.find_spec("cdk_nag") is None:
        return "tests/infra need aws-cdk-lib and cdk-nag: pip install -e '.[dev]'"
    if shutil.which("node") is None or not CDK_CLI.exists():
        return "tests/infra need Node.js and the pinned CDK CLI: install Node.js 18+ and run `cd infra && npm ci`"
    return None


CDK_MISSING = _missing()

if CDK_MISSING:
    # Skip the whole folder with one visible reason instead of failing on import in every module.
    collect_ignore_glob = ["test_*.py"]
    _REASON = CDK_MISSING

    class _SkipFolder(pytest.Item):
        def runtest(self) -> None:
            pytest.skip(_REASON)

    class _SkippedFolder(pytest.File):
        def collect(self) -> Iterator[pytest.Item]:
            yield _SkipFolder.from_parent(self, name="cdk_not_installed")

    def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
        if file_path == Path(__file__):
            return _SkippedFolder.from_parent(parent, path=file_path)
        return None

elif str(INFRA_DIR) not in sys.path:
    # `cdk synth` runs `python3 app.py` inside infra/, which puts infra/ on the import path; do the same here.
    sys.path.insert(0, str(INFRA_DIR))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "network: needs PyPI (skipped when it cannot be reached)")


def make_source_tree(root: Path) -> Path:
    """A stand-in for the repository: what the CDK app packages, with stub code."""
    for name in FUNCTION_NAMES:
        handler = root / "functions" / name / "handler.py"
        handler.parent.mkdir(parents=True)
        handler.write_text("def handler(event, context):\n    return {}\n")
    migrations = root / "shared" / "tollgate" / "db" / "migrations"
    migrations.mkdir(parents=True)
    (root / "shared" / "tollgate" / "__init__.py").write_text("")
    (migrations / "env.py").write_text("# stub\n")
    static = root / "shared" / "tollgate" / "ui" / "static"
    static.mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>Tollgate</title>\n")
    (root / "layers" / "runtime").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "layers" / "build.py", root / "layers" / "build.py")
    shutil.copy(REPO_ROOT / "layers" / "runtime" / "requirements.txt", root / "layers" / "runtime" / "requirements.txt")
    return root


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((INFRA_DIR / "cdk.json").read_text())["context"]
    return context


@pytest.fixture(scope="session")
def source_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source_tree(tmp_path_factory.mktemp("repo"))


@pytest.fixture(scope="session")
def synth_source_root(source_tree: Path) -> Path | None:
    """None (synthesize the repository itself) once functions/ and shared/tollgate exist, else the stand-in."""
    handlers = [REPO_ROOT / "functions" / name / "handler.py" for name in FUNCTION_NAMES]
    complete = all(h.is_file() for h in handlers) and (REPO_ROOT / "shared" / "tollgate" / "__init__.py").is_file()
    return None if complete else source_tree


@pytest.fixture(scope="session")
def test_context(source_tree: Path) -> dict[str, Any]:
    """cdk.json's context plus what makes a synth offline and deterministic."""
    return {
        **cdk_json_context(),
        "tollgate:sourceRoot": str(source_tree),
        "tollgate:skipLayerBundling": "true",
        "tollgate:migrationNonce": "test",
    }


class SynthesizedStack:
    """One stack's template plus the lookups the tests share."""

    def __init__(self, stack: Any) -> None:
        from aws_cdk.assertions import Template  # noqa: PLC0415 - aws_cdk may be missing (see top)

        self.stack = stack
        self.template = Template.from_stack(stack)
        self.resources: dict[str, dict[str, Any]] = self.template.to_json()["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {logical_id: r for logical_id, r in self.resources.items() if r["Type"] == resource_type}

    def function_id(self, name: str) -> str:
        """Logical id of the Lambda function `tollgate-<stage>-<name>`."""
        wanted = f"tollgate-{self.stack.config.stage}-{name.replace('_', '-')}"
        matches = [
            logical_id
            for logical_id, fn in self.of_type("AWS::Lambda::Function").items()
            if fn["Properties"].get("FunctionName") == wanted
        ]
        if len(matches) != 1:
            raise LookupError(f"expected one function named {wanted}, found {matches}")
        return matches[0]

    def function(self, name: str) -> dict[str, Any]:
        return self.resources[self.function_id(name)]

    def role_id(self, name: str) -> str:
        return str(self.function(name)["Properties"]["Role"]["Fn::GetAtt"][0])

    def role_statements(self, name: str) -> list[dict[str, Any]]:
        """Every statement of every inline policy attached to the function's role."""
        role_ref = {"Ref": self.role_id(name)}
        statements: list[dict[str, Any]] = []
        for policy in self.of_type("AWS::IAM::Policy").values():
            if role_ref in policy["Properties"].get("Roles", []):
                statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
        return statements

    def environment(self, name: str) -> dict[str, Any]:
        variables: dict[str, Any] = self.function(name)["Properties"]["Environment"]["Variables"]
        return variables


@pytest.fixture(scope="session")
def stacks(test_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, SynthesizedStack]:
    """dev as configured by cdk.json; prod with an SES sender, so both the with- and without-SES paths show."""
    import aws_cdk as cdk  # noqa: PLC0415 - aws_cdk may be missing (see top)

    from tollgate_infra.app_builder import build_app  # noqa: PLC0415
    from tollgate_infra.config import load_stage_config  # noqa: PLC0415

    app = cdk.App(context=test_context, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    configs = [
        load_stage_config(app.node, "dev"),
        replace(load_stage_config(app.node, "prod"), ses_from_address=SES_SENDER),
    ]
    built = build_app(app, configs)
    app.synth()
    return {stack.config.stage: SynthesizedStack(stack) for stack in built}


@pytest.fixture(scope="session")
def dev(stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    return stacks["dev"]


@pytest.fixture(scope="session")
def prod(stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    return stacks["prod"]


@pytest.fixture(scope="session", params=["dev", "prod"])
def any_stage(request: pytest.FixtureRequest, stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    return stacks[request.param]


@pytest.fixture(params=FUNCTION_NAMES)
def function_name(request: pytest.FixtureRequest) -> str:
    """Each of the eight functions in turn (the contract's list, not the app's)."""
    name: str = request.param
    return name
