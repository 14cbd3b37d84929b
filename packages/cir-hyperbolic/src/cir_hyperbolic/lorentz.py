r"""Lorentz-model (hyperboloid) operations on space components, in numerically stable float32/float64.

Convention (stated once here; every function refers to it):

- ``curv`` = c > 0 is the curvature *magnitude*: points lie on the hyperboloid of sectional curvature **-c**,
  :math:`-x_t^2 + \lVert x_s\rVert^2 = -1/c`, :math:`x_t > 0`. ``curv`` is a float or a 0-d tensor
  (learnable: gradients flow into it).
- Points are stored as **space components only**, shape ``(..., D)``; the time component
  :math:`x_t = \sqrt{1/c + \lVert x_s\rVert^2}` is recomputed on every use, so points never drift off the
  manifold. The origin O is ``x_s = 0``. Tangent vectors at O are also given by their D space components.
- Lorentzian inner product :math:`\langle x, y\rangle_L = \langle x_s, y_s\rangle - x_t y_t`; distance
  :math:`d = \operatorname{acosh}(-c\langle x, y\rangle_L)/\sqrt{c}`.
- Row-wise functions reduce the last dimension and broadcast the leading ones; ``pairwise_*`` functions take
  ``(..., B1, D)`` and ``(..., B2, D)`` and return ``(..., B1, B2)``.
- Maths runs in float32 or float64 with autocast disabled on CPU and CUDA; float16/bfloat16 inputs are
  upcast and the result is float32 (spec §4.3: in bf16 a point's distance to itself is 0.35).
- geoopt's ``Lorentz(k)`` uses k = 1/curv and full ambient vectors with time first; convert only through
  :func:`to_geoopt` / :func:`from_geoopt` / :func:`geoopt_k` (spec §2, §9.3: mixing the two broke geoopt's
  own ``half_aperture``).

Sources: MERU, Desai et al., "Hyperbolic Image-Text Representations", arXiv 2304.09172
(facebookresearch/meru ``meru/lorentz.py``); HyCoCLIP, Pal et al., "Compositional Entailment Learning for
Hyperbolic Vision-Language Models", arXiv 2410.06912 (PalAvik/hycoclip ``hycoclip/lorentz.py``). Names follow
MERU; formulas are re-derived, not copied. Stable forms and why: ``specs/hyperbolic.md`` §2-§4 and §11-§12.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._numerics import (
    ANGLE_DENOM_FLOOR,
    BOUNDARY_EPS,
    SERIES_RADIUS,
    Curvature,
    as_curv,
    dtype_eps,
    float_math,
    safe_sqrt,
    sq_norm,
)

__all__ = [
    "DEFAULT_MIN_RADIUS",
    "EXP_MAP0_MAX_RADIUS",
    "dist",
    "dist0",
    "exp_map0",
    "from_geoopt",
    "geodesic_lerp0",
    "geoopt_k",
    "half_aperture",
    "in_cone",
    "inner",
    "log_map0",
    "oxy_angle",
    "pairwise_dist",
    "pairwise_inner",
    "pairwise_oxy_angle",
    "tangent0_from_geoopt",
    "tangent0_to_geoopt",
    "time_component",
    "to_geoopt",
]

EXP_MAP0_MAX_RADIUS = math.asinh(2.0**15)
"""MERU's cap on √c·‖v‖ in :func:`exp_map0` (11.09): ‖x_s‖ ≤ 32768/√c fits fp16; beyond it the radius
freezes silently (spec §3.2, §4.4), so monitor ‖v‖."""

DEFAULT_MIN_RADIUS = 0.1
"""MERU's cone constant K (``min_radius``): ω saturates at π/2 for d(O, x) ≤ asinh(2K)/√c (spec §3.2)."""


@float_math
def time_component(x: Tensor, curv: Curvature) -> Tensor:
    r"""Time component :math:`x_t = \sqrt{1/c + \lVert x_s\rVert^2}`, shape ``(...)``."""
    c = as_curv(curv, x)
    return torch.sqrt(1.0 / c + sq_norm(x))


@float_math
def inner(x: Tensor, y: Tensor, curv: Curvature) -> Tensor:
    r"""Row-wise Lorentzian inner product :math:`\langle x_s, y_s\rangle - x_t y_t` (≤ -1/c), shape ``(...)``."""
    return (x * y).sum(dim=-1) - time_component(x, curv=curv) * time_component(y, curv=curv)


