"""Gradient finiteness at the edge cases, gradchecks, low-precision guards and input errors (spec §4, §10)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

from cir_hyperbolic import lorentz as L

Case = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]

FUNCTIONS: dict[str, Case] = {
    "time_component": lambda x, y, c: L.time_component(x, curv=c),
    "inner": lambda x, y, c: L.inner(x, y, curv=c),
    "pairwise_inner": lambda x, y, c: L.pairwise_inner(x, y, curv=c),
    "dist": lambda x, y, c: L.dist(x, y, curv=c),
    "pairwise_dist": lambda x, y, c: L.pairwise_dist(x, y, curv=c),
    "pairwise_dist_stable": lambda x, y, c: L.pairwise_dist(x, y, curv=c, stable=True),
    "dist0": lambda x, y, c: L.dist0(x, curv=c),
    "exp_map0": lambda x, y, c: L.exp_map0(x, curv=c),
    "log_map0": lambda x, y, c: L.log_map0(x, curv=c),
    "half_aperture": lambda x, y, c: L.half_aperture(x, curv=c),
    "oxy_angle": lambda x, y, c: L.oxy_angle(x, y, curv=c),
    "oxy_angle_reversed": lambda x, y, c: L.oxy_angle(y, x, curv=c),
    "pairwise_oxy_angle": lambda x, y, c: L.pairwise_oxy_angle(x, y, curv=c),
}


def edge_points(case: str, curv: float) -> tuple[torch.Tensor, torch.Tensor]:
    """fp32 (x, y) batches for one edge case: origin, zero distance, large norms, saturation."""
    gen = torch.Generator().manual_seed(0)
    direction = torch.nn.functional.normalize(torch.randn(4, 6, generator=gen), dim=-1)
    sc = math.sqrt(curv)
    if case == "origin":
        return torch.zeros(4, 6), torch.zeros(4, 6)
    if case == "origin_and_point":
        return torch.zeros(4, 6), L.exp_map0(direction / sc, curv=curv)
    if case == "zero_distance":
        x = L.exp_map0(2.0 * direction / sc, curv=curv)
        return x, x.clone()
    if case == "large_norm":
        x = L.exp_map0(10.0 * direction / sc, curv=curv)
        y = L.exp_map0(10.0 * direction.roll(1, 0) / sc, curv=curv)
        return x, y
    if case == "large_norm_zero_distance":
        x = L.exp_map0(10.0 * direction / sc, curv=curv)
        return x, x.clone()
    if case == "saturation_boundary":  # √c‖x‖ = 2K exactly: the edge of ω's saturation
        x = 2 * L.DEFAULT_MIN_RADIUS * direction / sc
        return x, L.exp_map0(3.0 * direction / sc, curv=curv)
    raise ValueError(case)


EDGE_CASES = (
    "origin",
    "origin_and_point",
    "zero_distance",
    "large_norm",
    "large_norm_zero_distance",
    "saturation_boundary",
)


@pytest.mark.parametrize("case", EDGE_CASES)
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("curv", [0.1, 1.0, 10.0])
def test_values_and_gradients_are_finite_in_fp32(name, case, curv):
    x, y = edge_points(case, curv)
    x.requires_grad_()
    y.requires_grad_()
    log_curv = torch.tensor(math.log(curv), requires_grad=True)
    value = FUNCTIONS[name](x, y, log_curv.exp())
    assert torch.isfinite(value).all()
    grads = torch.autograd.grad(value.sum(), (x, y, log_curv), allow_unused=True)
    for grad in grads:
        assert grad is None or torch.isfinite(grad).all()


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_gradients_match_finite_differences(name):
    gen = torch.Generator().manual_seed(1)
    x = L.exp_map0(torch.randn(3, 4, generator=gen, dtype=torch.float64), curv=0.7).requires_grad_()
    y = L.exp_map0(torch.randn(3, 4, generator=gen, dtype=torch.float64), curv=0.7).requires_grad_()
    log_curv = torch.tensor(math.log(0.7), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b, k: FUNCTIONS[name](a, b, k.exp()), (x, y, log_curv))


def test_large_norm_self_distance_below_threshold_in_fp32():
    direction = torch.nn.functional.normalize(torch.randn(16, 32, generator=torch.Generator().manual_seed(2)), dim=-1)
    for curv in (0.1, 1.0, 10.0):
        x = L.exp_map0(10.0 * direction / math.sqrt(curv), curv=curv)
        assert L.dist(x, x, curv=curv).max() < 1e-3
        assert L.pairwise_dist(x, x, curv=curv, stable=True).diagonal().max() < 1e-3


@pytest.mark.parametrize("low", [torch.float16, torch.bfloat16], ids=["fp16", "bf16"])
def test_low_precision_inputs_are_computed_in_fp32(low):
    gen = torch.Generator().manual_seed(3)
    v = torch.randn(8, 16, generator=gen) / 4  # ‖v‖ ≈ 1, as MERU's α arranges
    x = L.exp_map0(v.to(low), curv=1.0)
    assert x.dtype == torch.float32
    x_low = x.to(low)
    assert L.dist(x_low, x_low, curv=1.0).dtype == torch.float32
    assert torch.equal(L.dist(x_low, x_low, curv=1.0), torch.zeros(8))  # 0.35 if computed in bf16
    assert L.pairwise_dist(x_low, x_low, curv=1.0).diagonal().max() < 1e-3
    expected = L.pairwise_dist(x_low.double(), x_low.double(), curv=1.0, stable=True)
    stable = L.pairwise_dist(x_low, x_low, curv=1.0, stable=True)
    torch.testing.assert_close(stable.double(), expected, rtol=0, atol=2e-5)
    curv = torch.tensor(0.5, dtype=low)
    assert L.dist0(x_low, curv=curv).dtype == torch.float32


def test_autocast_is_disabled_on_cpu():
    gen = torch.Generator().manual_seed(4)
    x = L.exp_map0(torch.randn(32, 64, generator=gen), curv=1.0)
    y = L.exp_map0(torch.randn(32, 64, generator=gen), curv=1.0)
    plain = L.pairwise_dist(x, y, curv=1.0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert (x @ y.T).dtype == torch.bfloat16  # autocast is really on
        guarded = L.pairwise_dist(x, y, curv=1.0)
    assert guarded.dtype == torch.float32
    assert torch.equal(guarded, plain)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_autocast_is_disabled_on_cuda():
    gen = torch.Generator().manual_seed(5)
    x = L.exp_map0(torch.randn(32, 64, generator=gen), curv=1.0).cuda()
    plain = L.pairwise_dist(x, x, curv=1.0)
    with torch.autocast("cuda", dtype=torch.float16):
        guarded = L.pairwise_dist(x, x, curv=1.0)
        half = L.dist(x.half(), x.half(), curv=1.0)
    assert guarded.dtype == torch.float32 and half.dtype == torch.float32
    torch.testing.assert_close(guarded, plain)
    assert torch.equal(half, torch.zeros_like(half))


def test_invalid_inputs_are_rejected():
    x = torch.zeros(2, 3)
    with pytest.raises(TypeError, match="dist: expected a floating tensor"):
        L.dist(torch.zeros(2, 3, dtype=torch.int64), x, curv=1.0)
    with pytest.raises(ValueError, match="curv must be > 0"):
        L.dist(x, x, curv=0.0)
    with pytest.raises(ValueError, match="curv must be > 0"):
        L.dist0(x, curv=-1.0)
    with pytest.raises(ValueError, match="0-d tensor"):
        L.dist0(x, curv=torch.ones(2))
    with pytest.raises(ValueError, match="min_radius"):
        L.half_aperture(x, curv=1.0, min_radius=0.0)
    with pytest.raises(ValueError, match="num_steps"):
        L.geodesic_lerp0(x, curv=1.0, num_steps=1)
