"""`cir-train RECIPE [overrides]`: one recipe's config, trained (phase by phase), then handed to cir-eval.

With an empty ``data.root`` a recipe trains on the synthetic world: ``condvit`` and ``universal`` on
its LRVS-F and UnED exports, the others on its image-caption shards. After training, a run on the
synthetic world is evaluated on the matching export: a trained backbone with the GeneCIS baselines,
a Combiner on GeneCIS, CondViT on LRVS-F, the universal embedding on UnED.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cir_train import DistributedEnv, TrainConfig, load_config
from cir_train.recipes import get_recipe
from cir_trainer.cache import cache_root
from cir_trainer.evaluation import BASELINES, evaluate_genecis, evaluate_model, format_table
from cir_trainer.training import config_digest, train_recipe
from cir_trainer.triplets import MiningSpec, ensure_triplets
from cir_trainer.world import RECIPE_EXPORTS, WorldSpec, ensure_export, ensure_world

__all__ = ["build_config", "run_recipe"]

_DEFAULT_RUN_DIR = TrainConfig().run_dir
# Recipe -> the ``model.options`` its evaluation encoder takes (the rest are training-only: phases, steps).
ENCODER_OPTIONS = {"condvit": ("condition",), "universal": ("output_dim",)}


def build_config(recipe: str, overrides: list[str], scale: str = "tiny", progress: bool = True) -> TrainConfig:
    """The recipe's config at ``scale`` with ``overrides``; an empty ``data.root`` means the synthetic world."""
    shown = [] if progress else ["logging.progress_bar=false"]
    config = load_config(overrides=[*shown, *overrides], base=get_recipe(recipe).config(scale))  # type: ignore[arg-type]
    filled = []
    if not config.data.root and recipe in RECIPE_EXPORTS:
        filled.append(f"data.root={ensure_export(cache_root(), RECIPE_EXPORTS[recipe], WorldSpec(), progress)}")
    elif not config.data.root:
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
    """Train ``recipe``; on the synthetic world, evaluate the result on its export. Returns the run folder."""
    config = build_config(recipe, overrides, scale, progress)
    print(f"cir-train {recipe}: run folder {config.run_dir}")
    for index, run in enumerate(get_recipe(recipe).runs(config), start=1):
        if run is not config:
            print(f"  phase {index}: {run.model.options['phase']} ({run.max_steps} steps) -> {run.run_dir}")
    train_recipe(config)
    run_dir = Path(config.run_dir)
    if not DistributedEnv.from_environ().is_main:  # under a launcher, rank 0 alone evaluates
        return run_dir
    if recipe in RECIPE_EXPORTS:
        _evaluate_export(config, run_dir, progress)
    else:
        _evaluate_genecis(config, run_dir, progress)
    return run_dir


def _evaluate_genecis(config: TrainConfig, run_dir: Path, progress: bool) -> None:
    world = Path(config.data.root).parent
    backbone = run_dir / "backbone.safetensors"
    if not (world / "genecis").is_dir():
        return
    common: dict[str, Any] = {"model": config.model.model}
    if backbone.is_file():
        models = {name: {"name": name, **common, "pretrained": str(backbone)} for name in BASELINES}
    elif config.model.encoder == "combiner":
        head = {"head_path": str(run_dir / "head.safetensors"), **config.model.options}
        models = {"combiner": {"name": "combiner", **common, "pretrained": config.model.pretrained, **head}}
    else:
        return
    table = evaluate_genecis(models, world / "genecis", run_dir / "results", progress)
    print(format_table(table))


def _evaluate_export(config: TrainConfig, run_dir: Path, progress: bool) -> None:
    """Evaluate a run trained on a synthetic benchmark export (``data.root``) on that benchmark."""
    root = Path(config.data.root)
    benchmark = RECIPE_EXPORTS[config.recipe]
    if not (root / "manifest.json").is_file():  # real data: its benchmark split is evaluated with cir-benchmark
        return
    options = {k: v for k, v in config.model.options.items() if k in ENCODER_OPTIONS[config.recipe]}
    kwargs: dict[str, Any] = {"name": config.model.encoder, "model": config.model.model,
                              "pretrained": str(run_dir / "backbone.safetensors"),
                              "head_path": str(run_dir / "head.safetensors"), **options}
    results = evaluate_model(benchmark, config.recipe, kwargs, root, run_dir / "results", progress)
    print(f"{benchmark} (synthetic export) with cir-eval -> {run_dir / 'results'}")
    for task, result in results.items():
        metrics = ", ".join(f"{key} {value:.1f}" for key, value in result.metrics.items() if "@" in key)
        print(f"  {task}: {metrics}")
