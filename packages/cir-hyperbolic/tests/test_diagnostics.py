"""hyperbolic_diagnostics on configurations whose answers are known (spec §10 rows 5-9)."""

from __future__ import annotations

import math

import torch

from cir_hyperbolic import exp_map0, hyperbolic_diagnostics


def on_ray(radii: list[float], curv: float) -> torch.Tensor:
    return exp_map0(torch.tensor(radii)[:, None] * torch.tensor([[1.0, 0.0]]) / math.sqrt(curv), curv=curv)


def test_hierarchy_respected():
    stats = hyperbolic_diagnostics(on_ray([3.0, 4.0], 0.5), on_ray([1.0, 2.0], 0.5), curv=0.5)
    assert math.isclose(stats["curv"], 0.5, rel_tol=1e-6)
    assert stats["cone_violation_rate"] == 0.0 and stats["text_closer_fraction"] == 1.0
    assert math.isclose(stats["dist0_image_mean"], 3.5 / math.sqrt(0.5), rel_tol=1e-5)
    assert math.isclose(stats["dist0_text_mean"], 1.5 / math.sqrt(0.5), rel_tol=1e-5)
    assert stats["apex_saturated_fraction"] == 0.0 and stats["exp0_saturated_fraction"] == 0.0


def test_failures_are_counted():
    curv = torch.tensor(2.0, requires_grad=True)
    stats = hyperbolic_diagnostics(on_ray([1.0, 15.0], 2.0), on_ray([0.1, 2.0], 2.0), curv=curv)
    assert stats["cone_violation_rate"] == 0.0  # a saturated apex (ω = π/2) still contains what lies beyond
    assert stats["apex_saturated_fraction"] == 0.5  # √c·d = 0.1 < asinh(0.2)
    assert stats["exp0_saturated_fraction"] == 0.25  # √c·‖v‖ = 15 is past 11.09
    swapped = hyperbolic_diagnostics(on_ray([1.0, 2.0], 2.0), on_ray([3.0, 4.0], 2.0), curv=2.0)
    assert swapped["cone_violation_rate"] == 1.0 and swapped["text_closer_fraction"] == 0.0
