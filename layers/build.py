"""Build Tollgate's Lambda layers without Docker.

Two layers, each laid out the way Lambda expects (``<out>/python/...`` lands on ``sys.path``):

* ``runtime`` - the third-party dependencies in ``layers/runtime/requirements.txt``, installed from
  manylinux wheels for the Lambda runtime (CPython 3.12, aarch64 or x86_64) whatever the build host is.
  ``--only-binary=:all:`` makes pip refuse anything it would have to compile, so a Mac or an x86 laptop
  produces the same layer a Linux ARM box would.
* ``package`` - the ``tollgate`` domain package copied from ``shared/tollgate`` with its package data
  (Alembic migrations, JSON files).

The CDK app calls this script from its local bundling hook, and the Docker bundling fallback runs the
same script inside the SAM build image, so both paths produce the same layer. It can also be run by
hand::

    python layers/build.py runtime --out layers/.build/runtime --arch arm64
    python layers/build.py package --out layers/.build/package --source shared
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

LAYERS_DIR = Path(__file__).resolve().parent
DEFAULT_REQUIREMENTS = LAYERS_DIR / "runtime" / "requirements.txt"
DEFAULT_SOURCE = LAYERS_DIR.parent / "shared"
PYTHON_VERSION = "3.12"

# Lambda's python3.12 runtime is Amazon Linux 2023 (glibc 2.34), so every manylinux tag up to 2.34 runs there.
# Listing the newer tags lets pip pick wheels that are no longer published as manylinux2014.
MANYLINUX_TAGS = ("manylinux2014", "manylinux_2_28", "manylinux_2_34")
ARCHITECTURES = {"arm64": "aarch64", "x86_64": "x86_64"}
IGNORED_FILES = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".pytest_cache", ".mypy_cache")


def pip_platforms(architecture: str) -> list[str]:
    """The ``--platform`` tags pip should accept for a Lambda architecture (``arm64`` or ``x86_64``)."""
    machine = ARCHITECTURES[architecture]
    return [f"{tag}_{machine}" for tag in MANYLINUX_TAGS]


def pip_install_command(requirements: Path, target: Path, architecture: str) -> list[str]:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for platform in pip_platforms(architecture):
        command += ["--platform", platform]
    command += [
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--no-compile",  # .pyc files from the build host's Python would be useless on 3.12
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]
    return command


def build_runtime_layer(out_dir: Path, architecture: str, requirements: Path = DEFAULT_REQUIREMENTS) -> Path:
    """pip-install the pinned runtime requirements into ``<out_dir>/python`` and return that folder."""
    target = out_dir / "python"
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(pip_install_command(requirements, target, architecture), check=True)  # noqa: S603 - fixed argv
    remove_bytecode(target)
    return target


def build_package_layer(out_dir: Path, source: Path = DEFAULT_SOURCE) -> Path:
    """Copy ``<source>/tollgate`` (with its migrations and data files) into ``<out_dir>/python/tollgate``."""
    package = source / "tollgate"
    if not (package / "__init__.py").is_file():
        raise FileNotFoundError(f"no tollgate package at {package} (expected {package / '__init__.py'})")
    target = out_dir / "python" / "tollgate"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(package, target, ignore=IGNORED_FILES)
    return target


def remove_bytecode(root: Path) -> None:
    for cache in sorted(root.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    layers = parser.add_subparsers(dest="layer", required=True)
    runtime = layers.add_parser("runtime", help="third-party dependencies from requirements.txt")
    runtime.add_argument("--out", type=Path, required=True, help="layer root; wheels go to <out>/python")
    runtime.add_argument("--arch", choices=sorted(ARCHITECTURES), default="arm64")
    runtime.add_argument("--requirements", type=Path, default=DEFAULT_REQUIREMENTS)
    package = layers.add_parser("package", help="the tollgate package from shared/")
    package.add_argument("--out", type=Path, required=True, help="layer root; code goes to <out>/python/tollgate")
    package.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="folder that holds tollgate/")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.layer == "runtime":
        built = build_runtime_layer(args.out, args.arch, args.requirements)
    else:
        built = build_package_layer(args.out, args.source)
    print(f"built {args.layer} layer in {built}")  # noqa: T201 - CLI output
    return 0


if __name__ == "__main__":
    sys.exit(main())
