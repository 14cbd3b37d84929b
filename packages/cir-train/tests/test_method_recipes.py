"""The method recipes (meru, lincir, condvit, universal): spec numbers at full scale, tiny runs on the synthetic world.

Each tiny run is seeded, so its loss trajectory is reproducible; the thresholds leave a wide margin.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from cir_data.synth import ExportSettings, iter_items, run_export, write_shards
from cir_hyperbolic.losses import hyperbolic_contrastive_loss
from cir_train import TrainConfig, Trainer, load_config
from cir_train.data import DistributedBatchSampler
from cir_train.losses import meru_contrastive_loss
from cir_train.optim import build_param_groups
from cir_train.recipes import get_recipe
from cir_train.recipes.condvit import condvit_phases
from cir_train.recipes.lincir import LincirCaptions
from cir_train.recipes.universal import UNED_DOMAINS, DomainBatches, read_uned_train, universal_phases

QUIET = ["logging.tensorboard=false", "logging.progress_bar=false", "checkpoint.every_steps=0",
         "checkpoint.save_final=false", "optim.warmup_steps=0"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic world: image–caption shards, an LRVS-F export and a UnED export."""
    root = tmp_path_factory.mktemp("method_world")
    write_shards(iter_items(seed=0, indices=range(64)), root / "shards", total=64, seed=0, samples_per_shard=32,
                 progress=False)
    run_export("lrvsf", ExportSettings(root, seed=0, queries=32, progress=False))
    run_export("uned", ExportSettings(root, seed=0, queries=40, progress=False))
    return root


def _config(name: str, run_dir: Path, data_root: Path, *overrides: str) -> TrainConfig:
    return load_config(overrides=[f"run_dir={run_dir}", f"data.root={data_root}", *QUIET, *overrides],
                       base=get_recipe(name).config("tiny"))


def _train(config: TrainConfig) -> tuple[nn.Module, list[float]]:
    """Build the recipe's parts with a fixed seed, train, and return the trained module and its losses."""
    torch.manual_seed(0)
    parts = get_recipe(config.recipe).build(config)
    trainer = Trainer(config, parts.module, parts.dataset, collate_fn=parts.collate_fn)
    try:
        losses = list(trainer.train().values())
    finally:
        trainer.close()
    return trainer.module, losses


def _snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    return {name: param.detach().clone() for name, param in module.named_parameters()}


def _changed(before: dict[str, torch.Tensor], module: nn.Module) -> set[str]:
    return {name for name, param in module.named_parameters() if not torch.equal(before[name], param.detach())}


