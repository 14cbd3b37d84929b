"""geoopt-style property tests across seeds, curvatures and dtypes, without geoopt (spec §9.4)."""

from __future__ import annotations

import pytest
import torch

from cir_hyperbolic import lorentz as L

SEEDS = range(30, 40)  # geoopt's grid: k = seed - 29, curv = 1/k
TOL = {torch.float32: 1e-4, torch.float64: 1e-10}


@pytest.fixture(params=[torch.float32, torch.float64], ids=["fp32", "fp64"])
def dtype(request: pytest.FixtureRequest) -> torch.dtype:
    return request.param


def sample(seed: int, dtype: torch.dtype, n: int = 16, dim: int = 5) -> tuple[float, torch.Tensor, torch.Tensor]:
    """curv and two batches of random points (projected random space vectors)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=gen, dtype=torch.float64).to(dtype)
    y = 2.0 * torch.randn(n, dim, generator=gen, dtype=torch.float64).to(dtype)
    return 1.0 / (seed - 29), x, y


@pytest.mark.parametrize("seed", SEEDS)
def test_points_on_manifold_and_round_trips(seed, dtype):
    curv, x, _ = sample(seed, dtype)
    tol = TOL[dtype]
    self_inner = L.inner(x.double(), x.double(), curv=curv)  # every space vector is a point: ⟨x,x⟩_L = -1/c
    torch.testing.assert_close(self_inner, torch.full_like(self_inner, -1 / curv), rtol=1e-12, atol=1e-9)
    tangent = L.log_map0(x, curv=curv)
    torch.testing.assert_close(torch.linalg.vector_norm(tangent, dim=-1), L.dist0(x, curv=curv), rtol=tol, atol=tol)
    torch.testing.assert_close(L.exp_map0(tangent, curv=curv), x, rtol=tol, atol=tol)
    assert torch.equal(L.from_geoopt(L.to_geoopt(x, curv=curv)), x)
    assert torch.equal(L.tangent0_from_geoopt(L.tangent0_to_geoopt(tangent)), tangent)


@pytest.mark.parametrize("seed", SEEDS)
def test_geodesic_to_origin_has_unit_speed(seed, dtype):
    curv, x, _ = sample(seed, dtype)
    path = L.geodesic_lerp0(x, curv=curv, num_steps=5)
    fractions = torch.linspace(1, 0, 5, dtype=dtype)[:, None]
    expected = (1 - fractions) * L.dist0(x, curv=curv)
    tol = TOL[dtype]
    torch.testing.assert_close(L.dist(path, x.expand_as(path), curv=curv), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("seed", SEEDS)
def test_distance_is_a_metric_and_angles_are_bounded(seed, dtype):
    curv, x, y = sample(seed, dtype)
    d = L.pairwise_dist(x, y, curv=curv, stable=True)
    assert torch.equal(d, L.pairwise_dist(y, x, curv=curv, stable=True).T)
    assert (d > 0).all()
    z = torch.roll(y, 1, 0)
    triangle = L.dist(x, y, curv=curv) + L.dist(y, z, curv=curv) - L.dist(x, z, curv=curv)
    assert triangle.min() > -TOL[dtype]
    angles = L.pairwise_oxy_angle(x, y, curv=curv)
    assert ((angles >= 0) & (angles <= torch.pi)).all()
    omega = L.half_aperture(x, curv=curv)
    assert ((omega > 0) & (omega < torch.pi / 2)).all()
    inside = L.in_cone(x, y, curv=curv)
    assert torch.equal(inside, L.oxy_angle(x, y, curv=curv) <= omega)
