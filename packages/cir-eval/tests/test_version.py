"""``cir_eval.__version__`` is static and agrees with pyproject.toml and the installed distribution."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest

import cir_eval

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_version_matches_pyproject() -> None:
    match = re.search(r'^version = "([^"]+)"$', PYPROJECT.read_text(encoding="utf-8"), re.MULTILINE)
    assert match is not None
    assert cir_eval.__version__ == match.group(1) == "0.1.0"


def test_version_matches_installed_distribution() -> None:
    try:
        installed = importlib.metadata.version("cir-eval")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("cir-eval is not installed as a distribution (source checkout on PYTHONPATH)")
    assert cir_eval.__version__ == installed
