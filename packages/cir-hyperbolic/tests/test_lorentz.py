"""Closed-form checks of spec §11 (rows 1-15) for cir_hyperbolic.lorentz, over curvatures and dtypes."""

from __future__ import annotations

import math

import pytest
import torch

from cir_hyperbolic import lorentz as L

# (rtol, atol) per dtype for quantities of order 1/√curv; spec §11 reports 1e-15 (fp64) and ~1e-6 (fp32).
TOL = {torch.float32: (2e-5, 2e-6), torch.float64: (1e-12, 1e-12)}
# Margin the asin/acos clamps leave at 0, π/2 and π: √(2·BOUNDARY_EPS) (1.4e-3 fp32, 1.4e-6 fp64).
ANGLE_FLOOR = {torch.float32: 2e-3, torch.float64: 2e-6}


def close(actual: torch.Tensor, expected: torch.Tensor, dtype: torch.dtype, scale: float = 1.0) -> None:
    """Asserts closeness with the dtype's tolerance, absolute part scaled (e.g. by 1/√curv)."""
    rtol, atol = TOL[dtype]
    torch.testing.assert_close(actual.double(), expected.double(), rtol=rtol, atol=atol * scale)


def acosh_dist(x: torch.Tensor, y: torch.Tensor, curv: float) -> torch.Tensor:
    """Independent reference: acosh(-c⟨x,y⟩_L)/√c from ambient coordinates, in float64."""
    x, y = x.double(), y.double()
    x_t = torch.sqrt(1 / curv + (x * x).sum(-1))
    y_t = torch.sqrt(1 / curv + (y * y).sum(-1))
    z = -curv * ((x * y).sum(-1) - x_t * y_t)
    return torch.acosh(z.clamp_min(1.0)) / math.sqrt(curv)


# Row 1
def test_distance_to_origin_of_exp_map0_is_tangent_norm(curv, dtype, tangent):
    v = tangent(64, 8, curv, dtype, low=0.01, high=5.0)
    x = L.exp_map0(v, curv=curv)
    norm = torch.linalg.vector_norm(v.double(), dim=-1)
    close(L.dist0(x, curv=curv), norm, dtype, 1 / math.sqrt(curv))
    close(L.dist(torch.zeros_like(x), x, curv=curv), norm, dtype, 1 / math.sqrt(curv))


# Row 2
def test_exp_map0_space_norm_is_sinh(curv, dtype, tangent):
    v = tangent(64, 8, curv, dtype, low=1e-4, high=10.0)
    x = L.exp_map0(v, curv=curv)
    r = math.sqrt(curv) * torch.linalg.vector_norm(v.double(), dim=-1)
    expected = torch.sinh(r) / math.sqrt(curv)
    torch.testing.assert_close(torch.linalg.vector_norm(x.double(), dim=-1), expected, rtol=TOL[dtype][0], atol=0)


# Row 3
def test_log_map0_inverts_exp_map0_below_cap(curv, dtype, tangent):
    v = tangent(64, 8, curv, dtype, low=1e-5, high=10.0)
    close(L.log_map0(L.exp_map0(v, curv=curv), curv=curv), v, dtype, 1 / math.sqrt(curv))


def test_exp_map0_saturates_silently_past_cap(curv, tangent):
    v = tangent(8, 4, curv, torch.float64, low=12.0, high=20.0).requires_grad_()
    x = L.exp_map0(v, curv=curv)
    cap = L.EXP_MAP0_MAX_RADIUS / math.sqrt(curv)
    torch.testing.assert_close(L.dist0(x, curv=curv), torch.full((8,), cap, dtype=torch.float64))
    torch.testing.assert_close(torch.linalg.vector_norm(L.log_map0(x, curv=curv), dim=-1), L.dist0(x, curv=curv))
    (grad,) = torch.autograd.grad(L.dist0(x, curv=curv).sum(), v)
    assert grad.abs().max() < 1e-9  # the radial gradient is 0: information is lost (spec §3.2)


