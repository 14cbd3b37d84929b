"""Checkpoint files: atomic commit, finding the latest complete one, pruning, weights_only loading."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from cir_train import checkpoint as ckpt


def _commit(root: Path, step: int, keep_last: int = 2) -> Path:
    tmp = ckpt.begin_checkpoint(root, step)
    ckpt.save_torch_state({"step": step, "weights": torch.arange(3)}, tmp / "trainer_rank00000.pt")
    return ckpt.commit_checkpoint(root, step, {"step": step}, keep_last)


def test_commit_renames_into_place_and_points_latest(tmp_path: Path) -> None:
    final = _commit(tmp_path, 5)
    assert final.name == "step_00000005"
    assert not list(tmp_path.glob(".tmp-*"))
    assert (tmp_path / "latest").read_text().strip() == "step_00000005"
    assert ckpt.read_meta(final) == {"step": 5}
    assert ckpt.load_torch_state(final / "trainer_rank00000.pt")["step"] == 5


def test_an_unfinished_write_is_ignored(tmp_path: Path) -> None:
    _commit(tmp_path, 3)
    tmp = ckpt.begin_checkpoint(tmp_path, 6)  # a writer that died before meta.json and the rename
    ckpt.save_torch_state({"step": 6}, tmp / "trainer_rank00000.pt")
    (tmp_path / "step_00000009").mkdir()  # a complete-looking name without meta.json
    assert ckpt.find_latest_checkpoint(tmp_path) == tmp_path / "step_00000003"
    (tmp_path / "latest").unlink()  # without the pointer the scan finds the same one
    assert ckpt.find_latest_checkpoint(tmp_path) == tmp_path / "step_00000003"
    with pytest.raises(ckpt.CheckpointError, match="incomplete checkpoint"):
        ckpt.read_meta(tmp_path / "step_00000009")


def test_older_checkpoints_are_pruned_only_after_a_newer_is_complete(tmp_path: Path) -> None:
    for step in (1, 2, 3):
        _commit(tmp_path, step, keep_last=2)
    assert [p.name for p in ckpt.complete_checkpoints(tmp_path)] == ["step_00000002", "step_00000003"]
    _commit(tmp_path, 3, keep_last=2)  # saving the same step again replaces it
    assert [p.name for p in ckpt.complete_checkpoints(tmp_path)] == ["step_00000002", "step_00000003"]


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("code ran",))


def test_loading_refuses_arbitrary_objects(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"x": _Payload()}, path, pickle_module=pickle)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ckpt.load_torch_state(path)


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ckpt.CheckpointError, match=r"nothing\.pt: missing"):
        ckpt.load_torch_state(tmp_path / "nothing.pt")
