"""Safe checkpoint files: safetensors by default, ``.pt``/``.pth``/``.bin`` only through ``weights_only``.

A checkpoint that needs arbitrary code to unpickle (a ``__reduce__`` calling ``os.system``, a
pickled module) is refused with :class:`UnsafeCheckpointError` naming the file; nothing in it runs.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from pathlib import Path

import torch

__all__ = [
    "CONTAINER_KEYS",
    "UnsafeCheckpointError",
    "load_state_dict",
    "save_state_dict",
    "strip_prefix",
]

SAFETENSORS_SUFFIXES = (".safetensors",)
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")

# Keys under which public projects nest their state dict: open_clip / GeneCIS ("state_dict"),
# LinCIR's phi checkpoints ({"epoch", "Phi"}, specs/lincir.md §1.9), Pic2Word (§1.11).
CONTAINER_KEYS = ("state_dict", "model", "Phi", "state_dict_img2text")


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint that cannot be loaded without executing code from the file."""


def strip_prefix(state_dict: Mapping[str, torch.Tensor], prefix: str = "module.") -> dict[str, torch.Tensor]:
    """Return the state dict with ``prefix`` removed from every key that has it (DDP's ``module.``)."""
    return {(k[len(prefix) :] if k.startswith(prefix) else k): v for k, v in state_dict.items()}


def _unwrap(obj: object, path: Path, key: str | None) -> dict[str, torch.Tensor]:
    """Find the tensor mapping inside a loaded checkpoint object."""
    if not isinstance(obj, Mapping):
        raise ValueError(f"{path}: expected a mapping of tensors, found {type(obj).__name__}")
    if key is not None:
        if key not in obj:
            raise KeyError(f"{path}: no entry {key!r}; top-level keys are {sorted(map(str, obj))[:20]}")
        return _unwrap(obj[key], path, None)
    if all(isinstance(v, torch.Tensor) for v in obj.values()):
        return dict(obj)
    found = [k for k in CONTAINER_KEYS if k in obj]
    if len(found) == 1:
        return _unwrap(obj[found[0]], path, None)
    raise ValueError(
        f"{path}: not a flat state dict and no single container key among {CONTAINER_KEYS}; "
        f"top-level keys are {sorted(map(str, obj))[:20]}; pass key=... to choose one"
    )


def load_state_dict(path: str | os.PathLike[str], key: str | None = None) -> dict[str, torch.Tensor]:
    """Load a state dict on CPU from ``.safetensors``, or from ``.pt``/``.pth``/``.bin``/``.ckpt`` safely.

    ``key`` selects a nested entry (e.g. ``"Phi"``); without it a single known container key
    (:data:`CONTAINER_KEYS`) is unwrapped automatically. Raises :class:`UnsafeCheckpointError` for
    a pickle that needs code to load.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in SAFETENSORS_SUFFIXES:
        from safetensors.torch import load_file

        # safetensors files are flat: there is no container to unwrap
        return _unwrap(load_file(str(path), device="cpu"), path, key)
    if suffix not in PICKLE_SUFFIXES:
        raise ValueError(
            f"{path}: unsupported checkpoint suffix {suffix!r}; use one of "
            f"{SAFETENSORS_SUFFIXES + PICKLE_SUFFIXES}"
        )
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise UnsafeCheckpointError(
            f"{path}: refused to load, the file needs code execution to unpickle "
            f"(only plain tensors and containers are allowed with weights_only=True). "
            f"Re-save it as safetensors from a trusted environment. Details: {err}"
        ) from None
    return _unwrap(obj, path, key)


def save_state_dict(state_dict: Mapping[str, torch.Tensor], path: str | os.PathLike[str]) -> Path:
    """Write a state dict; safetensors unless the suffix is ``.pt``/``.pth``/``.bin``. Returns the path."""
    path = Path(path)
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in state_dict.items()}
    if path.suffix.lower() in PICKLE_SUFFIXES:
        torch.save(tensors, path)
    else:
        from safetensors.torch import save_file

        save_file(tensors, str(path))
    return path
