"""Smoke tests of the `cir-train` entry point."""

from __future__ import annotations

import pytest
from cir_trainer.cli import main


def test_help_describes_the_default_run(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "synthetic world" in out
    assert "baselines" in out


def test_run_refuses_until_the_trainer_exists(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "issue #8" in capsys.readouterr().err
