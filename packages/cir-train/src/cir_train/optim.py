"""Torch optimisers with named parameter groups, and the warmup + cosine learning-rate schedule.

A plain torch optimiser is handed to DeepSpeed (``zero_allow_untested_optimizer``), so no fused
C++ optimiser has to be compiled and the same code runs on CPU and GPU.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from cir_train.config import OptimConfig

__all__ = ["build_optimizer", "build_param_groups", "build_scheduler", "lr_multiplier"]

_OPTIMIZERS: dict[str, Callable[[list[dict[str, Any]], OptimConfig], torch.optim.Optimizer]] = {
    "adamw": lambda groups, cfg: torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps),
    "adam": lambda groups, cfg: torch.optim.Adam(groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps),
    "sgd": lambda groups, cfg: torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.betas[0]),
}


def build_param_groups(model: nn.Module, config: OptimConfig) -> list[dict[str, Any]]:
    """Trainable parameters grouped by (weight decay, lr factor); each group has a ``name``.

    A parameter whose name contains a ``config.no_decay`` substring gets no weight decay; the
    first ``config.lr_multipliers`` substring found in its name scales its learning rate.
    Frozen parameters (``requires_grad=False``) are left out.
    """
    groups: dict[tuple[bool, float], dict[str, Any]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        decay = not any(part in name for part in config.no_decay)
        factor = next((f for part, f in config.lr_multipliers.items() if part in name), 1.0)
        key = (decay, factor)
        if key not in groups:
            groups[key] = {
                "name": f"{'decay' if decay else 'no_decay'}_lr{factor:g}",
                "params": [],
                "weight_decay": config.weight_decay if decay else 0.0,
                "lr": config.lr * factor,
                "lr_factor": factor,
            }
        groups[key]["params"].append(param)
    if not groups:
        raise ValueError("the model has no trainable parameters (every requires_grad is False)")
    return list(groups.values())


def build_optimizer(model: nn.Module, config: OptimConfig) -> torch.optim.Optimizer:
    """The torch optimiser ``config.name`` over :func:`build_param_groups`."""
    return _OPTIMIZERS[config.name](build_param_groups(model, config), config)


def lr_multiplier(step: int, config: OptimConfig, total_steps: int) -> float:
    """Factor on the base lr after ``step`` optimiser steps: linear warmup, then cosine (or constant).

    Warmup reaches 1 at step ``warmup_steps - 1`` ((step + 1) / warmup, so the first step
    already moves). Cosine decays from 1 to ``min_lr_ratio`` over the remaining steps; MERU's
    cos²(π/2·t) is the same curve, since cos²(x/2) = (1 + cos x) / 2 (specs/hyperbolic.md §5.5).
    """
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.schedule == "constant":
        return 1.0
    decay_steps = max(1, total_steps - config.warmup_steps)
    progress = min(1.0, (step - config.warmup_steps) / decay_steps)
    return config.min_lr_ratio + (1.0 - config.min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def build_scheduler(optimizer: torch.optim.Optimizer, config: OptimConfig, total_steps: int) -> Any:
    """A LambdaLR applying :func:`lr_multiplier` to every group (group lr factors are in the base lrs)."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_multiplier(step, config, total_steps))
