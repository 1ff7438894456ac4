"""layers/build.py: the pip command it builds (offline) and one real build of the runtime layer (network)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "layers" / "build.py"
OFFLINE_SIGNS = (
    "NewConnectionError", "Temporary failure in name resolution", "Network is unreachable",
    "ConnectTimeout", "ProxyError", "Max retries exceeded", "Name or service not known",
)  # fmt: skip


def load_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("layers_build", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pip_is_asked_for_lambda_wheels_only() -> None:
    build = load_build_script()
    command = build.pip_install_command(Path("req.txt"), Path("out"), "arm64")
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms == ["manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64"]
    assert command[command.index("--python-version") + 1] == "3.12"
    assert command[command.index("--implementation") + 1] == "cp"
    assert "--only-binary=:all:" in command
    assert "--no-compile" in command
    assert "--require-hashes" in command  # the lock file pins every distribution's sha256
    assert build.pip_platforms("x86_64")[0] == "manylinux2014_x86_64"


def test_the_lock_pins_every_requirement_with_hashes() -> None:
    lock = (REPO_ROOT / "layers" / "runtime" / "requirements.lock").read_text()
    entries = [block for block in lock.split("\n") if block and not block.startswith((" ", "#"))]
    assert entries and all("==" in entry and entry.endswith("\\") for entry in entries), entries
    pinned = {entry.split("==")[0].split("[")[0].lower() for entry in entries}
    requirements = (REPO_ROOT / "layers" / "runtime" / "requirements.txt").read_text().splitlines()
    wanted = {line.split("==")[0].split("[")[0].lower() for line in requirements if line and not line.startswith("#")}
    assert wanted <= pinned
    assert {"tzdata", "uvicorn"} <= wanted
    assert lock.count("--hash=sha256:") >= len(entries)


def python312() -> str | None:
    return load_build_script().find_python312()  # type: ignore[no-any-return]


def pyc_header(path: Path) -> tuple[bytes, int]:
    data = path.read_bytes()
    return data[:4], int.from_bytes(data[4:8], "little")


def magic_of(python: str) -> bytes:
    probe = "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"
    out = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)  # noqa: S603
    return bytes.fromhex(out.stdout)


def test_package_layer_ships_unchecked_hash_bytecode_for_cpython_312(tmp_path: Path) -> None:
    python = python312()
    if python is None:
        pytest.skip("no CPython 3.12 on this machine: the CDK build falls back to the Docker build image")
    source = tmp_path / "shared"
    (source / "tollgate" / "db").mkdir(parents=True)
    (source / "tollgate" / "__init__.py").write_text("")
    (source / "tollgate" / "db" / "engine.py").write_text("X = 1\n")
    load_build_script().build_package_layer(tmp_path / "layer", source, require_bytecode=True)
    layer = tmp_path / "layer" / "python" / "tollgate"
    for module in (layer / "__init__.py", layer / "db" / "engine.py"):
        (pyc,) = (module.parent / "__pycache__").glob(f"{module.stem}.cpython-312.pyc")
        magic, flags = pyc_header(pyc)
        assert magic == magic_of(python)
        assert flags == 0b01  # hash-based, check_source off: valid whatever the zip does to file times


def test_runtime_requirements_are_pinned() -> None:
    requirements = (REPO_ROOT / "layers" / "runtime" / "requirements.txt").read_text().splitlines()
    pins = [line for line in requirements if line.strip() and not line.startswith("#")]
    assert pins and all("==" in line for line in pins), pins
    names = {line.split("==")[0].split("[")[0].lower() for line in pins}
    assert {"aws-lambda-powertools", "pydantic", "pydantic-settings", "httpx", "tenacity", "aws-encryption-sdk",
            "sqlalchemy", "psycopg", "alembic"} <= names  # fmt: skip


def test_package_layer_copies_tollgate_with_its_data(tmp_path: Path) -> None:
    # Given a tollgate package with a migration and a JSON data file (and bytecode that must not ship)
    source = tmp_path / "shared"
    (source / "tollgate" / "db" / "migrations" / "versions").mkdir(parents=True)
    (source / "tollgate" / "__init__.py").write_text("")
    (source / "tollgate" / "db" / "migrations" / "versions" / "0001_initial.py").write_text("# migration\n")
    (source / "tollgate" / "data.json").write_text("{}")
    (source / "tollgate" / "__pycache__").mkdir()
    (source / "tollgate" / "__pycache__" / "x.cpython-312.pyc").write_bytes(b"")
    # When the package layer is built
    load_build_script().build_package_layer(tmp_path / "layer", source)
    # Then the layer holds python/tollgate with package data, and none of the source tree's bytecode
    layer = tmp_path / "layer" / "python" / "tollgate"
    assert (layer / "db" / "migrations" / "versions" / "0001_initial.py").is_file()
    assert (layer / "data.json").is_file()
    assert not (layer / "__pycache__" / "x.cpython-312.pyc").exists()


def test_package_layer_refuses_a_missing_package(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no tollgate package"):
        load_build_script().build_package_layer(tmp_path / "layer", tmp_path)


@pytest.mark.network
def test_runtime_layer_build_installs_aarch64_cp312_wheels(tmp_path: Path) -> None:
    if os.environ.get("TOLLGATE_OFFLINE"):
        pytest.skip("TOLLGATE_OFFLINE is set: the runtime layer build downloads wheels from PyPI")
    # When the runtime layer is built the way `cdk synth` builds it (no Docker)
    command = [sys.executable, str(BUILD_SCRIPT), "runtime", "--arch", "arm64", "--out", str(tmp_path)]
    if python312() is not None:
        command.append("--require-bytecode")
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603
    output = result.stdout + result.stderr
    if result.returncode != 0 and any(sign in output for sign in OFFLINE_SIGNS):
        pytest.skip(f"PyPI unreachable, cannot build the runtime layer: {output.strip().splitlines()[-1]}")
    assert result.returncode == 0, output
    # Then the compiled dependencies are Linux aarch64 builds for CPython 3.12, whatever this machine is
    site = tmp_path / "python"
    assert list((site / "pydantic_core").glob("_pydantic_core.cpython-312-aarch64-linux-gnu.so"))
    assert list((site / "psycopg_binary").glob("*.cpython-312-aarch64-linux-gnu.so"))
    assert (site / "aws_encryption_sdk").is_dir()
    assert (site / "alembic").is_dir()
    assert (site / "tzdata" / "zoneinfo" / "Europe" / "Berlin").is_file()
    assert (site / "uvicorn").is_dir()
    pycs = list(site.rglob("*.pyc"))
    if python312() is not None:  # bytecode for 3.12 only, never the build host's
        assert pycs and all(p.name.endswith(".cpython-312.pyc") for p in pycs)
        assert all(pyc_header(p)[1] == 0b01 for p in pycs[:200])
    else:
        assert not pycs
    size_mb = sum(f.stat().st_size for f in site.rglob("*") if f.is_file()) / 1e6
    assert size_mb < 200, f"layer is {size_mb:.0f} MB unzipped; Lambda allows 250 MB for function + layers"