def _metrics(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


# -- meru -------------------------------------------------------------------------------------------


def test_meru_full_scale_follows_the_spec() -> None:
    config = get_recipe("meru").config("full")
    assert (config.optim.lr, config.optim.betas, config.optim.weight_decay) == (5e-4, (0.9, 0.98), 0.2)
    assert (config.optim.warmup_steps, config.max_steps, config.optim.schedule) == (4000, 120000, "cosine")
    assert config.data.micro_batch_size * 8 == 2048
    assert config.loss.options["entail_weight"] == 0.2


def test_meru_contrastive_loss_on_one_rank_is_merus_loss() -> None:
    torch.manual_seed(0)
    image, text = torch.randn(6, 5), torch.randn(6, 5)
    expected = hyperbolic_contrastive_loss(image, text, curv=0.7, logit_scale=3.0)
    assert float(meru_contrastive_loss(image, text, curv=0.7, logit_scale=3.0)) == pytest.approx(float(expected))
    # Paired points that are each other's nearest neighbours give a lower loss than shuffled pairs.
    assert float(meru_contrastive_loss(image, image + 0.01, curv=0.7, logit_scale=3.0)) < float(expected)


def test_meru_keeps_only_its_scalars_out_of_weight_decay(world: Path, tmp_path: Path) -> None:
    config = _config("meru", tmp_path, world / "shards")
    torch.manual_seed(0)
    module = get_recipe("meru").build(config).module
    names = {id(p): n for n, p in module.named_parameters()}
    decay = {g["weight_decay"]: {names[id(p)] for p in g["params"]} for g in build_param_groups(module, config.optim)}
    assert decay[0.0] == {"encoder.head.visual_lift.log_alpha", "encoder.head.textual_lift.log_alpha",
                          "encoder.head.curv.log_curv", "encoder.head.logit_scale.log_scale"}
    # Norms and biases are decayed at 0.2, as MERU's code does (specs/hyperbolic.md §5.5).
    assert "encoder.backbone.clip.ln_final.weight" in decay[0.2]
    assert "encoder.backbone.clip.logit_scale" not in set().union(*decay.values())  # open_clip's own, unused


def test_meru_trains_and_logs_curvature(world: Path, tmp_path: Path) -> None:
    config = _config("meru", tmp_path, world / "shards", "max_steps=12", "data.micro_batch_size=16")
    _, losses = _train(config)
    assert np.mean(losses[-3:]) < 0.9 * np.mean(losses[:3])
    records = _metrics(tmp_path)
    curvatures = [r["train/curv"] for r in records]
    assert len(curvatures) == 12 and all(0.1 <= c <= 10.0 for c in curvatures)
    assert curvatures[0] == pytest.approx(1.0) and curvatures[-1] != pytest.approx(1.0, abs=1e-4)  # c is learnt
    assert {"train/contrastive_loss", "train/entailment_loss", "train/logit_scale"} <= set(records[-1])


# -- lincir -----------------------------------------------------------------------------------------


def test_lincir_masks_keyword_runs_with_the_placeholder() -> None:
    random.seed(0)
    sample = LincirCaptions(["A red cube left of a big blue star."])[0]
    assert sample == {"text": "a red cube left of a big blue star.", "masked": "[$] left of [$]."}


class _ConstantToken(nn.Module):
    def __init__(self, token: torch.Tensor) -> None:
        super().__init__()
        self.token = token

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.token.expand(features.shape[0], -1)


def test_lincir_target_is_the_unmasked_caption_embedding(world: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = get_recipe("lincir").build(_config("lincir", tmp_path, world / "shards")).module.eval()
    backbone = module.encoder.backbone
    batch = {"text": ["cube"], "masked": ["[$]"]}
    word = backbone.tokenize(["cube"])[0, 1]  # a single BPE token
    module.encoder.head = _ConstantToken(backbone.token_embeddings(word.view(1, 1))[0].detach())
    # φ writing the masked word's own token embedding at "$" reproduces E_T("cube") exactly: zero loss.
    assert float(module(batch)["loss"]) == pytest.approx(0.0, abs=1e-10)
    assert torch.allclose(module.target(["cube"]), backbone.encode_text(["cube"]))
    # Any other caption as the target gives a positive loss.
    assert float(module({"text": ["star"], "masked": ["[$]"]})["loss"]) > 1e-3


def test_lincir_trains_phi_only_and_its_loss_falls(world: Path, tmp_path: Path) -> None:
    config = _config("lincir", tmp_path, world / "shards", "max_steps=12", "data.micro_batch_size=16")
    torch.manual_seed(0)
    before = _snapshot(get_recipe("lincir").build(config).module)
    module, losses = _train(config)
    assert np.mean(losses[-4:]) < 0.85 * np.mean(losses[:4])
    assert {n.split(".")[1] for n in _changed(before, module)} == {"head"}  # both towers frozen
    assert _metrics(tmp_path)[-1]["train/preproc_rate"] == 1.0


def test_lincir_full_scale_follows_the_spec() -> None:
    config = get_recipe("lincir").config("full")
    assert (config.optim.lr, config.optim.weight_decay, config.optim.schedule) == (1e-4, 0.01, "constant")
    assert (config.max_steps, config.data.micro_batch_size * 8, config.seed) == (20000, 512, 12345)
    assert config.model.model == "ViT-L-14-quickgelu"


# -- condvit ----------------------------------------------------------------------------------------


def test_condvit_full_scale_follows_the_spec() -> None:
    config = get_recipe("condvit").config("full")
    warmup, main = condvit_phases(config)
    assert (warmup.max_steps, main.max_steps) == (756, 29 * 756)  # 272,451 // 180 // 2 steps per epoch
    assert (warmup.optim.schedule, warmup.optim.warmup_steps) == ("constant", 756)
    assert (main.optim.schedule, main.optim.warmup_steps, main.optim.lr * main.optim.min_lr_ratio) == (
        "cosine", 0, pytest.approx(1e-8))
    assert (config.optim.lr, config.optim.weight_decay, config.data.micro_batch_size * 2) == (1e-5, 0.01, 360)


def test_condvit_trains_and_its_loss_falls(world: Path, tmp_path: Path) -> None:
    config = _config("condvit", tmp_path, world / "lrvsf", "max_steps=10", "data.micro_batch_size=8")
    module, losses = _train(config)
    assert losses[0] > 5.0  # the logit scale starts at 100 (specs/condvit-lrvsf.md §1.4)
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3])
    assert float(module.loss.logit_scale()) <= 100.0


