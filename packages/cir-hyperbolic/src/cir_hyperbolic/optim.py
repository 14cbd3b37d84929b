"""Weight-decay parameter groups for MERU-style models, chosen by parameter identity (spec §5.5, §10 rows 10-11)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from torch import nn

from .nn import LearnableCurvature, LogitScale, LorentzLift

__all__ = ["NORM_TYPES", "SCALAR_TYPES", "param_groups"]

NORM_TYPES: tuple[type[nn.Module], ...] = (
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.BatchNorm3d,
    nn.SyncBatchNorm,
    nn.InstanceNorm1d,
    nn.InstanceNorm2d,
    nn.InstanceNorm3d,
    nn.LayerNorm,
    nn.GroupNorm,
) + ((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ())
"""Modules whose parameters are gains/biases (decayed at ``gain_bias_decay``)."""

SCALAR_TYPES: tuple[type[nn.Module], ...] = (LorentzLift, LearnableCurvature, LogitScale)
"""Modules holding the learnable scalars α, curvature and logit scale, never decayed (spec §5.3)."""


def param_groups(
    model: nn.Module,
    weight_decay: float,
    gain_bias_decay: float = 0.0,
    *,
    faithful: bool = False,
    no_decay: Iterable[nn.Parameter] = (),
    norm_types: tuple[type[nn.Module], ...] = NORM_TYPES,
) -> list[dict[str, Any]]:
    """AdamW parameter groups: weights at ``weight_decay``, norms/biases at ``gain_bias_decay``, scalars at 0.

    Groups are chosen by parameter identity, never by name substring: parameters of :data:`SCALAR_TYPES`
    modules and those passed in ``no_decay`` get 0; parameters of ``norm_types`` modules and any parameter
    registered under the exact name ``bias`` get ``gain_bias_decay``; all others get ``weight_decay``. Frozen
    parameters are left out; a shared parameter is counted once. Groups carry a ``name`` key (``decay``,
    ``gain_bias``, ``no_decay``) and empty groups are dropped.

    Upstream bug (facebookresearch/meru ``meru/optim.py``, copied into PalAvik/hycoclip; spec §5.5 and §10
    rows 10-11): the configs set ``gain_bias_decay=0.0``, but the code falls back to ``weight_decay`` when the
    value is falsy, so norms and biases are decayed at 0.2; it also excludes scalars by name substring, so any
    parameter whose name contains "curv" escapes decay. ``faithful=True`` reproduces the fallback (use it
    only to reproduce published runs); the substring matching is not reproduced.

    Example::

        optimizer = torch.optim.AdamW(param_groups(model, weight_decay=0.2), lr=5e-4, betas=(0.9, 0.98))
    """
    effective_gain_bias = (gain_bias_decay or weight_decay) if faithful else gain_bias_decay
    trainable = {id(p): p for p in model.parameters() if p.requires_grad}
    scalar_ids = {id(p) for p in no_decay}
    gain_bias_ids: set[int] = set()
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            if isinstance(module, SCALAR_TYPES):
                scalar_ids.add(id(param))
            elif isinstance(module, norm_types) or name == "bias":
                gain_bias_ids.add(id(param))
    groups: dict[str, tuple[list[nn.Parameter], float]] = {
        "decay": ([], weight_decay),
        "gain_bias": ([], effective_gain_bias),
        "no_decay": ([], 0.0),
    }
    for key, param in trainable.items():
        if key in scalar_ids:
            group = "no_decay"
        elif key in gain_bias_ids:
            group = "gain_bias"
        else:
            group = "decay"
        groups[group][0].append(param)
    return [
        {"name": name, "params": params, "weight_decay": decay}
        for name, (params, decay) in groups.items()
        if params
    ]