# Row 4
@pytest.mark.parametrize("a, b", [(0.0, 1.0), (0.5, 0.5), (1.0, 1.001), (2.0, 5.0), (4.75, 5.0), (0.1, 10.0)])
def test_distance_along_one_ray(curv, dtype, unit_pair, a, b):
    u, _ = unit_pair(0.0)
    x = L.exp_map0((a / math.sqrt(curv) * u).to(dtype), curv=curv)
    y = L.exp_map0((b / math.sqrt(curv) * u).to(dtype), curv=curv)
    expected = torch.tensor(abs(a - b) / math.sqrt(curv), dtype=torch.float64)
    close(L.dist(x, y, curv=curv), expected, dtype, 1 / math.sqrt(curv))
    close(L.dist(y, x, curv=curv), expected, dtype, 1 / math.sqrt(curv))


# Row 5
@pytest.mark.parametrize("theta", [math.pi / 6, math.pi / 2, 2 * math.pi / 3, math.pi])
@pytest.mark.parametrize("a, b", [(0.3, 0.7), (1.0, 2.5), (3.0, 0.2)])
def test_law_of_cosines_at_origin(curv, unit_pair, theta, a, b):
    u, w = unit_pair(theta)
    sc = math.sqrt(curv)
    x = L.exp_map0(a / sc * u, curv=curv)
    y = L.exp_map0(b / sc * w, curv=curv)
    rhs = math.cosh(a) * math.cosh(b) - math.sinh(a) * math.sinh(b) * math.cos(theta)
    torch.testing.assert_close(torch.cosh(sc * L.dist(x, y, curv=curv)).item(), rhs, rtol=1e-12, atol=0)


# Row 6
def test_curvature_scaling(curv, dtype, tangent):
    v, w = tangent(32, 8, curv, dtype, seed=1), tangent(32, 8, curv, dtype, seed=2)
    sc = math.sqrt(curv)
    d_c = L.dist(L.exp_map0(v, curv=curv), L.exp_map0(w, curv=curv), curv=curv)
    d_1 = L.dist(L.exp_map0(sc * v, curv=1.0), L.exp_map0(sc * w, curv=1.0), curv=1.0)
    close(d_c, d_1 / sc, dtype, 1 / sc)


# Row 7
def test_metric_axioms_on_fifty_points(curv, tangent):
    x = L.exp_map0(tangent(50, 6, curv, torch.float64, seed=3), curv=curv)
    d = L.pairwise_dist(x, x, curv=curv, stable=True)
    assert torch.equal(d, d.T)
    assert torch.equal(d.diagonal(), torch.zeros(50, dtype=torch.float64))
    slack = d.unsqueeze(2) + d.unsqueeze(0) - d.unsqueeze(1)  # d(i,j) + d(j,k) - d(i,k)
    assert slack.min() >= -1e-12 / math.sqrt(curv)
    assert L.pairwise_dist(x, x, curv=curv).diagonal().max() < 1e-6  # matmul form: no eps floor of 1.4e-4


# Row 8
def test_orthogonal_maps_preserve_distance_and_angles(curv, dtype, tangent):
    x = L.exp_map0(tangent(32, 6, curv, dtype, seed=4, low=0.5), curv=curv)
    y = L.exp_map0(tangent(32, 6, curv, dtype, seed=5), curv=curv)
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=torch.Generator().manual_seed(6), dtype=torch.float64))
    q = q.to(dtype)
    close(L.dist(x @ q, y @ q, curv=curv), L.dist(x, y, curv=curv), dtype, 1 / math.sqrt(curv))
    close(L.oxy_angle(x @ q, y @ q, curv=curv), L.oxy_angle(x, y, curv=curv), dtype, 10.0)
    close(L.half_aperture(x @ q, curv=curv), L.half_aperture(x, curv=curv), dtype)


