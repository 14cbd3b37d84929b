"""The default run: synthetic world -> tiny CLIP -> task triplets -> Combiner -> GeneCIS table, on CPU.

The Combiner trains together with the CLIP backbone (GeneCIS's ``image_plus_text_whole``) on
GeneCIS-style templates drawn from the world on a training seed (``cir_trainer.task_triplets``;
no evaluation template or image is reused, which is checked). The baselines use the CLIP backbone
of stage 2, as GeneCIS's baselines use pretrained CLIP.

Every stage is cached: the world and the triplets under the cache folder (by their settings), the
two training runs under the output folder (by their config's digest), so a re-run with the same
settings reuses them and an interrupted run continues from its last checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from cir_train import DistributedEnv, TrainConfig, load_config
from cir_train.config import ConfigError
from cir_train.recipes import get_recipe
from cir_trainer.cache import cache_root
from cir_trainer.evaluation import BASELINES, evaluate_genecis, format_table
from cir_trainer.task_triplets import TaskTripletSpec, ensure_task_triplets
from cir_trainer.training import config_digest, train_recipe
from cir_trainer.world import WorldSpec, ensure_world

__all__ = ["DEFAULT_OUT", "STAGES", "run_default"]

DEFAULT_OUT = Path("runs") / "synthetic"
STAGES = ("world", "tasks", "clip", "combiner")

# The tuned default: about 5-7 minutes on 2 CPU cores (see the app README for measured times).
CLIP_SETTINGS = ["max_steps=400", "data.micro_batch_size=64", "optim.lr=2e-3", "optim.warmup_steps=20",
                 "checkpoint.every_steps=100"]
COMBINER_SETTINGS = ["max_steps=3000", "data.micro_batch_size=64", "optim.lr=3e-3", "optim.warmup_steps=30",
                     "data.options.finetune_backbone=true", "loss.options.temperature=0.1",
                     "loss.options.distractors=true", "checkpoint.every_steps=1000"]


def _split(overrides: list[str]) -> tuple[dict[str, list[str]], Path]:
    """Overrides by stage (``clip.optim.lr=1e-3`` -> clip: ``optim.lr=1e-3``) and the output folder (``out=``)."""
    staged: dict[str, list[str]] = {stage: [] for stage in STAGES}
    out = DEFAULT_OUT
    for item in overrides:
        key, sep, value = item.partition("=")
        stage, dot, rest = key.partition(".")
        if key == "out" and sep:
            out = Path(value)
        elif stage in staged and dot and sep:
            staged[stage].append(f"{rest}={value}")
        else:
            raise ConfigError(
                f"override {item!r}: the default run takes out=DIR or STAGE.KEY=VALUE with STAGE in {list(STAGES)}"
            )
    return staged, out


def _spec(cls: type[Any], overrides: list[str], stage: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for item in overrides:
        key, _, raw = item.partition("=")
        if key not in fields:
            raise ConfigError(f"{stage}.{key}: unknown field; known: {sorted(fields)}")
        try:
            values[key] = int(raw)
        except ValueError:
            raise ConfigError(f"{stage}.{key}: expected an integer, got {raw!r}") from None
    return cls(**values)


def _config(recipe: str, settings: list[str], overrides: list[str], out: Path, progress: bool) -> TrainConfig:
    base = get_recipe(recipe).config("tiny")
    shown = [] if progress else ["logging.progress_bar=false"]
    config = load_config(overrides=[*settings, *shown, *overrides], base=base)
    return load_config(overrides=[f"run_dir={out / f'{recipe}-{config_digest(config)}'}"], base=config)


def run_default(overrides: list[str], progress: bool = True) -> dict[str, dict[str, float]]:
    """Run the whole default chain; prints and returns the GeneCIS R@1 table ``{model: {task: R@1}}``.

    Under a launcher every rank trains; rank 0 alone evaluates (other ranks return an empty table).
    """
    staged, out = _split(overrides)
    cache = cache_root()
    world_spec: WorldSpec = _spec(WorldSpec, staged["world"], "world")
    task_spec: TaskTripletSpec = _spec(TaskTripletSpec, staged["tasks"], "tasks")

    print(f"[1/5] synthetic world ({world_spec.images} training images) in {cache / 'synth'}")
    world = ensure_world(cache, world_spec, progress)
    shards = world / "shards"

    clip = _config("clip", [f"data.root={shards}", *CLIP_SETTINGS], staged["clip"], out, progress)
    print(f"[2/5] CLIP (cir-tiny) on the image-caption shards -> {clip.run_dir}")
    train_recipe(clip)
    backbone = Path(clip.run_dir) / "backbone.safetensors"

    print(f"[3/5] GeneCIS-style training templates ({task_spec.templates} per task, seed {task_spec.seed})")
    task_shards, triplets = ensure_task_triplets(cache, world / "genecis", world_spec.seed, task_spec,
                                                 world_spec.size, world_spec.processes, progress)

    combiner_settings = [f"data.root={task_shards}", f"data.options.triplets={triplets}",
                         f"model.pretrained={backbone}", *COMBINER_SETTINGS]
    combiner = _config("combiner", combiner_settings, staged["combiner"], out, progress)
    print(f"[4/5] Combiner trained with the CLIP backbone -> {combiner.run_dir}")
    train_recipe(combiner)

    if not DistributedEnv.from_environ().is_main:  # under a launcher, rank 0 alone evaluates and prints
        return {}
    print(f"[5/5] GeneCIS (synthetic export) with cir-eval -> {out / 'results'}")
    common = {"model": clip.model.model, "pretrained": str(backbone)}
    models: dict[str, dict[str, Any]] = {name: {"name": name, **common} for name in BASELINES}
    tuned = Path(combiner.run_dir) / "backbone.safetensors"
    models["combiner"] = {"name": "combiner", "model": clip.model.model,
                          "pretrained": str(tuned if tuned.is_file() else backbone),
                          "head_path": str(Path(combiner.run_dir) / "head.safetensors"), **combiner.model.options}
    table = evaluate_genecis(models, world / "genecis", out / "results", progress)
    (out / "results" / "table.json").write_text(json.dumps(table, indent=2))
    print()
    print("GeneCIS R@1 (%) on the synthetic export; baselines use the CLIP backbone of stage 2")
    print(format_table(table))
    return table
