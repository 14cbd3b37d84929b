"""The package's declared metadata and its import agree."""

from __future__ import annotations

from importlib.metadata import requires, version

import cir_train


def test_version_matches_distribution_metadata() -> None:
    assert cir_train.__version__ == version("cir-train")


def test_depends_on_lower_packages_with_lower_bounds() -> None:
    declared = {req.split(">=")[0]: req for req in requires("cir-train") or []}
    assert declared["cir-models"] == "cir-models>=0.1.0"
    assert declared["cir-data"] == "cir-data>=0.1.0"
