"""Atomic, resumable checkpoints: model weights as safetensors, everything else loadable with weights_only.

Layout of ``<run_dir>/checkpoints/``::

    step_00000100/               one complete checkpoint
        model.safetensors        full module weights (rank 0)
        scheduler.pt             learning-rate scheduler (rank 0)
        optimizer_rank00000.pt   this rank's optimiser state (ZeRO shards it per rank)
        trainer_rank00000.pt     step, data position and RNG states of the rank
        meta.json                written last: its presence marks the checkpoint complete
    latest                       name of the newest complete checkpoint

A checkpoint is written into ``.tmp-step_...``, every file fsynced, then renamed into place;
the previous checkpoint is deleted only after the new one is complete, so a kill at any point
leaves at least one loadable checkpoint. All ranks must see the same run folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "CheckpointError",
    "atomic_write_text",
    "complete_checkpoints",
    "find_latest_checkpoint",
    "fsync_dir",
    "load_torch_state",
    "save_torch_state",
]

META_NAME = "meta.json"
LATEST_NAME = "latest"
_STEP_DIR = re.compile(r"^step_(\d{8,})$")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, incomplete, or does not fit the run."""


def step_dir_name(step: int) -> str:
    """Folder name of the checkpoint after ``step`` optimiser steps."""
    return f"step_{step:08d}"


def rank_file(kind: str, rank: int) -> str:
    """File name of one rank's ``kind`` state (``optimizer`` or ``trainer``)."""
    return f"{kind}_rank{rank:05d}.pt"


def fsync_file(path: Path) -> None:
    """Flush ``path``'s contents to disk."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_dir(path: Path) -> None:
    """Flush ``path``'s directory entries (creations, renames) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (temp file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def save_torch_state(state: Any, path: Path) -> None:
    """``torch.save`` then fsync; ``state`` must hold only tensors and plain Python values."""
    torch.save(state, path)
    fsync_file(path)


def _deepspeed_safe_globals() -> list[Any]:
    """DeepSpeed's small value classes found inside ZeRO optimiser states (allowed in weights_only loads)."""
    try:
        from deepspeed.runtime.fp16.loss_scaler import DynamicLossScaler, LossScaler
        from deepspeed.runtime.zero.config import ZeroStageEnum
        from deepspeed.utils.tensor_fragment import fragment_address
    except ImportError:  # pragma: no cover - deepspeed is a dependency
        return []
    return [ZeroStageEnum, LossScaler, DynamicLossScaler, fragment_address]


def load_torch_state(path: Path, map_location: str | torch.device = "cpu") -> Any:
    """``torch.load(weights_only=True)``, allowing only DeepSpeed's plain state classes besides tensors."""
    if not path.is_file():
        raise CheckpointError(f"{path}: missing from the checkpoint")
    with torch.serialization.safe_globals(_deepspeed_safe_globals()):
        return torch.load(path, map_location=map_location, weights_only=True)


def read_meta(checkpoint_dir: Path) -> dict[str, Any]:
    """The checkpoint's ``meta.json``; raises if the checkpoint is incomplete."""
    meta_path = checkpoint_dir / META_NAME
    if not meta_path.is_file():
        raise CheckpointError(f"{checkpoint_dir}: incomplete checkpoint (no {META_NAME})")
    try:
        meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{meta_path}: unreadable ({err})") from None
    return meta


def complete_checkpoints(checkpoints_dir: Path) -> list[Path]:
    """Complete checkpoint folders under ``checkpoints_dir``, oldest first."""
    if not checkpoints_dir.is_dir():
        return []
    found = []
    for child in checkpoints_dir.iterdir():
        match = _STEP_DIR.match(child.name)
        if match and (child / META_NAME).is_file():
            found.append((int(match.group(1)), child))
    return [path for _, path in sorted(found)]


def find_latest_checkpoint(checkpoints_dir: Path) -> Path | None:
    """The newest complete checkpoint: the one ``latest`` names, else the highest complete step folder."""
    pointer = checkpoints_dir / LATEST_NAME
    if pointer.is_file():
        named = checkpoints_dir / pointer.read_text(encoding="utf-8").strip()
        if _STEP_DIR.match(named.name) and (named / META_NAME).is_file():
            return named
    complete = complete_checkpoints(checkpoints_dir)
    return complete[-1] if complete else None


def begin_checkpoint(checkpoints_dir: Path, step: int) -> Path:
    """Create the empty temp folder the ranks write ``step``'s checkpoint into (rank 0 only)."""
    checkpoints_dir.mkdir(parents=True, exist_ok=True)
    tmp = checkpoints_dir / f".tmp-{step_dir_name(step)}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


def temp_dir(checkpoints_dir: Path, step: int) -> Path:
    """Where ``step``'s checkpoint is written before it is complete."""
    return checkpoints_dir / f".tmp-{step_dir_name(step)}"


def commit_checkpoint(
    checkpoints_dir: Path,
    step: int,
    meta: dict[str, Any],
    keep_last: int,
) -> Path:
    """Seal the temp folder (meta.json last), rename it into place, point ``latest`` at it, prune (rank 0 only)."""
    tmp = temp_dir(checkpoints_dir, step)
    for child in tmp.iterdir():
        fsync_file(child)
    meta_path = tmp / META_NAME
    with open(meta_path, "w", encoding="utf-8") as handle:
        json.dump(meta, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    fsync_dir(tmp)
    final = checkpoints_dir / step_dir_name(step)
    if final.exists():  # the same step saved again (e.g. the final save): swap, keeping one complete copy
        old = checkpoints_dir / f".old-{final.name}"
        if old.exists():
            shutil.rmtree(old)
        os.rename(final, old)
        os.rename(tmp, final)
        shutil.rmtree(old)
    else:
        os.rename(tmp, final)
    fsync_dir(checkpoints_dir)
    atomic_write_text(checkpoints_dir / LATEST_NAME, final.name + "\n")
    for stale in complete_checkpoints(checkpoints_dir)[:-keep_last]:
        shutil.rmtree(stale)
    for leftover in checkpoints_dir.glob(".tmp-step_*"):
        if leftover != tmp:
            shutil.rmtree(leftover, ignore_errors=True)
    return final
