"""A tiny two-tower MERU trained on CPU: contrastive accuracy rises and the entailment loss falls to ~0.

Synthetic pairs with a clear hierarchy: the "text" of a class is its prototype vector (coarse), an "image" is
the prototype plus noise (specific). Both towers are small MLPs lifted with LorentzLift onto a hyperboloid of
learnable curvature, trained with MERU's loss L_con + 0.2·L_ent and AdamW on param_groups.
"""

from __future__ import annotations

import torch
from torch import nn

from cir_hyperbolic import (
    DEFAULT_ENTAIL_WEIGHT,
    LearnableCurvature,
    LogitScale,
    LorentzLift,
    entailment_loss,
    hyperbolic_contrastive_loss,
    hyperbolic_diagnostics,
    pairwise_dist,
    param_groups,
)

NUM_CLASSES, INPUT_DIM, EMBED_DIM, NOISE = 16, 12, 8, 0.6


class Tower(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(INPUT_DIM, 32), nn.ReLU(), nn.Linear(32, EMBED_DIM))
        self.lift = LorentzLift(EMBED_DIM)

    def forward(self, inputs: torch.Tensor, curv: torch.Tensor) -> torch.Tensor:
        return self.lift(self.net(inputs), curv=curv)


class TwoTower(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.image, self.text = Tower(), Tower()
        self.curv, self.logit_scale = LearnableCurvature(), LogitScale()


def evaluate(model: TwoTower, prototypes: torch.Tensor, labels: torch.Tensor, images: torch.Tensor) -> dict:
    with torch.no_grad():
        curv = model.curv()
        image_points = model.image(images, curv)
        text_points = model.text(prototypes, curv)
        nearest = pairwise_dist(image_points, text_points, curv=curv).argmin(dim=1)
        stats = hyperbolic_diagnostics(image_points, text_points[labels], curv=curv)
        stats["accuracy"] = (nearest == labels).float().mean().item()
        stats["entailment"] = entailment_loss(text_points[labels], image_points, curv=curv).item()
    return stats


def test_two_tower_toy_learns_hierarchy():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    prototypes = 2.0 * torch.randn(NUM_CLASSES, INPUT_DIM, generator=gen)
    eval_labels = torch.arange(NUM_CLASSES).repeat(4)
    eval_images = prototypes[eval_labels] + NOISE * torch.randn(len(eval_labels), INPUT_DIM, generator=gen)
    model = TwoTower()
    optimizer = torch.optim.AdamW(param_groups(model, weight_decay=0.01), lr=5e-3)
    before = evaluate(model, prototypes, eval_labels, eval_images)
    for _ in range(400):
        order = torch.randperm(NUM_CLASSES, generator=gen)
        images = prototypes[order] + NOISE * torch.randn(NUM_CLASSES, INPUT_DIM, generator=gen)
        curv = model.curv()
        image_points, text_points = model.image(images, curv), model.text(prototypes[order], curv)
        loss = hyperbolic_contrastive_loss(image_points, text_points, curv=curv, logit_scale=model.logit_scale())
        loss = loss + DEFAULT_ENTAIL_WEIGHT * entailment_loss(text_points, image_points, curv=curv)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = evaluate(model, prototypes, eval_labels, eval_images)
    assert before["accuracy"] < 0.3 and before["entailment"] > 1.0
    assert after["accuracy"] >= 0.95
    assert after["entailment"] < 0.05
    assert after["text_closer_fraction"] >= 0.9  # texts end up nearer the origin than their images
    assert after["cone_violation_rate"] < 0.3
    assert 0.1 <= after["curv"] <= 10.0
