"""Train one recipe: build each of its runs' parts, run ``cir_train.Trainer`` (resuming), export the weights."""

from __future__ import annotations

from pathlib import Path

from safetensors.torch import load_file

from cir_models import save_state_dict
from cir_train import TrainConfig, Trainer
from cir_train.checkpoint import find_latest_checkpoint
from cir_train.recipes import get_recipe
from cir_trainer.cache import settings_digest

__all__ = ["config_digest", "export_weights", "train_recipe"]

# Trained-module prefix -> exported file: what cir_models loads as a backbone (pretrained=) or a head (head_path=).
# CondViT and the universal embedding keep their encoder under ``encoder.``.
EXPORTS = {"backbone.clip.": "backbone.safetensors", "head.": "head.safetensors",
           "encoder.backbone.clip.": "backbone.safetensors", "encoder.head.": "head.safetensors"}
# Head parts only the training loss uses (UnED's per-domain classifiers): not exported for evaluation.
TRAINING_ONLY = ("classifiers.",)


def config_digest(config: TrainConfig) -> str:
    """Hash of everything that changes the trained weights (not the run folder, logging or checkpoint cadence)."""
    data = config.to_dict()
    for key in ("run_dir", "logging", "checkpoint"):
        data.pop(key)
    return settings_digest(data)


def train_recipe(config: TrainConfig) -> Path:
    """Train ``config.recipe`` in ``config.run_dir``, phase after phase (each continuing its latest checkpoint).

    Returns the final checkpoint of the last phase, whose weights are exported into ``config.run_dir``.
    """
    final = None
    for run in get_recipe(config.recipe).runs(config):
        parts = get_recipe(run.recipe).build(run)
        trainer = Trainer(run, parts.module, parts.dataset, collate_fn=parts.collate_fn)
        try:
            trainer.train()
        finally:
            trainer.close()
        final = find_latest_checkpoint(Path(run.run_dir) / "checkpoints")
        if final is None:
            raise RuntimeError(f"{run.run_dir}: training ended without a checkpoint (checkpoint.save_final=false?)")
    assert final is not None  # a recipe has at least one run
    export_weights(final, Path(config.run_dir))
    return final


def export_weights(checkpoint: Path, out_dir: Path) -> list[Path]:
    """Split a checkpoint's module weights into the files cir_models loads; returns the files written."""
    weights = load_file(str(checkpoint / "model.safetensors"))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for prefix, name in EXPORTS.items():
        part = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
        part = {k: v for k, v in part.items() if not k.startswith(TRAINING_ONLY)}
        if part:
            written.append(save_state_dict(part, out_dir / name))
    return written
