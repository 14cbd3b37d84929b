"""Learnable scalars of a MERU-style model: feature lifting (α), curvature and logit scale (spec §5.2-§5.3).

Each scalar is stored as a log and clamped in place at every forward, as MERU does, so the parameter sits on
its bound (and can leave it again) instead of drifting past a clamp that would block its gradient. Exclude all
three from weight decay with :func:`cir_hyperbolic.optim.param_groups` (spec §10 rows 6 and 11).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .lorentz import exp_map0

__all__ = ["LearnableCurvature", "LogitScale", "LorentzLift"]

DEFAULT_TEMPERATURE = 0.07
"""CLIP's initial temperature; the logit scale starts at 1/0.07 (log 2.659) (spec §5.3)."""

DEFAULT_MAX_LOGIT_SCALE = 100.0
"""Cap on the logit scale, ln 100 = 4.6052 in log space (spec §5.3)."""


def _clamp_log_(param: Tensor, low: float | None, high: float | None) -> None:
    """Clamps a log-parameter in place without recording the write in autograd (MERU's `.data` clamp)."""
    with torch.no_grad():
        param.clamp_(min=low, max=high)


class LorentzLift(nn.Module):
    """Lifts Euclidean features onto the hyperboloid: x = exp_map0(α·f, curv), with learnable α ≤ 1.

    α is stored as log α, initialised to 1/√dim so ‖α·f‖ ≈ 1 for features of norm ≈ √dim, and clamped to
    α ≤ 1 (log α ≤ 0) at every forward: α can only shrink features (spec §4.4, §5.3).
    """

    def __init__(self, dim: int, learn_alpha: bool = True) -> None:
        super().__init__()
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self.log_alpha = nn.Parameter(torch.tensor(-0.5 * math.log(dim)), requires_grad=learn_alpha)

    @property
    def alpha(self) -> Tensor:
        """Current scale α = exp(log α), after the cap."""
        return self.log_alpha.detach().clamp(max=0.0).exp()

    def tangent(self, features: Tensor) -> Tensor:
        """Tangent vector v = α·f at the origin, in float32 or higher; monitor ‖v‖ (exp0 saturates at 11.09/√c)."""
        _clamp_log_(self.log_alpha, None, 0.0)
        features = features.to(torch.promote_types(features.dtype, torch.float32))
        return features * self.log_alpha.exp()

    def forward(self, features: Tensor, curv: float | Tensor) -> Tensor:
        """Space components of the lifted points, same shape as ``features``."""
        return exp_map0(self.tangent(features), curv=curv)


class LearnableCurvature(nn.Module):
    """Curvature magnitude c > 0 (the hyperboloid has curvature -c), stored as log c and clamped to a range.

    MERU's defaults: c0 = 1 in [0.1, 10], learnable. Expect c to pin at its floor (meru #4, spec §10 row 6)
    and report it next to every result.
    """

    def __init__(
        self, init: float = 1.0, min_curv: float = 0.1, max_curv: float = 10.0, learn: bool = True
    ) -> None:
        super().__init__()
        if not 0 < min_curv <= init <= max_curv:
            raise ValueError(f"need 0 < min_curv <= init <= max_curv, got {min_curv}, {init}, {max_curv}")
        self.min_log = math.log(min_curv)
        self.max_log = math.log(max_curv)
        self.log_curv = nn.Parameter(torch.tensor(math.log(init)), requires_grad=learn)

    def forward(self) -> Tensor:
        """The current curvature c as a 0-d tensor, after clamping log c into range."""
        _clamp_log_(self.log_curv, self.min_log, self.max_log)
        return self.log_curv.exp()

    def extra_repr(self) -> str:
        """Shows the range and current value."""
        curv = math.exp(float(self.log_curv.detach()))
        return f"curv={curv:.4g}, range=[{math.exp(self.min_log):.4g}, {math.exp(self.max_log):.4g}]"


class LogitScale(nn.Module):
    """Contrastive logit scale s = 1/temperature, stored as log s (init log(1/0.07)) and capped at 100."""

    def __init__(
        self, init: float = 1.0 / DEFAULT_TEMPERATURE, max_scale: float = DEFAULT_MAX_LOGIT_SCALE
    ) -> None:
        super().__init__()
        if not 0 < init <= max_scale:
            raise ValueError(f"need 0 < init <= max_scale, got {init}, {max_scale}")
        self.max_log = math.log(max_scale)
        self.log_scale = nn.Parameter(torch.tensor(math.log(init)))

    def forward(self) -> Tensor:
        """The current logit scale as a 0-d tensor, after capping log s at log(max_scale)."""
        _clamp_log_(self.log_scale, None, self.max_log)
        return self.log_scale.exp()
