"""Shared fixtures for the cir-models tests: tiny random images and a seeded cir-tiny backbone."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from cir_models import Backbone, create_backbone


@pytest.fixture(scope="session")
def images() -> list[Image.Image]:
    """Three RGB images of different sizes and aspect ratios."""
    rng = np.random.default_rng(0)
    shapes = [(48, 80), (64, 64), (90, 40)]
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in shapes]


@pytest.fixture(scope="session")
def pixels() -> torch.Tensor:
    """A batch of already preprocessed 64-px images."""
    return torch.randn(3, 3, 64, 64, generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="session")
def backbone() -> Backbone:
    """A randomly initialised cir-tiny backbone (seeded); tests must not modify it."""
    torch.manual_seed(0)
    return create_backbone("cir-tiny")
