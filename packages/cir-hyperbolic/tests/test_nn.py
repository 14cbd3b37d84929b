"""LorentzLift, LearnableCurvature and LogitScale: initial values, in-place clamps, gradients (spec §5.3)."""

from __future__ import annotations

import math

import pytest
import torch

from cir_hyperbolic import LearnableCurvature, LogitScale, LorentzLift, dist0, exp_map0


def test_lift_initialises_alpha_and_lifts_with_exp_map0():
    lift = LorentzLift(64)
    assert math.isclose(float(lift.alpha), 1 / 8)
    features = torch.randn(5, 64, generator=torch.Generator().manual_seed(0))
    points = lift(features, curv=0.5)
    torch.testing.assert_close(points, exp_map0(features / 8, curv=0.5))
    torch.testing.assert_close(dist0(points, curv=0.5), features.norm(dim=-1) / 8)


def test_lift_caps_alpha_at_one_and_keeps_gradient():
    lift = LorentzLift(4)
    with torch.no_grad():
        lift.log_alpha.fill_(0.7)
    features = torch.ones(2, 4)
    points = lift(features, curv=1.0)
    assert lift.log_alpha.item() == 0.0  # clamped in place, like MERU's `.data` clamp
    torch.testing.assert_close(points, exp_map0(features, curv=1.0))
    dist0(points, curv=1.0).sum().backward()
    assert lift.log_alpha.grad is not None and lift.log_alpha.grad.item() > 0  # can still move off the bound


def test_lift_upcasts_low_precision_features():
    lift = LorentzLift(8)
    features = torch.randn(3, 8).to(torch.bfloat16)
    assert lift.tangent(features).dtype == torch.float32
    assert lift(features, curv=1.0).dtype == torch.float32


def test_lift_can_freeze_alpha():
    assert not LorentzLift(8, learn_alpha=False).log_alpha.requires_grad
    with pytest.raises(ValueError, match="dim"):
        LorentzLift(0)


def test_curvature_initial_value_and_clamp():
    curvature = LearnableCurvature()
    assert math.isclose(curvature().item(), 1.0)
    with torch.no_grad():
        curvature.log_curv.fill_(math.log(0.01))
    assert math.isclose(curvature().item(), 0.1, rel_tol=1e-6)
    with torch.no_grad():
        curvature.log_curv.fill_(math.log(50.0))
    assert math.isclose(curvature().item(), 10.0, rel_tol=1e-6)
    assert "curv=10" in repr(curvature)


def test_curvature_gradient_and_freeze():
    curvature = LearnableCurvature(init=0.5)
    x = exp_map0(torch.ones(2, 3), curv=curvature())
    dist0(x, curv=curvature()).sum().backward()
    assert curvature.log_curv.grad is not None and torch.isfinite(curvature.log_curv.grad)
    frozen = LearnableCurvature(learn=False)
    assert not frozen.log_curv.requires_grad
    with pytest.raises(ValueError, match="min_curv"):
        LearnableCurvature(init=20.0)


def test_logit_scale_initial_value_and_cap():
    scale = LogitScale()
    assert math.isclose(scale.log_scale.item(), math.log(1 / 0.07), rel_tol=1e-6)
    assert math.isclose(scale.log_scale.item(), 2.659, abs_tol=1e-3)
    with torch.no_grad():
        scale.log_scale.fill_(10.0)
    assert math.isclose(scale().item(), 100.0, rel_tol=1e-5)
    assert math.isclose(scale.log_scale.item(), 4.6052, abs_tol=1e-4)
    with pytest.raises(ValueError, match="max_scale"):
        LogitScale(init=200.0)
