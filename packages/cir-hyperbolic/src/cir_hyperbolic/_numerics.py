"""Numerical guards shared by the Lorentz functions: the fp32 compute guard and dtype-aware floors.

Why each floor exists is stated next to it; ``specs/hyperbolic.md`` §4 has the measurements behind them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import ParamSpec, TypeVar, cast

import torch
from torch import Tensor

P = ParamSpec("P")
R = TypeVar("R")

Curvature = float | Tensor
"""A positive curvature magnitude ``curv``: a Python number or a 0-d (possibly learnable) tensor."""

LOW_PRECISION_DTYPES = (torch.float16, torch.bfloat16)
"""Dtypes that are upcast to float32: in bf16 a point's distance to itself is 0.35 (spec §4.3)."""

# Margin kept between asin/acos arguments and ±1. MERU's 1e-8 rounds away in fp32 (the ulp just below 1 is
# 6e-8, spec §4.2), leaving infinite derivatives at the endpoints; 1e-6 keeps them ≤ ~710 in fp32.
BOUNDARY_EPS: Mapping[torch.dtype, float] = {torch.float32: 1e-6, torch.float64: 1e-12}

# Squared lengths at or below this give an exact 0 from `safe_sqrt`, with zero gradient instead of inf·0.
# It lies below the square of any resolvable length, and 1/(2·sqrt(floor)) stays far from overflow.
SQRT_FLOOR: Mapping[torch.dtype, float] = {torch.float32: 1e-30, torch.float64: 1e-200}

# Below this radius sinh(r)/r and asinh(r)/r switch to their Taylor series (error r⁶/5040 < one ulp), so
# the origin has a finite value and the exact identity Jacobian instead of 0/0.
SERIES_RADIUS: Mapping[torch.dtype, float] = {torch.float32: 1e-3, torch.float64: 1e-4}

# Denominators of the exterior-angle cosine below this mark a degenerate pair (y == x or x at O): the cosine
# is set to 0 with zero gradient. 1/floor bounds the gradient of near-degenerate pairs without overflow.
ANGLE_DENOM_FLOOR: Mapping[torch.dtype, float] = {torch.float32: 1e-15, torch.float64: 1e-100}


def dtype_eps(table: Mapping[torch.dtype, float], dtype: torch.dtype) -> float:
    """Returns the table's value for a compute dtype (float32 or float64)."""
    try:
        return table[dtype]
    except KeyError:
        raise TypeError(f"Lorentz maths runs in float32 or float64, got {dtype}") from None


def _upcast(value: object, where: str) -> object:
    """Upcasts fp16/bf16 tensors to float32; rejects non-floating tensors."""
    if not isinstance(value, Tensor):
        return value
    if value.dtype in LOW_PRECISION_DTYPES:
        return value.float()
    if not value.is_floating_point():
        raise TypeError(f"cir_hyperbolic.{where}: expected a floating tensor, got {value.dtype}")
    return value


def float_math(fn: Callable[P, R]) -> Callable[P, R]:
    """Runs ``fn`` with fp16/bf16 tensor arguments upcast to float32 and autocast off on CPU and CUDA.

    torch ignores an fp32 autocast region on CPU (it only warns, spec §4.3), so the guard disables autocast
    for both device types and casts explicitly; results of low-precision inputs come back in float32.
    """
    plain = cast(Callable[..., R], fn)

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        name = fn.__name__
        cast_args = [_upcast(a, name) for a in args]
        cast_kwargs = {key: _upcast(value, name) for key, value in kwargs.items()}
        with torch.autocast("cpu", enabled=False), torch.autocast("cuda", enabled=False):
            return plain(*cast_args, **cast_kwargs)

    return wrapper


def as_curv(curv: Curvature, like: Tensor) -> Tensor:
    """Returns ``curv`` as a 0-d tensor on ``like``'s device and dtype, keeping its autograd graph."""
    if isinstance(curv, Tensor):
        if curv.ndim != 0:
            raise ValueError(f"curv must be a float or a 0-d tensor, got shape {tuple(curv.shape)}")
        return curv.to(device=like.device, dtype=like.dtype)
    if not curv > 0:
        raise ValueError(f"curv must be > 0 (the hyperboloid has curvature -curv), got {curv}")
    return torch.tensor(float(curv), device=like.device, dtype=like.dtype)


def safe_sqrt(value: Tensor) -> Tensor:
    """sqrt(value) that is exactly 0, with zero gradient, at or below the dtype's `SQRT_FLOOR`."""
    positive = value > dtype_eps(SQRT_FLOOR, value.dtype)
    return torch.where(positive, torch.sqrt(torch.where(positive, value, torch.ones_like(value))), 0.0)


def sq_norm(x: Tensor) -> Tensor:
    """Squared Euclidean norm over the last dimension."""
    return x.pow(2).sum(dim=-1)
