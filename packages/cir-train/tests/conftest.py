"""Shared fixtures for the cir-train tests: the tiny task module and a clean launcher environment."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

TESTS_DIR = Path(__file__).parent
TINY_TASK = TESTS_DIR / "tiny_task.py"
LAUNCHER_VARIABLES = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_WORLD_SIZE")

os.environ.setdefault("DS_ACCELERATOR", "cpu")


@pytest.fixture(scope="session")
def tiny() -> ModuleType:
    """``tests/tiny_task.py``: a two-tower contrastive model, its dataset and config helpers."""
    spec = importlib.util.spec_from_file_location("cir_train_tiny_task", TINY_TASK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clean_environ(**extra: str) -> dict[str, str]:
    """This process's environment without launcher variables (an in-process Trainer exports them)."""
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER_VARIABLES}
    env.setdefault("DS_ACCELERATOR", "cpu")
    env.update(extra)
    return env


def _run_tiny(args: list[str], *, launcher: list[str] | None = None, timeout: float = 180, **env: str) -> Any:
    command = [*(launcher or [sys.executable]), str(TINY_TASK), *args]
    return subprocess.run(command, env=clean_environ(**env), capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def run_tiny() -> Any:
    """``run_tiny(args, launcher=None, timeout=180, **env)``: ``tiny_task.py`` in a fresh process."""
    return _run_tiny
