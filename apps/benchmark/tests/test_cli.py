"""Smoke tests of the `cir-benchmark` entry point."""

from __future__ import annotations

import pytest
from cir_benchmark.cli import main


def test_checkpoint_is_required() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2


def test_run_refuses_until_the_trainer_exists(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--checkpoint", "missing.safetensors"]) == 2
    assert "issue #8" in capsys.readouterr().err