def test_condvit_warmup_trains_only_projection_and_condition(world: Path, tmp_path: Path) -> None:
    whole = _config("condvit", tmp_path, world / "lrvsf", "max_steps=6", "data.micro_batch_size=8",
                    "model.options={condition: category, warmup_phase_steps: 3}")
    warmup, main = condvit_phases(whole)
    torch.manual_seed(0)
    before = _snapshot(get_recipe("condvit").build(warmup).module)
    warmed, _ = _train(warmup)
    assert _changed(before, warmed) == {
        "encoder.backbone.clip.visual.proj", "encoder.head.c_embedding.weight", "encoder.head.c_pos_embedding"}
    # The main phase starts from the warm-up's weights and trains the whole ViT with a new optimiser.
    torch.manual_seed(0)
    start = get_recipe("condvit").build(main).module
    assert not _changed(_snapshot(warmed), start)
    trained, _ = _train(main)
    changed = _changed(_snapshot(warmed), trained)
    assert "encoder.backbone.clip.visual.transformer.resblocks.0.attn.in_proj_weight" in changed
    assert "loss.logit_scale.log_scale" in changed  # frozen at 100 in the warm-up, trained now
    assert not any(".clip.transformer." in name for name in changed)  # the unused text tower stays put


# -- universal --------------------------------------------------------------------------------------


def test_universal_full_scale_follows_the_spec() -> None:
    config = get_recipe("universal").config("full")
    warmup, main = universal_phases(config)
    assert (warmup.max_steps, warmup.max_steps + main.max_steps) == (2 * 22118, 154826)
    assert (config.optim.lr, config.optim.weight_decay, config.optim.schedule) == (1e-3, 1e-6, "constant")
    assert config.optim.lr * config.optim.lr_multipliers["backbone."] == pytest.approx(1e-5)
    assert config.model.options["output_dim"] == 64 and config.loss.options["scale"] == 16.0


def test_universal_global_batches_hold_one_domain_each(world: Path) -> None:
    samples = read_uned_train(world / "uned")
    steps, micro, ranks = 20, 3, 2
    dataset = DomainBatches(samples, lambda image: image, block=micro * ranks, steps=steps, seed=0)
    samplers = [iter(DistributedBatchSampler(len(dataset), micro, rank=r, world_size=ranks, shuffle=False))
                for r in range(ranks)]
    for step in range(steps):
        indices = [i for sampler in samplers for i, _ in next(sampler)]
        domains = {dataset.domain_of(i) for i in indices}
        assert domains == {UNED_DOMAINS[step % 8]}  # round robin over config.dataset_name's order (§4.2)
    # food2k's three steps draw 18 of its 40 images, none twice (without replacement within a pass).
    drawn = [dataset[step * micro * ranks + slot] for step in (0, 8, 16) for slot in range(micro * ranks)]
    assert {s["domain"] for s in drawn} == {"food2k"} and len(samples["food2k"]) == 40
    assert len({s["image"].tobytes() for s in drawn}) == 18


@pytest.mark.parametrize("schedule", ["balanced", "dataset_size"])
def test_universal_schedules_share_steps_as_the_spec_says(world: Path, schedule: str) -> None:
    samples = read_uned_train(world / "uned")
    samples["cars"] = samples["cars"] * 3  # one domain three times larger
    dataset = DomainBatches(samples, lambda image: image, block=1, steps=110, schedule=schedule, seed=0)
    counts = {d: sum(dataset.domain_of(s) == d for s in range(110)) for d in UNED_DOMAINS}
    expected = {"balanced": (14, 13), "dataset_size": (34, 11)}[schedule]  # cars, each other domain (±1)
    assert abs(counts["cars"] - expected[0]) <= 1
    assert all(abs(counts[d] - expected[1]) <= 1 for d in UNED_DOMAINS if d != "cars")


def test_universal_rejects_paths_outside_the_image_root(world: Path, tmp_path: Path) -> None:
    for domain in UNED_DOMAINS:
        folder = tmp_path / "info_files" / domain
        folder.mkdir(parents=True)
        (folder / "train.json").write_text(json.dumps([{"path": "../../secret.jpg", "class_id": 0}]))
    with pytest.raises(ValueError, match="leaves"):
        read_uned_train(tmp_path)


def test_universal_trains_its_classifiers_first_then_everything(world: Path, tmp_path: Path) -> None:
    whole = _config("universal", tmp_path, world / "uned", "max_steps=40",
                    "model.options={output_dim: 64, frozen_steps: 8}")
    warmup, main = universal_phases(whole)
    torch.manual_seed(0)
    before = _snapshot(get_recipe("universal").build(warmup).module)
    warmed, warm_losses = _train(warmup)
    assert {n.split(".")[2] for n in _changed(before, warmed)} == {"classifiers"}
    trained, losses = _train(main)
    changed = _changed(_snapshot(warmed), trained)
    assert "encoder.head.projection.weight" in changed and any(".visual.transformer." in n for n in changed)
    assert "encoder.backbone.clip.visual.proj" not in changed  # CLIP's own projection is dropped (§4.1)
    all_losses = warm_losses + losses
    assert np.mean(all_losses[-8:]) < 0.85 * np.mean(all_losses[:8])  # the last round of 8 domains vs the first
