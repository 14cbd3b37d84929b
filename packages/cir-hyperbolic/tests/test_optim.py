"""param_groups really excludes norms, biases and the scalars from weight decay (spec §5.5, §10 rows 10-11)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cir_hyperbolic import LearnableCurvature, LogitScale, LorentzLift, param_groups


class TinyMeru(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 4, bias=False))
        self.curv_projection = nn.Linear(4, 4, bias=False)  # its name contains "curv": a substring trap
        self.lift = LorentzLift(4)
        self.curv = LearnableCurvature(init=0.5)
        self.logit_scale = LogitScale()
        self.temperature_like = nn.Parameter(torch.tensor(1.0))
        self.frozen = nn.Linear(2, 2)
        self.frozen.requires_grad_(False)


def step_with_zero_gradients(model: nn.Module, groups: list[dict], lr: float = 0.1) -> dict[str, torch.Tensor]:
    """One AdamW step with zero gradients: only weight decay moves parameters, by the factor 1 - lr·wd."""
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    torch.optim.AdamW(groups, lr=lr).step()
    return {name: p.detach() / before[name] for name, p in model.named_parameters() if before[name].abs().min() > 0}


def test_groups_by_identity():
    model = TinyMeru()
    groups = {g["name"]: g for g in param_groups(model, weight_decay=0.2, no_decay=[model.temperature_like])}
    ids = {name: {id(p) for p in g["params"]} for name, g in groups.items()}
    assert ids["no_decay"] == {
        id(p) for p in (model.lift.log_alpha, model.curv.log_curv, model.logit_scale.log_scale, model.temperature_like)
    }
    norm = model.encoder[1]
    assert ids["gain_bias"] == {id(model.encoder[0].bias), id(norm.weight), id(norm.bias)}
    assert ids["decay"] == {id(model.encoder[0].weight), id(model.encoder[2].weight), id(model.curv_projection.weight)}
    assert groups["gain_bias"]["weight_decay"] == 0.0 and groups["no_decay"]["weight_decay"] == 0.0
    assert all(id(p) not in set().union(*ids.values()) for p in model.frozen.parameters())


def test_adamw_step_decays_only_weights():
    model = TinyMeru()
    with torch.no_grad():
        model.encoder[1].weight.fill_(1.5)
        model.encoder[1].bias.fill_(0.5)
        model.encoder[0].bias.fill_(0.25)
    ratios = step_with_zero_gradients(model, param_groups(model, weight_decay=0.2, no_decay=[model.temperature_like]))
    decayed = 1 - 0.1 * 0.2
    for name in ("encoder.0.weight", "encoder.2.weight", "curv_projection.weight"):
        torch.testing.assert_close(ratios[name], torch.full_like(ratios[name], decayed))
    for name in ("encoder.0.bias", "encoder.1.weight", "encoder.1.bias", "lift.log_alpha", "curv.log_curv",
                 "logit_scale.log_scale", "temperature_like"):
        assert torch.equal(ratios[name], torch.ones_like(ratios[name])), name


def test_faithful_mode_reproduces_the_gain_bias_fallback():
    model = TinyMeru()
    with torch.no_grad():
        model.encoder[1].weight.fill_(1.5)
    groups = {g["name"]: g for g in param_groups(model, weight_decay=0.2, gain_bias_decay=0.0, faithful=True)}
    assert groups["gain_bias"]["weight_decay"] == 0.2  # meru/optim.py: `gain_bias_decay or weight_decay`
    assert groups["no_decay"]["weight_decay"] == 0.0
    ratios = step_with_zero_gradients(model, list(groups.values()))
    assert torch.allclose(ratios["encoder.1.weight"], torch.tensor(1 - 0.1 * 0.2))
    explicit = {g["name"]: g for g in param_groups(model, weight_decay=0.2, gain_bias_decay=0.05, faithful=True)}
    assert explicit["gain_bias"]["weight_decay"] == 0.05


@pytest.mark.parametrize("faithful", [False, True])
def test_every_trainable_parameter_appears_once(faithful):
    model = TinyMeru()
    listed = [p for g in param_groups(model, 0.2, faithful=faithful) for p in g["params"]]
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert len(listed) == len({id(p) for p in listed}) == len(trainable)
