"""Training diagnostics for the silent failures of MERU-style models (spec §4.4-§4.5, §10 rows 5-9, §12)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._numerics import Curvature, as_curv, float_math
from .lorentz import DEFAULT_MIN_RADIUS, EXP_MAP0_MAX_RADIUS, dist0, in_cone

__all__ = ["hyperbolic_diagnostics"]

_SATURATION_MARGIN = 1e-3
"""Radii within this of the exp_map0 cap (in units of √c·d) count as saturated: fp32 rounding stays below it."""


@float_math
@torch.no_grad()
def hyperbolic_diagnostics(
    image: Tensor, text: Tensor, curv: Curvature, min_radius: float = DEFAULT_MIN_RADIUS
) -> dict[str, float]:
    """Scalars to log beside every result, for paired (B, D) image and text points.

    - ``curv``: c, which tends to pin at its floor (meru #4);
    - ``dist0_image_mean`` / ``dist0_text_mean``: mean d(O, ·); texts should end up nearer the origin;
    - ``text_closer_fraction``: fraction of pairs with d(O, text) < d(O, image);
    - ``cone_violation_rate``: fraction of images outside their text's cone;
    - ``apex_saturated_fraction``: texts inside the ω = π/2 radius asinh(2K)/√c, where cones give no gradient;
    - ``exp0_saturated_fraction``: points at exp_map0's cap √c·‖v‖ = 11.09, where radius information is lost.
    """
    c = as_curv(curv, image).detach()
    sqrt_c = float(torch.sqrt(c))
    image_radius = dist0(image, curv=c)
    text_radius = dist0(text, curv=c)
    both = torch.cat([image_radius, text_radius])
    saturation_radius = math.asinh(2.0 * min_radius) / sqrt_c
    cap = (EXP_MAP0_MAX_RADIUS - _SATURATION_MARGIN) / sqrt_c
    inside = in_cone(text, image, curv=c, min_radius=min_radius)
    return {
        "curv": float(c),
        "dist0_image_mean": float(image_radius.mean()),
        "dist0_text_mean": float(text_radius.mean()),
        "text_closer_fraction": float((text_radius < image_radius).float().mean()),
        "cone_violation_rate": float((~inside).float().mean()),
        "apex_saturated_fraction": float((text_radius <= saturation_radius).float().mean()),
        "exp0_saturated_fraction": float((both >= cap).float().mean()),
    }
