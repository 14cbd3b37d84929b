"""Two-phase recipes: a warm-up run that trains only some parts, then a main run over all of them.

CondViT (specs/condvit-lrvsf.md §2.5) and UnED (specs/uned.md §4.4) first train a few parts
with the rest frozen and then train everything with a new optimiser. One :class:`~cir_train.Trainer`
has one optimiser over the parameters that require gradients when it starts, so each phase is
its own run: :func:`split_phases` turns a recipe's whole-run config into the two configs, run in
order in ``<run_dir>/warmup`` and ``<run_dir>/main``; the main run starts from the warm-up's final
weights (``model.options.init_from``). A whole-run config trained directly is the main phase
alone, from the initial weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from safetensors.torch import load_file
from torch import nn

from cir_train.checkpoint import step_dir_name
from cir_train.config import ConfigError, TrainConfig, config_from_dict

__all__ = ["MAIN", "WARMUP", "load_initial_weights", "phase_of", "split_phases"]

WARMUP, MAIN = "warmup", "main"


def phase_of(config: TrainConfig) -> str:
    """``"warmup"`` or ``"main"`` (the default) from ``model.options.phase``."""
    phase = config.model.options.get("phase", MAIN)
    if phase not in (WARMUP, MAIN):
        raise ConfigError(f"model.options.phase: must be {WARMUP!r} or {MAIN!r}, got {phase!r}")
    return str(phase)


def _with(data: dict[str, Any], updates: dict[str, Any]) -> TrainConfig:
    for dotted, value in updates.items():
        *parents, leaf = dotted.split(".")
        node = data
        for part in parents:
            node = node[part]
        node[leaf] = value
    return config_from_dict(data)


def split_phases(
    config: TrainConfig, warmup_steps: int, warmup: dict[str, Any], main: dict[str, Any]
) -> tuple[TrainConfig, TrainConfig]:
    """(warm-up, main) configs of a whole-run ``config`` whose first ``warmup_steps`` steps are the warm-up.

    ``warmup`` and ``main`` are dotted-field updates for each phase (e.g. ``{"optim.schedule": "constant"}``).
    The warm-up always saves its final checkpoint, whose weights the main run loads.
    """
    if not 0 < warmup_steps < config.max_steps:
        raise ConfigError(f"warm-up steps must be in (0, max_steps={config.max_steps}), got {warmup_steps}")
    root = Path(config.run_dir)
    first = _with(config.to_dict(), {
        "run_dir": str(root / WARMUP), "max_steps": warmup_steps, "model.options.phase": WARMUP,
        "checkpoint.save_final": True, **warmup,
    })
    weights = root / WARMUP / "checkpoints" / step_dir_name(warmup_steps) / "model.safetensors"
    second = _with(config.to_dict(), {
        "run_dir": str(root / MAIN), "max_steps": config.max_steps - warmup_steps, "model.options.phase": MAIN,
        "model.options.init_from": str(weights), **main,
    })
    return first, second


def load_initial_weights(module: nn.Module, config: TrainConfig) -> None:
    """Load ``model.options.init_from`` (a safetensors file of the whole module) into ``module``, if set."""
    path = config.model.options.get("init_from")
    if not path:
        return
    if not Path(path).is_file():
        raise FileNotFoundError(f"model.options.init_from: {path} does not exist (run the warm-up phase first)")
    try:
        module.load_state_dict(load_file(str(path)), strict=True)
    except RuntimeError as err:
        raise ValueError(f"{path}: weights do not fit the {type(module).__name__} module: {err}") from None
