"""Shared fixtures for the cir-hyperbolic tests: the curvature grid, dtypes and random tangent vectors."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

CURVS = (0.1, 0.3, 0.7, 1.0, 10.0)
DTYPES = (torch.float32, torch.float64)


@pytest.fixture(params=CURVS, ids=lambda c: f"curv={c}")
def curv(request: pytest.FixtureRequest) -> float:
    """Each curvature magnitude of spec §11."""
    return float(request.param)


@pytest.fixture(params=DTYPES, ids=["fp32", "fp64"])
def dtype(request: pytest.FixtureRequest) -> torch.dtype:
    """Each compute dtype."""
    return request.param


@pytest.fixture
def tangent() -> Callable[..., torch.Tensor]:
    """Factory: n random tangent vectors at O in R^dim with √curv·‖v‖ uniform in [low, high]."""

    def make(
        n: int, dim: int, curv: float, dtype: torch.dtype, seed: int = 0, low: float = 0.05, high: float = 3.0
    ) -> torch.Tensor:
        gen = torch.Generator().manual_seed(seed)
        direction = torch.nn.functional.normalize(torch.randn(n, dim, generator=gen, dtype=torch.float64), dim=-1)
        radius = low + (high - low) * torch.rand(n, 1, generator=gen, dtype=torch.float64)
        return (direction * radius / math.sqrt(curv)).to(dtype)

    return make


@pytest.fixture
def unit_pair() -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    """Factory: unit vectors u, w in R^dim at angle theta, randomly rotated (float64)."""

    def make(theta: float, dim: int = 6, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        gen = torch.Generator().manual_seed(seed)
        rotation, _ = torch.linalg.qr(torch.randn(dim, dim, generator=gen, dtype=torch.float64))
        u = torch.zeros(dim, dtype=torch.float64)
        u[0] = 1.0
        w = torch.zeros(dim, dtype=torch.float64)
        w[0], w[1] = math.cos(theta), math.sin(theta)
        return rotation @ u, rotation @ w

    return make
