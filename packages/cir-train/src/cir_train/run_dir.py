"""A run folder that describes itself: the resolved config, package versions and the git commit."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import yaml

from cir_train.checkpoint import atomic_write_text
from cir_train.config import TrainConfig

__all__ = ["describe_environment", "git_commit", "write_run_metadata"]

RECORDED_PACKAGES = (
    "cir-train",
    "cir-models",
    "cir-data",
    "cir-hyperbolic",
    "cir-eval",
    "torch",
    "torchvision",
    "deepspeed",
    "open_clip_torch",
    "numpy",
)


def git_commit(where: Path) -> dict[str, Any]:
    """The commit checked out at ``where`` and whether the tree has uncommitted changes (None outside git)."""

    def run(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=where, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    commit = run("rev-parse", "HEAD")
    status = run("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def describe_environment(where: Path | None = None) -> dict[str, Any]:
    """Python, platform, versions of the packages that shape a result, and the git commit."""
    versions: dict[str, str | None] = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
        "git": git_commit(where or Path.cwd()),
        "argv": sys.argv,
    }


def write_run_metadata(run_dir: Path, config: TrainConfig, extra: dict[str, Any] | None = None) -> None:
    """Write ``config.yaml`` (resolved config) and ``environment.json`` into ``run_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False))
    environment = {**describe_environment(), **(extra or {})}
    atomic_write_text(run_dir / "environment.json", json.dumps(environment, indent=2, default=str) + "\n")
