"""`cir-train RECIPE [overrides]`: one recipe's config, trained, then handed to cir-eval when it fits GeneCIS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cir_train import TrainConfig, load_config
from cir_train.recipes import get_recipe
from cir_trainer.cache import cache_root
from cir_trainer.evaluation import BASELINES, evaluate_genecis, format_table
from cir_trainer.training import config_digest, train_recipe
from cir_trainer.triplets import MiningSpec, ensure_triplets
from cir_trainer.world import WorldSpec, ensure_world

__all__ = ["build_config", "run_recipe"]

_DEFAULT_RUN_DIR = TrainConfig().run_dir


def build_config(recipe: str, overrides: list[str], scale: str = "tiny", progress: bool = True) -> TrainConfig:
    """The recipe's config at ``scale`` with ``overrides``; an empty ``data.root`` means the synthetic world."""
    shown = [] if progress else ["logging.progress_bar=false"]
    config = load_config(overrides=[*shown, *overrides], base=get_recipe(recipe).config(scale))  # type: ignore[arg-type]
    filled = []
    if not config.data.root:
        world = ensure_world(cache_root(), WorldSpec(), progress)
        filled.append(f"data.root={world / 'shards'}")
        if recipe == "combiner" and "triplets" not in config.data.options:
            triplets = ensure_triplets(cache_root(), world, MiningSpec(), progress)
            filled.append(f"data.options.triplets={triplets}")
    config = load_config(overrides=filled, base=config)
    if config.run_dir == _DEFAULT_RUN_DIR:
        config = load_config(overrides=[f"run_dir=runs/{recipe}-{config_digest(config)}"], base=config)
    return config


def run_recipe(recipe: str, overrides: list[str], scale: str = "tiny", progress: bool = True) -> Path:
    """Train ``recipe``; on the synthetic world, evaluate the result on its GeneCIS export. Returns the run folder."""
    config = build_config(recipe, overrides, scale, progress)
    print(f"cir-train {recipe}: run folder {config.run_dir}")
    train_recipe(config)
    run_dir = Path(config.run_dir)
    world = Path(config.data.root).parent
    backbone = run_dir / "backbone.safetensors"
    if not (world / "genecis").is_dir():
        return run_dir
    common: dict[str, Any] = {"model": config.model.model}
    if backbone.is_file():
        models = {name: {"name": name, **common, "pretrained": str(backbone)} for name in BASELINES}
    elif config.model.encoder == "combiner":
        head = {"head_path": str(run_dir / "head.safetensors"), **config.model.options}
        models = {"combiner": {"name": "combiner", **common, "pretrained": config.model.pretrained, **head}}
    else:
        return run_dir
    table = evaluate_genecis(models, world / "genecis", run_dir / "results", progress)
    print(format_table(table))
    return run_dir