# Row 9
def test_euclidean_limit_is_first_order_in_curvature(unit_pair):
    u, w = unit_pair(1.0)
    u, w = 0.8 * u, 1.2 * w
    euclid = torch.linalg.vector_norm(u - w)

    def gap(c: float) -> float:
        d = L.dist(L.exp_map0(u, curv=c), L.exp_map0(w, curv=c), curv=c)
        return float(d / euclid - 1)

    gaps = [gap(c) for c in (1e-2, 1e-4, 1e-6)]
    assert abs(gaps[2]) < 1e-5  # spec: 7.5e-7 at c = 1e-6
    assert 50 < gaps[0] / gaps[1] < 200 and 50 < gaps[1] / gaps[2] < 200  # O(c)


# Row 10
def test_half_aperture_closed_form(curv, dtype, unit_pair):
    u, _ = unit_pair(0.0)
    sc = math.sqrt(curv)
    saturation = math.asinh(2 * L.DEFAULT_MIN_RADIUS)
    radii = torch.tensor([1.05 * saturation, 0.5, 1.0, 2.0, 5.0], dtype=torch.float64)
    x = L.exp_map0((radii[:, None] / sc * u).to(dtype), curv=curv)
    expected = torch.asin(2 * L.DEFAULT_MIN_RADIUS / torch.sinh(radii))
    close(L.half_aperture(x, curv=curv), expected, dtype, 5.0)
    inside = torch.tensor([0.0, 0.1, 0.5, 1.0], dtype=torch.float64) * saturation
    omega_inside = L.half_aperture(L.exp_map0((inside[:, None] / sc * u).to(dtype), curv=curv), curv=curv)
    assert (math.pi / 2 - omega_inside).abs().max() <= ANGLE_FLOOR[dtype]
    far = L.half_aperture(L.exp_map0((torch.tensor([[10.0]]) / sc * u).to(dtype), curv=curv), curv=curv)
    assert far.item() < 2e-5  # → 0 as r → ∞: asin(0.2/sinh 10) = 1.8e-5
    omegas = L.half_aperture(x, curv=curv)
    assert torch.all(omegas[1:] < omegas[:-1])


def tangent_space_angle(x: torch.Tensor, y: torch.Tensor, curv: float) -> torch.Tensor:
    """Independent reference for ext(x, y): angle at x between log_x(y) and the outward direction (fp64)."""

    def ambient(p: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.sqrt(1 / curv + (p * p).sum(-1, keepdim=True)), p], dim=-1)

    def minkowski(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a[..., 1:] * b[..., 1:]).sum(-1) - a[..., 0] * b[..., 0]

    big_x, big_y = ambient(x.double()), ambient(y.double())
    origin = torch.zeros_like(big_x)
    origin[..., 0] = 1 / math.sqrt(curv)
    toward_y = big_y + curv * minkowski(big_x, big_y).unsqueeze(-1) * big_x
    outward = -(origin + curv * minkowski(big_x, origin).unsqueeze(-1) * big_x)
    cosine = minkowski(toward_y, outward) / torch.sqrt(minkowski(toward_y, toward_y) * minkowski(outward, outward))
    return torch.acos(cosine.clamp(-1, 1))


# Row 11
def test_exterior_angle_special_cases_and_reference(curv, dtype, unit_pair, tangent):
    u, _ = unit_pair(0.0)
    sc = math.sqrt(curv)
    near = L.exp_map0((1.0 / sc * u).to(dtype), curv=curv)
    far = L.exp_map0((2.5 / sc * u).to(dtype), curv=curv)
    assert L.oxy_angle(near, far, curv=curv).item() <= ANGLE_FLOOR[dtype]  # beyond x on the ray: 0
    assert math.pi - L.oxy_angle(far, near, curv=curv).item() <= ANGLE_FLOOR[dtype]  # between O and x: π
    x = L.exp_map0(tangent(64, 5, curv, dtype, seed=7, low=0.5), curv=curv)
    y = L.exp_map0(tangent(64, 5, curv, dtype, seed=8), curv=curv)
    atol = {torch.float32: 1e-4, torch.float64: 1e-9}[dtype]
    torch.testing.assert_close(
        L.oxy_angle(x, y, curv=curv).double(), tangent_space_angle(x, y, curv), rtol=0, atol=atol
    )
    pairwise = L.pairwise_oxy_angle(x[:4], y[:3], curv=curv)
    torch.testing.assert_close(pairwise, L.oxy_angle(x[:4, None], y[None, :3], curv=curv))


