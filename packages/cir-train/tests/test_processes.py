"""Whole runs in fresh processes: two ranks under torchrun, kill -9 and resume, a kill inside a checkpoint."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from cir_train import checkpoint as ckpt

pytestmark = pytest.mark.slow

RESUME_RUN = ["max_steps=10", "checkpoint.every_steps=3"]


def _ok(result: Any) -> None:
    errors = [line for line in result.stderr.splitlines() if "Error" in line or "error" in line]
    assert result.returncode == 0, "\n".join(errors[-20:]) + result.stderr[-2000:]


def _losses(run_dir: Path) -> dict[int, float]:
    """Loss per step from metrics.jsonl; a step rerun after a resume keeps its last value."""
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return {record["step"]: record["train/loss"] for record in map(json.loads, lines)}


def _final(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "final_params.pt", weights_only=True)  # type: ignore[no-any-return]


def _assert_same_params(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], tol: float) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], rtol=tol, atol=tol), (key, (a[key] - b[key]).abs().max())


@pytest.mark.parametrize("stage", [0, 2])
def test_two_ranks_match_one_rank_with_the_doubled_batch(run_tiny: Any, tmp_path: Path, stage: int) -> None:
    common = ["max_steps=5", f"deepspeed.zero_stage={stage}", "checkpoint.save_final=false"]
    _ok(run_tiny([str(tmp_path / "one"), *common, "data.micro_batch_size=8"]))
    # --standalone: the launcher's c10d rendezvous binds port 0 itself, so no port is chosen here and then
    # raced for (a port picked free by this process could be taken before torchrun bound it).
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    _ok(run_tiny([str(tmp_path / "two"), *common, "data.micro_batch_size=4"], launcher=torchrun))
    assert json.loads((tmp_path / "two" / "environment.json").read_text())["world_size"] == 2
    _assert_same_params(_final(tmp_path / "one"), _final(tmp_path / "two"), tol=1e-5)
    one, two = _losses(tmp_path / "one"), _losses(tmp_path / "two")
    assert one == pytest.approx(two, rel=1e-5)


@pytest.fixture(scope="module")
def uninterrupted(run_tiny: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("uninterrupted")
    _ok(run_tiny([str(run_dir), *RESUME_RUN]))
    return run_dir


def test_kill_9_then_resume_continues_the_same_trajectory(run_tiny: Any, uninterrupted: Path, tmp_path: Path) -> None:
    killed = run_tiny([str(tmp_path), *RESUME_RUN], CIR_TEST_KILL_AFTER_STEP="5")
    assert killed.returncode == -signal.SIGKILL
    assert ckpt.find_latest_checkpoint(tmp_path / "checkpoints") == tmp_path / "checkpoints" / "step_00000003"
    _ok(run_tiny([str(tmp_path), *RESUME_RUN]))
    reference, resumed = _losses(uninterrupted), _losses(tmp_path)
    assert sorted(resumed) == list(range(1, 11))
    assert [resumed[s] for s in range(4, 11)] == pytest.approx([reference[s] for s in range(4, 11)], rel=1e-6)
    _assert_same_params(_final(uninterrupted), _final(tmp_path), tol=1e-6)


def test_a_kill_inside_a_checkpoint_write_leaves_the_previous_one(
    run_tiny: Any, uninterrupted: Path, tmp_path: Path
) -> None:
    killed = run_tiny([str(tmp_path), *RESUME_RUN], CIR_TEST_KILL_AT_CHECKPOINT="2")  # inside the step-6 save
    assert killed.returncode == -signal.SIGKILL
    checkpoints = tmp_path / "checkpoints"
    assert (checkpoints / ".tmp-step_00000006" / "optimizer_rank00000.pt").is_file()  # half written
    assert ckpt.find_latest_checkpoint(checkpoints) == checkpoints / "step_00000003"
    _ok(run_tiny([str(tmp_path), *RESUME_RUN]))
    assert not (checkpoints / ".tmp-step_00000006").exists()  # cleaned up by the next complete save
    _assert_same_params(_final(uninterrupted), _final(tmp_path), tol=1e-6)