@float_math
def pairwise_inner(x: Tensor, y: Tensor, curv: Curvature) -> Tensor:
    """Lorentzian inner products of all pairs, shape ``(..., B1, B2)``; ranks like -distance, at matmul cost."""
    x_t = time_component(x, curv=curv)
    y_t = time_component(y, curv=curv)
    return x @ y.transpose(-1, -2) - x_t.unsqueeze(-1) * y_t.unsqueeze(-2)


def _unit(x: Tensor, norm: Tensor) -> Tensor:
    """x/‖x‖, and 0 where the norm is 0."""
    nonzero = norm > 0
    return torch.where(nonzero, 1.0 / torch.where(nonzero, norm, torch.ones_like(norm)), 0.0).unsqueeze(-1) * x


def _chord_terms(x: Tensor, y: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    r"""Returns (x_t - y_t, q) with q = ‖x - y‖_L² = ‖x_s - y_s‖² - (x_t - y_t)² ≥ 0, free of cancellation.

    The time difference is (‖x_s‖² - ‖y_s‖²)/(x_t + y_t), its numerator taken as ⟨x_s - y_s, x_s + y_s⟩, so
    it is exactly 0 for y == x (spec §4.1). Subtracting its square from ‖x_s - y_s‖² would still cancel for
    radial neighbours far from O, so q is evaluated as the equal sum of two non-negative terms: with
    ρ = ‖x_s‖ - ‖y_s‖ and κ = (‖x_s‖ + ‖y_s‖)/(x_t + y_t),
    q = ρ²(1 + κ²)/(c(x_t y_t + ‖x_s‖‖y_s‖)) + ‖x_s‖‖y_s‖·‖x_s/‖x_s‖ - y_s/‖y_s‖‖² (radial + angular part).
    """
    x_t = torch.sqrt(1.0 / c + sq_norm(x))
    y_t = torch.sqrt(1.0 / c + sq_norm(y))
    time_sum = x_t + y_t
    time_diff = ((x - y) * (x + y)).sum(dim=-1) / time_sum
    x_norm = safe_sqrt(sq_norm(x))
    y_norm = safe_sqrt(sq_norm(y))
    norm_product = x_norm * y_norm
    kappa = (x_norm + y_norm) / time_sum
    radial = (x_norm - y_norm).pow(2) * (1.0 + kappa.pow(2)) / (c * (x_t * y_t + norm_product))
    angular = norm_product * sq_norm(_unit(x, x_norm) - _unit(y, y_norm))
    return time_diff, radial + angular


@float_math
def dist(x: Tensor, y: Tensor, curv: Curvature) -> Tensor:
    r"""Row-wise geodesic distance, shape ``(...)``, by the stable form (2/√c)·asinh(½√c·‖x - y‖_L).

    Equals acosh(-c⟨x,y⟩_L)/√c (to 3e-14 in fp64) but gives exactly 0 for d(x, x) in fp32 even at
    √c‖v‖ = 10, where the acosh form gives 3.46 (spec §4.1). The gradient at y == x is 0.
    """
    c = as_curv(curv, x)
    sqrt_c = torch.sqrt(c)
    _, q = _chord_terms(x, y, c)
    return 2.0 / sqrt_c * torch.asinh(0.5 * sqrt_c * safe_sqrt(q))


def _acosh_at_least_one(z: Tensor) -> Tensor:
    """acosh(max(z, 1)) as log(z + sqrt(z² - 1)) with a finite derivative at z = 1 (spec §3.2, §9.2)."""
    z = torch.clamp_min(z, 1.0)
    return torch.log(z + safe_sqrt((z - 1.0) * (z + 1.0)))


@float_math
def pairwise_dist(x: Tensor, y: Tensor, curv: Curvature, stable: bool = False) -> Tensor:
    """Distances of all pairs, shape ``(..., B1, B2)``.

    The default matmul form acosh(-c⟨x,y⟩_L)/√c costs one matmul but loses small distances to cancellation
    (d(x, x) = 3.46 in fp32 at √c‖v‖ = 10, spec §4.1); ``stable=True`` uses :func:`dist` on an
    ``(..., B1, B2, D)`` broadcast instead. Gradients are finite everywhere, including d(x, x).
    """
    if stable:
        return dist(x.unsqueeze(-2), y.unsqueeze(-3), curv=curv)
    c = as_curv(curv, x)
    return _acosh_at_least_one(-c * pairwise_inner(x, y, curv=c)) / torch.sqrt(c)


@float_math
def dist0(x: Tensor, curv: Curvature) -> Tensor:
    r"""Distance to the origin, :math:`\operatorname{asinh}(\sqrt c\lVert x_s\rVert)/\sqrt c`, shape ``(...)``.

    The asinh form keeps the gradient finite at O, where acosh(√c·x_t) has an infinite derivative (spec §4.2).
    """
    c = as_curv(curv, x)
    sqrt_c = torch.sqrt(c)
    return torch.asinh(sqrt_c * safe_sqrt(sq_norm(x))) / sqrt_c


@float_math
def exp_map0(v: Tensor, curv: Curvature) -> Tensor:
    r"""Exponential map at O of the tangent vector ``v``: space components :math:`\sinh(r)\,v/r`, r = √c‖v‖.

    d(O, exp_map0(v)) = ‖v‖ and ‖x_s‖ = sinh(√c‖v‖)/√c. r is capped at :data:`EXP_MAP0_MAX_RADIUS`
    (MERU's fp16 guard; radial information is lost beyond it). At v = 0 the Jacobian is the identity.
    """
    c = as_curv(curv, v)
    r_sq = c * sq_norm(v)
    series = r_sq <= dtype_eps(SERIES_RADIUS, v.dtype) ** 2
    r = torch.sqrt(torch.where(series, torch.ones_like(r_sq), r_sq))
    scale = torch.where(
        series,
        1.0 + r_sq / 6.0 + r_sq.pow(2) / 120.0,
        torch.sinh(torch.clamp_max(r, EXP_MAP0_MAX_RADIUS)) / r,
    )
    return scale.unsqueeze(-1) * v


@float_math
def log_map0(x: Tensor, curv: Curvature) -> Tensor:
    r"""Logarithmic map at O: the tangent vector :math:`\operatorname{asinh}(s)\,x_s/s`, s = √c‖x_s‖.

    Its norm is d(O, x). The asinh form equals MERU's acosh form but has a finite gradient at O, where MERU's
    gives NaN in fp32 (spec §3.2).
    """
    c = as_curv(curv, x)
    s_sq = c * sq_norm(x)
    series = s_sq <= dtype_eps(SERIES_RADIUS, x.dtype) ** 2
    s = torch.sqrt(torch.where(series, torch.ones_like(s_sq), s_sq))
    scale = torch.where(series, 1.0 - s_sq / 6.0 + 0.075 * s_sq.pow(2), torch.asinh(s) / s)
    return scale.unsqueeze(-1) * x


@float_math
def half_aperture(x: Tensor, curv: Curvature, min_radius: float = DEFAULT_MIN_RADIUS) -> Tensor:
    r"""Half-aperture ω(x) = asin(2K / (√c‖x_s‖)) of the entailment cone at x, in (0, π/2), shape ``(...)``.

    Equivalently asin(2K / sinh(√c·d(O, x))). For √c‖x_s‖ ≤ 2K (d(O, x) ≤ asinh(2K)/√c) ω saturates at
    π/2 - O(√eps) with zero gradient (spec §3.2, §10 row 7). The asin argument is kept ≤ 1 - eps with a
    dtype-aware eps, so the gradient at the saturation boundary is finite.
    """
    if not min_radius > 0:
        raise ValueError(f"min_radius must be > 0, got {min_radius}")
    c = as_curv(curv, x)
    eps = dtype_eps(BOUNDARY_EPS, x.dtype)
    scaled_norm = torch.sqrt(c) * safe_sqrt(sq_norm(x))
    return torch.asin(2.0 * min_radius / torch.clamp_min(scaled_norm, 2.0 * min_radius / (1.0 - eps)))


@float_math
def oxy_angle(x: Tensor, y: Tensor, curv: Curvature) -> Tensor:
    r"""Exterior angle at x of the triangle O-x-y, in [0, π], shape ``(...)``.

    0 for y on the ray O→x beyond x, π for y between O and x. From the hyperbolic law of cosines with
    z = c⟨x,y⟩_L: cos ext = (y_t + z·x_t) / (‖x_s‖·√(z² - 1)); here z and √(z² - 1) come from the stable
    q = ‖x - y‖_L² (z = -1 - cq/2, z² - 1 = cq(1 + cq/4)) instead of from cancelling products. Degenerate pairs
    (y == x, or x at O) get π/2 with zero gradient: MERU's value, but meaningless (spec §3.2, §10 row 8), so
    feed distinct pairs only. MERU's docstring about a √c-scaled time component is wrong (spec §10 row 14).
    """
    c = as_curv(curv, x)
    eps = dtype_eps(BOUNDARY_EPS, x.dtype)
    floor = dtype_eps(ANGLE_DENOM_FLOOR, x.dtype)
    time_diff, q = _chord_terms(x, y, c)
    x_t = torch.sqrt(1.0 / c + sq_norm(x))
    numerator = -time_diff - 0.5 * c * q * x_t
    denominator = safe_sqrt(sq_norm(x)) * torch.sqrt(c) * safe_sqrt(q) * torch.sqrt(1.0 + 0.25 * c * q)
    regular = denominator > floor
    cosine = torch.where(regular, numerator / torch.where(regular, denominator, torch.ones_like(q)), 0.0)
    return torch.acos(torch.clamp(cosine, -1.0 + eps, 1.0 - eps))


@float_math
def pairwise_oxy_angle(x: Tensor, y: Tensor, curv: Curvature) -> Tensor:
    """Exterior angles at each x for each y, shape ``(..., B1, B2)`` (not negated, unlike HyCoCLIP's eval variant).

    Builds an ``(..., B1, B2, D)`` broadcast: memory grows with B1·B2·D.
    """
    return oxy_angle(x.unsqueeze(-2), y.unsqueeze(-3), curv=curv)


@float_math
def in_cone(
    x: Tensor,
    y: Tensor,
    curv: Curvature,
    min_radius: float = DEFAULT_MIN_RADIUS,
    cone_multiplier: float = 1.0,
) -> Tensor:
    """Whether y lies in the entailment cone of x, ext(x, y) ≤ η·ω(x), as a bool tensor of shape ``(...)``.

    ``cone_multiplier`` η widens (> 1) or narrows (< 1) the cone, as in HyCoCLIP (spec §6).
    """
    aperture = cone_multiplier * half_aperture(x, curv=curv, min_radius=min_radius)
    return oxy_angle(x, y, curv=curv) <= aperture


@float_math
def geodesic_lerp0(x: Tensor, curv: Curvature, num_steps: int = 50) -> Tensor:
    """Points on the geodesic from x to O, shape ``(num_steps, ..., D)``; index 0 is x, the last is O.

    exp_map0(t·log_map0(x)) for t = linspace(1, 0, num_steps), as in MERU's image traversals (spec §7.4);
    the point at fraction t has d(O, ·) = t·d(O, x).
    """
    if num_steps < 2:
        raise ValueError(f"num_steps must be >= 2, got {num_steps}")
    tangent = log_map0(x, curv=curv)
    fractions = torch.linspace(1.0, 0.0, num_steps, dtype=tangent.dtype, device=tangent.device)
    fractions = fractions.reshape((num_steps,) + (1,) * tangent.ndim)
    return exp_map0(fractions * tangent, curv=curv)


def geoopt_k(curv: Curvature) -> Curvature:
    """geoopt's ``k`` for our ``curv``: k = 1/curv (geoopt's curvature is -1/k)."""
    return 1.0 / curv


@float_math
def to_geoopt(x: Tensor, curv: Curvature) -> Tensor:
    """Full ambient geoopt point ``(..., D + 1)``, time component first, for ``Lorentz(k=geoopt_k(curv))``."""
    return torch.cat([time_component(x, curv=curv).unsqueeze(-1), x], dim=-1)


def from_geoopt(x: Tensor) -> Tensor:
    """Space components ``(..., D)`` of a geoopt ambient point (drops the leading time coordinate)."""
    return x[..., 1:]


def tangent0_to_geoopt(v: Tensor) -> Tensor:
    """geoopt tangent vector at its origin ``(..., D + 1)`` for our tangent vector v at O (time part 0)."""
    return torch.cat([torch.zeros_like(v[..., :1]), v], dim=-1)


def tangent0_from_geoopt(u: Tensor) -> Tensor:
    """Our tangent vector at O ``(..., D)`` from a geoopt tangent vector at its origin."""
    return u[..., 1:]