# Row 12
def test_distance_to_origin_forms_agree(curv, dtype, tangent):
    x = L.exp_map0(tangent(64, 8, curv, dtype, seed=9, low=0.1, high=8.0), curv=curv)
    x_t = L.time_component(x, curv=curv).double()
    close(L.dist0(x, curv=curv), torch.acosh(math.sqrt(curv) * x_t) / math.sqrt(curv), dtype, 1 / math.sqrt(curv))


# Row 13
def test_stable_distance_equals_acosh_form(curv, tangent):
    x = L.exp_map0(tangent(64, 8, curv, torch.float64, seed=10), curv=curv)
    y = L.exp_map0(tangent(64, 8, curv, torch.float64, seed=11), curv=curv)
    torch.testing.assert_close(L.dist(x, y, curv=curv), acosh_dist(x, y, curv), rtol=1e-12, atol=1e-12)
    pairwise = L.pairwise_dist(x, y, curv=curv)
    torch.testing.assert_close(pairwise, acosh_dist(x[:, None], y[None], curv), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("radius", [1.0, 5.0, 10.0])
def test_self_distance_is_zero_in_fp32(curv, tangent, radius):
    x = L.exp_map0(tangent(16, 8, curv, torch.float32, low=radius, high=radius), curv=curv)
    assert torch.equal(L.dist(x, x, curv=curv), torch.zeros(16))
    assert torch.equal(L.pairwise_dist(x, x, curv=curv, stable=True).diagonal(), torch.zeros(16))


def test_small_distances_far_from_origin_in_fp32(curv, tangent):
    base = tangent(32, 8, curv, torch.float64, seed=12, low=5.0, high=5.0)
    gen = torch.Generator().manual_seed(13)
    step = torch.nn.functional.normalize(torch.randn(32, 8, generator=gen, dtype=torch.float64), dim=-1)
    x64 = L.exp_map0(base, curv=curv)
    y64 = L.exp_map0(base + 1e-3 * step / math.sqrt(curv), curv=curv)
    x32, y32 = x64.float(), y64.float()  # fp32 storage is the only rounding before the distance
    reference = L.dist(x32.double(), y32.double(), curv=curv)
    relative = (L.dist(x32, y32, curv=curv).double() - reference).abs() / reference
    assert relative.max() < 1e-3  # spec §4.1: the acosh form is off by 4,300% here


# Row 14
@pytest.mark.parametrize("dtype_", [torch.float32, torch.float64], ids=["fp32", "fp64"])
def test_gradients_at_origin(curv, dtype_):
    origin = torch.zeros(5, dtype=dtype_, requires_grad=True)
    jacobian = torch.autograd.functional.jacobian(lambda v: L.exp_map0(v, curv=curv), origin)
    torch.testing.assert_close(jacobian, torch.eye(5, dtype=dtype_))
    jacobian = torch.autograd.functional.jacobian(lambda x: L.log_map0(x, curv=curv), origin)
    torch.testing.assert_close(jacobian, torch.eye(5, dtype=dtype_))
    for value in (
        L.dist0(origin, curv=curv),
        L.dist(origin, origin, curv=curv),
        L.pairwise_dist(origin[None], origin[None], curv=curv).sum(),
    ):
        (grad,) = torch.autograd.grad(value, origin)
        assert torch.isfinite(grad).all()


# Row 15
def test_fp32_matches_fp64_on_random_batches(curv, tangent):
    for seed in range(5):
        x64 = L.exp_map0(tangent(48, 16, curv, torch.float64, seed=2 * seed, high=3.0), curv=curv)
        y64 = L.exp_map0(tangent(48, 16, curv, torch.float64, seed=2 * seed + 1, high=3.0), curv=curv)
        reference = L.pairwise_dist(x64, y64, curv=curv, stable=True)
        stable = L.pairwise_dist(x64.float(), y64.float(), curv=curv, stable=True)
        assert (stable.double() - reference).abs().max() < 2e-5
        matmul = L.pairwise_dist(x64.float(), y64.float(), curv=curv)
        apart = reference > 0.25 / math.sqrt(curv)  # the matmul form cancels for near pairs (spec §4.1)
        assert (matmul.double() - reference)[apart].abs().max() < 2e-5


def test_inner_products(curv, dtype, tangent):
    x = L.exp_map0(tangent(8, 4, curv, dtype, seed=14), curv=curv)
    y = L.exp_map0(tangent(6, 4, curv, dtype, seed=15), curv=curv)
    close(L.inner(x, x, curv=curv), torch.full((8,), -1 / curv, dtype=torch.float64), dtype, 1e3 / curv)
    close(L.pairwise_inner(x, y, curv=curv), L.inner(x[:, None], y[None], curv=curv), dtype, 1e2 / curv)
    assert (L.pairwise_inner(x, y, curv=curv) <= -1 / curv + 1e-4 / curv).all()
    x_t = L.time_component(x, curv=curv)
    close(x_t, torch.sqrt(1 / curv + (x.double() ** 2).sum(-1)), dtype, 1 / math.sqrt(curv))


def test_geodesic_lerp0_walks_to_origin_at_unit_speed(curv, dtype, tangent):
    x = L.exp_map0(tangent(3, 4, curv, dtype, seed=16, low=1.0, high=4.0), curv=curv)
    path = L.geodesic_lerp0(x, curv=curv, num_steps=11)
    assert path.shape == (11, 3, 4)
    close(path[0], x, dtype, 1 / math.sqrt(curv))
    assert torch.equal(path[-1], torch.zeros_like(x))
    fractions = torch.linspace(1, 0, 11, dtype=torch.float64)[:, None]
    total = L.dist0(x, curv=curv).double()
    close(L.dist(path, x.expand_as(path), curv=curv), (1 - fractions) * total, dtype, 10 / math.sqrt(curv))
    close(L.dist0(path, curv=curv), fractions * total, dtype, 10 / math.sqrt(curv))


def test_in_cone_matches_angle_and_aperture(curv, unit_pair):
    u, w = unit_pair(0.3)
    sc = math.sqrt(curv)
    apex = L.exp_map0(1.0 / sc * u, curv=curv)
    beyond = L.exp_map0(2.0 / sc * u, curv=curv)
    sideways = L.exp_map0(2.0 / sc * w, curv=curv)
    assert L.in_cone(apex, beyond, curv=curv)
    assert not L.in_cone(apex, sideways, curv=curv)
    angle = L.oxy_angle(apex, sideways, curv=curv)
    omega = L.half_aperture(apex, curv=curv)
    multiplier = float(angle / omega) * 1.01
    assert L.in_cone(apex, sideways, curv=curv, cone_multiplier=multiplier)


def test_tensor_curvature_receives_gradients(tangent):
    x = tangent(8, 4, 1.0, torch.float64, seed=17)
    y = tangent(8, 4, 1.0, torch.float64, seed=18)
    log_curv = torch.tensor(math.log(0.7), dtype=torch.float64, requires_grad=True)

    def total(log_c: torch.Tensor) -> torch.Tensor:
        c = log_c.exp()
        px, py = L.exp_map0(x, curv=c), L.exp_map0(y, curv=c)
        return L.dist(px, py, curv=c).sum() + L.oxy_angle(px, py, curv=c).sum() + L.half_aperture(px, curv=c).sum()

    assert torch.autograd.gradcheck(total, (log_curv,))
