"""Contrastive and entailment losses against hand computations (spec §5.4, §6)."""

from __future__ import annotations

import math

import pytest
import torch

from cir_hyperbolic import (
    DEFAULT_ENTAIL_WEIGHT,
    HYCOCLIP_INTER_CONE_MULTIPLIER,
    HYCOCLIP_INTRA_CONE_MULTIPLIER,
    dist,
    entailment_loss,
    exp_map0,
    half_aperture,
    hycoclip_contrastive_loss,
    hycoclip_entailment_loss,
    hyperbolic_contrastive_loss,
    oxy_angle,
)


def points(seed: int, n: int = 4, dim: int = 3, scale: float = 1.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return exp_map0(scale * torch.randn(n, dim, generator=gen, dtype=torch.float64), curv=0.5)


def test_contrastive_loss_matches_hand_computation():
    image, text = points(0, n=2), points(1, n=2)
    scale = 3.0
    d = [[float(dist(image[i], text[j], curv=0.5)) for j in range(2)] for i in range(2)]

    def ce(row: list[float], target: int) -> float:
        logits = [-scale * value for value in row]
        return -logits[target] + math.log(sum(math.exp(v) for v in logits))

    image_side = (ce(d[0], 0) + ce(d[1], 1)) / 2
    text_side = (ce([d[0][0], d[1][0]], 0) + ce([d[0][1], d[1][1]], 1)) / 2
    expected = 0.5 * (image_side + text_side)
    loss = hyperbolic_contrastive_loss(image, text, curv=0.5, logit_scale=scale)
    assert math.isclose(float(loss), expected, rel_tol=1e-10)


def test_contrastive_loss_limits():
    same = points(2, n=1).expand(5, 3)
    loss = hyperbolic_contrastive_loss(same, same, curv=0.5, logit_scale=torch.tensor(10.0))
    assert math.isclose(float(loss), math.log(5), rel_tol=1e-9)  # all logits equal
    spread = points(3, n=5, scale=5.0)
    assert float(hyperbolic_contrastive_loss(spread, spread, curv=0.5, logit_scale=100.0)) < 1e-6


def test_contrastive_loss_gradients_and_low_precision():
    image = points(4).float().requires_grad_()
    text = points(5).float().requires_grad_()
    scale = torch.tensor(14.3, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = hyperbolic_contrastive_loss(image.bfloat16(), text, curv=1.0, logit_scale=scale)
    assert loss.dtype == torch.float32
    loss.backward()
    assert all(torch.isfinite(t.grad).all() for t in (image, text, scale))
    with pytest.raises(ValueError, match="same shape"):
        hyperbolic_contrastive_loss(image[:3], text, curv=1.0, logit_scale=1.0)


def ray_points(radii: list[float], curv: float, direction: int = 0) -> torch.Tensor:
    unit = torch.zeros(3, dtype=torch.float64)
    unit[direction] = 1.0
    return exp_map0(torch.tensor(radii, dtype=torch.float64)[:, None] * unit / math.sqrt(curv), curv=curv)


@pytest.mark.parametrize("curv", [0.1, 1.0, 10.0])
def test_entailment_loss_zero_inside_and_exact_outside(curv):
    general = ray_points([1.0, 1.5], curv)
    inside = ray_points([2.0, 3.0], curv)
    assert float(entailment_loss(general, inside, curv=curv)) < 1e-5  # on the ray beyond: ext ≈ 0
    behind = ray_points([0.5, 0.5], curv)  # between O and the apex: ext = π
    expected = (math.pi - half_aperture(general, curv=curv)).mean()
    assert math.isclose(float(entailment_loss(general, behind, curv=curv)), float(expected), abs_tol=1e-5)


def test_entailment_cone_multiplier():
    general = ray_points([1.0, 1.0], 1.0)
    specific = torch.cat([ray_points([2.0], 1.0, direction=1), ray_points([3.0], 1.0, direction=2)])
    angle = oxy_angle(general, specific, curv=1.0)
    omega = half_aperture(general, curv=1.0)
    assert math.isclose(float(entailment_loss(general, specific, curv=1.0, cone_multiplier=0.0)), float(angle.mean()))
    narrow = entailment_loss(general, specific, curv=1.0, cone_multiplier=0.7)
    assert math.isclose(float(narrow), float((angle - 0.7 * omega).clamp_min(0).mean()), rel_tol=1e-12)
    wide = float((angle / omega).max()) * 1.01
    assert float(entailment_loss(general, specific, curv=1.0, cone_multiplier=wide)) == 0.0


def test_hycoclip_losses_are_averages_of_their_terms():
    image, text, box_image, box_text = (points(seed, n=3) for seed in (6, 7, 8, 9))
    expected = 0.5 * sum(
        float(entailment_loss(g, s, curv=0.5, cone_multiplier=eta))
        for g, s, eta in (
            (text, image, HYCOCLIP_INTER_CONE_MULTIPLIER),
            (box_text, box_image, HYCOCLIP_INTER_CONE_MULTIPLIER),
            (box_image, image, HYCOCLIP_INTRA_CONE_MULTIPLIER),
            (box_text, text, HYCOCLIP_INTRA_CONE_MULTIPLIER),
        )
    )
    loss = hycoclip_entailment_loss(image, text, box_image, box_text, curv=0.5)
    assert math.isclose(float(loss), expected, rel_tol=1e-12)
    both = hycoclip_contrastive_loss(image, text, image, text, curv=0.5, logit_scale=5.0)
    meru = hyperbolic_contrastive_loss(image, text, curv=0.5, logit_scale=5.0)
    assert math.isclose(float(both), float(meru), rel_tol=1e-12)  # boxes equal to the full pair: MERU's loss
    assert (HYCOCLIP_INTER_CONE_MULTIPLIER, HYCOCLIP_INTRA_CONE_MULTIPLIER, DEFAULT_ENTAIL_WEIGHT) == (0.7, 1.2, 0.2)
