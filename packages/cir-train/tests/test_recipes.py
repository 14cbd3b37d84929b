"""Recipes: the registry, faithful full-scale settings, and a few tiny steps on the synthetic world."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cir_data.synth import iter_items, write_shards
from cir_train import Trainer, load_config
from cir_train.recipes import get_recipe, list_recipes


@pytest.fixture(scope="module")
def shard_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth_shards")
    write_shards(iter_items(seed=0, indices=range(96)), out, total=96, seed=0, samples_per_shard=48, progress=False)
    return out


def test_unknown_recipe_lists_close_names() -> None:
    with pytest.raises(KeyError, match=r"unknown recipe 'clp'; did you mean \['clip'\]"):
        get_recipe("clp")


def test_clip_full_scale_follows_the_meru_clip_baseline() -> None:
    config = get_recipe("clip").config("full")
    assert (config.optim.lr, config.optim.betas, config.optim.weight_decay) == (5e-4, (0.9, 0.98), 0.2)
    assert (config.optim.warmup_steps, config.max_steps) == (4000, 120000)
    assert config.data.micro_batch_size * 8 == 2048
    assert config.model.model == "ViT-B-16"


# The recipes that train on image-caption shards; the others (combiner: triplets, condvit: LRVS-F products,
# universal: UnED domains) are trained on their own data in their own test files.
SHARD_RECIPES = ["clip", "meru", "lincir"]


def test_every_recipe_is_trained_by_some_test() -> None:
    assert set(list_recipes()) == {*SHARD_RECIPES, "combiner", "condvit", "universal"}


@pytest.mark.parametrize("name", SHARD_RECIPES)
def test_tiny_recipe_trains_and_its_loss_falls(name: str, shard_dir: Path, tmp_path: Path) -> None:
    recipe = get_recipe(name)
    overrides = [f"run_dir={tmp_path}", f"data.root={shard_dir}", "max_steps=12", "data.micro_batch_size=16",
                 "optim.warmup_steps=0", "logging.tensorboard=false", "logging.progress_bar=false",
                 "checkpoint.save_final=false", "checkpoint.every_steps=0"]
    config = load_config(overrides=overrides, base=recipe.config("tiny"))
    torch.manual_seed(0)
    parts = recipe.build(config)
    trainer = Trainer(config, parts.module, parts.dataset, collate_fn=parts.collate_fn)
    losses = list(trainer.train().values())
    trainer.close()
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3
