"""geoopt as an independent oracle through the converters, and geoopt-style property tests (spec §9.4, §12).

geoopt's ``half_aperture`` is not used as an oracle: it is wrong for k != 1 (spec §9.3).
"""

from __future__ import annotations

import math

import pytest
import torch

from cir_hyperbolic import lorentz as L

geoopt = pytest.importorskip("geoopt")
gmath = pytest.importorskip("geoopt.manifolds.lorentz.math")

SEEDS = range(30, 40)  # geoopt's grid: k = seed - 29, so curv = 1/k covers 1 ... 0.1
TOL = {torch.float32: dict(rtol=1e-4, atol=1e-4), torch.float64: dict(rtol=1e-10, atol=1e-10)}


def sample(seed: int, dtype: torch.dtype, n: int = 16, dim: int = 5) -> tuple[float, torch.Tensor, torch.Tensor]:
    """curv and two batches of random points (projected random space vectors, as in geoopt's tests)."""
    curv = 1.0 / (seed - 29)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=gen, dtype=torch.float64).to(dtype)
    y = 2.0 * torch.randn(n, dim, generator=gen, dtype=torch.float64).to(dtype)
    return curv, x, y


@pytest.fixture(params=[torch.float32, torch.float64], ids=["fp32", "fp64"])
def dtype(request: pytest.FixtureRequest) -> torch.dtype:
    return request.param


@pytest.mark.parametrize("seed", SEEDS)
def test_converted_points_lie_on_geoopt_manifold(seed, dtype):
    curv, x, _ = sample(seed, dtype)
    k = torch.tensor(L.geoopt_k(curv), dtype=dtype)
    ambient = L.to_geoopt(x, curv=curv)
    assert geoopt.Lorentz(k=k).check_point_on_manifold(ambient, atol=1e-5 * float(k), rtol=1e-5)
    torch.testing.assert_close(gmath.inner(ambient, ambient), -k.expand(x.shape[0]), **TOL[dtype])
    assert torch.equal(L.from_geoopt(ambient), x)


@pytest.mark.parametrize("seed", SEEDS)
def test_distances_and_inner_products_match_geoopt(seed, dtype):
    curv, x, y = sample(seed, dtype)
    k = torch.tensor(L.geoopt_k(curv), dtype=dtype)
    gx, gy = L.to_geoopt(x, curv=curv), L.to_geoopt(y, curv=curv)
    torch.testing.assert_close(L.inner(x, y, curv=curv), gmath.inner(gx, gy), **TOL[dtype])
    torch.testing.assert_close(L.dist(x, y, curv=curv), gmath.dist(gx, gy, k=k), **TOL[dtype])
    torch.testing.assert_close(L.dist0(x, curv=curv), gmath.dist0(gx, k=k), **TOL[dtype])
    torch.testing.assert_close(L.pairwise_dist(x, y, curv=curv), gmath.dist(gx[:, None], gy[None], k=k), **TOL[dtype])


@pytest.mark.parametrize("seed", SEEDS)
def test_maps_at_origin_match_geoopt(seed, dtype):
    curv, v, _ = sample(seed, dtype)
    k = torch.tensor(L.geoopt_k(curv), dtype=dtype)
    ours = L.exp_map0(v, curv=curv)
    theirs = gmath.expmap0(L.tangent0_to_geoopt(v), k=k)
    torch.testing.assert_close(ours, L.from_geoopt(theirs), **TOL[dtype])
    tangent = gmath.logmap0(L.to_geoopt(ours, curv=curv), k=k)
    torch.testing.assert_close(L.log_map0(ours, curv=curv), L.tangent0_from_geoopt(tangent), **TOL[dtype])
    assert tangent[..., 0].abs().max() < 1e-3  # tangent at geoopt's origin: time part 0


@pytest.mark.parametrize("seed", SEEDS)
def test_poincare_round_trip_through_converters(seed, dtype):
    curv, x, _ = sample(seed, dtype)
    k = torch.tensor(L.geoopt_k(curv), dtype=dtype)
    ball = gmath.lorentz_to_poincare(L.to_geoopt(x, curv=curv), k=k)
    back = L.from_geoopt(gmath.poincare_to_lorentz(ball, k=k, eps=0.0))
    torch.testing.assert_close(back, x, rtol=1e-4 if dtype == torch.float32 else 1e-9, atol=1e-4)


def test_geoopt_k_is_reciprocal_curvature():
    assert L.geoopt_k(0.1) == pytest.approx(10.0)
    curv = torch.tensor(4.0, requires_grad=True)
    k = L.geoopt_k(curv)
    assert isinstance(k, torch.Tensor) and k.requires_grad and math.isclose(float(k.detach()), 0.25)
