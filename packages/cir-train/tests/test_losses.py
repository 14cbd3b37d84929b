"""Losses against closed forms (single process: gathering is the identity)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from cir_train.losses import (
    ClipLoss,
    CosineClassifier,
    clip_contrastive_loss,
    lincir_loss,
    lincir_noise,
    normface_loss,
    query_target_infonce,
)


def test_clip_loss_on_orthonormal_pairs() -> None:
    # Matched rows are identical unit vectors, others orthogonal: each row's CE is log(1 + (B-1)·e^{-s}).
    emb = torch.eye(3)
    scale = 5.0
    expected = math.log(1 + 2 * math.exp(-scale))
    assert clip_contrastive_loss(emb, emb, scale).item() == pytest.approx(expected, rel=1e-6)


def test_clip_loss_is_symmetric_in_its_two_sides() -> None:
    generator = torch.Generator().manual_seed(0)
    image = F.normalize(torch.randn(5, 4, generator=generator), dim=-1)
    text = F.normalize(torch.randn(5, 4, generator=generator), dim=-1)
    logits = 10.0 * image @ text.T
    labels = torch.arange(5)
    expected = 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
    assert clip_contrastive_loss(image, text, 10.0).item() == pytest.approx(expected.item(), rel=1e-6)
    assert clip_contrastive_loss(text, image, 10.0).item() == pytest.approx(expected.item(), rel=1e-6)


def test_clip_loss_scale_starts_at_one_over_0_07_and_is_capped_at_100() -> None:
    loss = ClipLoss()
    assert loss.logit_scale().item() == pytest.approx(1 / 0.07, rel=1e-6)
    with torch.no_grad():
        loss.logit_scale.log_scale.fill_(math.log(1000.0))
    assert loss.logit_scale().item() == pytest.approx(100.0, rel=1e-6)
    emb = torch.eye(2)
    assert loss(emb, emb).item() == pytest.approx(math.log(1 + math.exp(-100.0)), abs=1e-12)


def test_query_target_infonce_uses_temperature_0_01_one_direction() -> None:
    query = torch.tensor([[0.6, 0.8], [0.6, 0.8]])
    target = torch.eye(2)
    # logits = 100 * q · t: both rows (60, 80); row 0's positive scores 60, row 1's scores 80.
    expected = 0.5 * (math.log(1 + math.exp(20)) + math.log(1 + math.exp(-20)))
    assert query_target_infonce(query, target).item() == pytest.approx(expected, rel=1e-6)
    # Reversed roles give a different value: the loss has no target -> query term.
    assert query_target_infonce(target, query).item() == pytest.approx(math.log(2), rel=1e-6)


def test_lincir_noise_scales_a_standard_normal_by_one_uniform_per_sample() -> None:
    z = torch.zeros(200, 4096)
    noisy = lincir_noise(z, generator=torch.Generator().manual_seed(0))
    per_sample_std = noisy.std(dim=1)
    # alpha ~ U(0, 1) per row: row stds spread over (0, 1) with mean 1/2; within a row the noise is N(0, alpha^2).
    assert per_sample_std.min() > 0 and per_sample_std.max() < 1.05
    assert per_sample_std.mean().item() == pytest.approx(0.5, abs=0.06)
    again = lincir_noise(z, generator=torch.Generator().manual_seed(0))
    assert torch.equal(noisy, again)


def test_lincir_loss_is_float32_mse() -> None:
    predicted = torch.tensor([[1.0, 2.0]], dtype=torch.float16)
    target = torch.tensor([[0.0, 0.0]])
    loss = lincir_loss(predicted, target)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(2.5)


def test_cosine_classifier_and_normface_at_scale_16() -> None:
    classifier = CosineClassifier(dim=2, num_classes=2)
    with torch.no_grad():
        classifier.weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 3.0]]))  # norms do not matter
    embedding = torch.tensor([[3.0, 4.0]])
    logits = classifier(embedding)
    assert torch.allclose(logits, torch.tensor([[0.6, 0.8]]))
    expected = math.log(1 + math.exp(16 * (0.6 - 0.8)))  # CE for label 1
    assert normface_loss(logits, torch.tensor([1])).item() == pytest.approx(expected, rel=1e-6)


def test_cosine_classifier_init_is_lecun_uniform() -> None:
    torch.manual_seed(0)
    weight = CosineClassifier(dim=48, num_classes=4000).weight
    bound = math.sqrt(3 / 48)
    assert weight.abs().max() <= bound
    assert weight.var().item() == pytest.approx(1 / 48, rel=0.05)  # var of U(-b, b) is b^2 / 3 = 1 / fan_in


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="clip_contrastive_loss"):
        clip_contrastive_loss(torch.zeros(2, 3), torch.zeros(3, 3), 1.0)
