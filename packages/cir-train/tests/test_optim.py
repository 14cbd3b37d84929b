"""Parameter groups and the warmup + cosine schedule."""

from __future__ import annotations

import math

import pytest
from torch import nn

from cir_train.config import OptimConfig
from cir_train.optim import build_optimizer, lr_multiplier


def test_warmup_is_linear_and_cosine_ends_at_the_floor() -> None:
    config = OptimConfig(warmup_steps=4, min_lr_ratio=0.1)
    total = 14
    assert [lr_multiplier(s, config, total) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr_multiplier(4, config, total) == pytest.approx(1.0)
    # Half-way through the 10 decay steps the cosine is at the midpoint between 1 and the floor.
    assert lr_multiplier(9, config, total) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert lr_multiplier(14, config, total) == pytest.approx(0.1)
    assert lr_multiplier(100, config, total) == pytest.approx(0.1)


def test_constant_schedule_after_warmup() -> None:
    config = OptimConfig(warmup_steps=2, schedule="constant")
    assert [lr_multiplier(s, config, 10) for s in range(5)] == [0.5, 1.0, 1.0, 1.0, 1.0]


class _Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Linear(2, 2)
        self.head = nn.Linear(2, 2)
        self.frozen = nn.Linear(2, 2)
        self.frozen.requires_grad_(False)


def test_param_groups_split_decay_and_lr_factors() -> None:
    config = OptimConfig(lr=1e-3, weight_decay=0.2, no_decay=["bias"], lr_multipliers={"backbone": 0.01})
    optimizer = build_optimizer(_Model(), config)
    groups = {g["name"]: g for g in optimizer.param_groups}
    assert set(groups) == {"decay_lr0.01", "no_decay_lr0.01", "decay_lr1", "no_decay_lr1"}
    assert groups["decay_lr0.01"]["lr"] == pytest.approx(1e-5)
    assert groups["no_decay_lr1"]["weight_decay"] == 0.0
    assert groups["decay_lr1"]["weight_decay"] == 0.2
    assert sum(len(g["params"]) for g in optimizer.param_groups) == 4  # the frozen layer is left out
