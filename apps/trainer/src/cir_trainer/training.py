"""Train one recipe: build its config and parts, run ``cir_train.Trainer`` (resuming), export the weights."""

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
EXPORTS = {"backbone.clip.": "backbone.safetensors", "head.": "head.safetensors"}


def config_digest(config: TrainConfig) -> str:
    """Hash of everything that changes the trained weights (not the run folder, logging or checkpoint cadence)."""
    data = config.to_dict()
    for key in ("run_dir", "logging", "checkpoint"):
        data.pop(key)
    return settings_digest(data)


def train_recipe(config: TrainConfig) -> Path:
    """Train ``config.recipe`` in ``config.run_dir`` (continuing its latest checkpoint); returns the final one."""
    parts = get_recipe(config.recipe).build(config)
    trainer = Trainer(config, parts.module, parts.dataset, collate_fn=parts.collate_fn)
    try:
        trainer.train()
    finally:
        trainer.close()
    final = find_latest_checkpoint(Path(config.run_dir) / "checkpoints")
    if final is None:
        raise RuntimeError(f"{config.run_dir}: training ended without a checkpoint (checkpoint.save_final=false?)")
    export_weights(final, Path(config.run_dir))
    return final


def export_weights(checkpoint: Path, out_dir: Path) -> list[Path]:
    """Split a checkpoint's module weights into the files cir_models loads; returns the files written."""
    weights = load_file(str(checkpoint / "model.safetensors"))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for prefix, name in EXPORTS.items():
        part = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
        if part:
            written.append(save_state_dict(part, out_dir / name))
    return written
