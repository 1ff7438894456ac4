"""Build Tollgate's Lambda layers without Docker.

Two layers, each laid out the way Lambda expects (``<out>/python/...`` lands on ``sys.path``):

* ``runtime`` - the third-party dependencies locked with hashes in ``layers/runtime/requirements.lock``
  (generated from ``requirements.txt``, see below), installed with ``--require-hashes`` from manylinux
  wheels for the Lambda runtime (CPython 3.12, aarch64 or x86_64) whatever the build host is.
  ``--only-binary=:all:`` makes pip refuse anything it would have to compile, so a Mac or an x86 laptop
  produces the same layer a Linux ARM box would. ``tzdata`` is included (budget periods use IANA zones).

Both layers ship bytecode compiled by a CPython 3.12 (the Lambda runtime) with
``--invalidation-mode unchecked-hash``: /opt is read-only, so without it every cold start compiles every
module again (~1.2 s of a 1.8 s handler import); unchecked-hash .pyc files stay valid inside the zip whatever
the file times become. The interpreter is ``$TOLLGATE_LAYER_PYTHON``, else ``python3.12`` on PATH or under
pyenv, else this one if it is 3.12 (the SAM build image). ``--require-bytecode`` (what the CDK app passes)
fails the build when none is found, so CDK falls back to the Docker build image, which has one.

Regenerate the lock after changing requirements.txt::

    uv pip compile layers/runtime/requirements.txt --python-version 3.12 \
        --python-platform aarch64-manylinux_2_28 --generate-hashes --no-header -o layers/runtime/requirements.lock
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
import os
import shutil
import subprocess
import sys
from pathlib import Path

LAYERS_DIR = Path(__file__).resolve().parent
DEFAULT_REQUIREMENTS = LAYERS_DIR / "runtime" / "requirements.lock"
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
        "--require-hashes",
        "--no-compile",  # .pyc files from the build host's Python would be useless on 3.12
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]
    return command


def build_runtime_layer(
    out_dir: Path, architecture: str, requirements: Path = DEFAULT_REQUIREMENTS, *, require_bytecode: bool = False
) -> Path:
    """pip-install the locked runtime requirements into ``<out_dir>/python`` and return that folder."""
    target = out_dir / "python"
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(pip_install_command(requirements, target, architecture), check=True)  # noqa: S603 - fixed argv
    remove_bytecode(target)
    compile_bytecode(target, require=require_bytecode)
    return target


def find_python312() -> str | None:
    """A CPython 3.12 interpreter (see the module docstring for the search order), or None."""
    candidates = [os.environ.get("TOLLGATE_LAYER_PYTHON"), shutil.which("python3.12"), sys.executable]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [str(p) for p in sorted(pyenv_root.glob("versions/3.12*/bin/python3.12"), reverse=True)]
    for candidate in candidates:
        if candidate and _is_python312(candidate):
            return candidate
    return None


def _is_python312(executable: str) -> bool:
    probe = "import sys, platform; print(platform.python_implementation(), *sys.version_info[:2])"
    try:
        done = subprocess.run([executable, "-c", probe], capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.split() == ["CPython", "3", "12"]


def compile_bytecode(target: Path, *, require: bool) -> bool:
    """Compile ``target`` (a layer's ``python`` folder, mounted at /opt/python) to CPython 3.12
    unchecked-hash .pyc files. Returns False (or raises, when ``require``) without a 3.12 interpreter."""
    python = find_python312()
    if python is None:
        message = "no CPython 3.12 found (set TOLLGATE_LAYER_PYTHON): the layer ships without bytecode"
        if require:
            raise RuntimeError(message)
        print(f"warning: {message}", file=sys.stderr)  # noqa: T201 - CLI output
        return False
    command = [
        python,
        "-m",
        "compileall",
        "-q",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(target),
        "-p",
        "/opt/python",  # tracebacks name the files where Lambda mounts the layer
        str(target),
    ]
    done = subprocess.run(command, check=False)  # noqa: S603 - fixed argv
    # compileall exits 1 when a file does not compile (e.g. vendored Python 2 test files); those stay .py only
    if done.returncode not in (0, 1):
        raise subprocess.CalledProcessError(done.returncode, command)
    return True


def build_package_layer(out_dir: Path, source: Path = DEFAULT_SOURCE, *, require_bytecode: bool = False) -> Path:
    """Copy ``<source>/tollgate`` (with its migrations and data files) into ``<out_dir>/python/tollgate``."""
    package = source / "tollgate"
    if not (package / "__init__.py").is_file():
        raise FileNotFoundError(f"no tollgate package at {package} (expected {package / '__init__.py'})")
    target = out_dir / "python" / "tollgate"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(package, target, ignore=IGNORED_FILES)
    compile_bytecode(target.parent, require=require_bytecode)
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
    runtime.add_argument("--requirements", type=Path, default=DEFAULT_REQUIREMENTS, help="hashed lock file")
    runtime.add_argument("--require-bytecode", action="store_true", help="fail without a CPython 3.12")
    package = layers.add_parser("package", help="the tollgate package from shared/")
    package.add_argument("--out", type=Path, required=True, help="layer root; code goes to <out>/python/tollgate")
    package.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="folder that holds tollgate/")
    package.add_argument("--require-bytecode", action="store_true", help="fail without a CPython 3.12")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.layer == "runtime":
        built = build_runtime_layer(args.out, args.arch, args.requirements, require_bytecode=args.require_bytecode)
    else:
        built = build_package_layer(args.out, args.source, require_bytecode=args.require_bytecode)
    print(f"built {args.layer} layer in {built}")  # noqa: T201 - CLI output
    return 0


if __name__ == "__main__":
    sys.exit(main())
