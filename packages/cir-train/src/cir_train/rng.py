"""Seeding and the capture/restore of every random-number generator a run touches.

States are kept as plain Python values and tensors so a checkpoint holding them loads with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

__all__ = ["get_rng_state", "seed_everything", "seeded", "set_rng_state"]


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and every CUDA device) with ``seed``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _seed_cpu(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.default_generator.manual_seed(seed)


def get_rng_state(include_cuda: bool = True) -> dict[str, Any]:
    """The states of python, numpy, torch CPU and (if asked and present) CUDA generators (weights_only-loadable)."""
    kind, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "torch": torch.get_rng_state(),
    }
    if include_cuda and torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the generators from :func:`get_rng_state`'s output."""
    random.setstate(_as_tuples(state["python"]))
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            numpy_state["kind"],
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["pos"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _as_tuples(value: Any) -> Any:
    # random.setstate needs tuples all the way down; a round trip through some serialisers yields lists.
    if isinstance(value, (list, tuple)):
        return tuple(_as_tuples(item) for item in value)
    return value


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block with the CPU generators (python, numpy, torch) seeded by ``seed``, then restore them.

    CUDA generators are left alone so data-loader workers never initialise CUDA.
    """
    saved = get_rng_state(include_cuda=False)
    _seed_cpu(seed)
    try:
        yield
    finally:
        set_rng_state(saved)
