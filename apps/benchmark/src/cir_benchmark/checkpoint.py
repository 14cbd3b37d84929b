"""Turn what `cir-train` writes (a run folder or one of its checkpoints) into encoders for cir-eval.

A run folder holds ``config.yaml`` (the recipe's ``TrainConfig``) and ``checkpoints/step_*/model.safetensors``
(the trained module). The module's ``backbone.`` weights load into the encoder's backbone, its ``head.``
weights into the encoder's head; the backbone a head was trained on is ``model.pretrained`` in the config.
A run that trained a backbone alone (``clip``) is evaluated as the three GeneCIS baselines on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors.torch import load_file

from cir_models import create_encoder

__all__ = ["TrainedRun", "build_encoders", "resolve_run"]

BASELINES = ("image_only", "text_only", "image_plus_text")


@dataclass(frozen=True)
class TrainedRun:
    """A run folder's config and the checkpoint folder whose weights are evaluated."""

    run_dir: Path
    checkpoint: Path
    config: dict[str, Any]


def _latest(checkpoints: Path) -> Path:
    pointer = checkpoints / "latest"
    if pointer.is_file():
        named = checkpoints / pointer.read_text(encoding="utf-8").strip()
        if (named / "meta.json").is_file():
            return named
    complete = sorted(p for p in checkpoints.glob("step_*") if (p / "meta.json").is_file())
    if not complete:
        raise FileNotFoundError(f"{checkpoints}: no complete checkpoint (step_*/meta.json)")
    return complete[-1]


def resolve_run(path: str | Path) -> TrainedRun:
    """The run behind ``path``: a run folder (its latest checkpoint) or a ``checkpoints/step_*`` folder."""
    path = Path(path)
    if (path / "model.safetensors").is_file() and (path / "meta.json").is_file():
        run_dir, checkpoint = path.parent.parent, path
    elif (path / "config.yaml").is_file():
        run_dir, checkpoint = path, _latest(path / "checkpoints")
    else:
        raise FileNotFoundError(f"{path}: neither a cir-train run folder (config.yaml) nor a checkpoint (meta.json)")
    config_path = run_dir / "config.yaml"
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path}: the checkpoint's run folder has no config.yaml")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    if not isinstance(config, dict) or "model" not in config:
        raise ValueError(f"{config_path}: not a cir-train config (no 'model' section)")
    return TrainedRun(run_dir, checkpoint, config)


def _part(weights: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}


def build_encoders(run: TrainedRun, device: str = "cpu") -> dict[str, Any]:
    """``{model name: encoder}`` for the run: its own encoder with a head, else the baselines on its backbone."""
    model = run.config["model"]
    weights = load_file(str(run.checkpoint / "model.safetensors"))
    backbone, head = _part(weights, "backbone.clip."), _part(weights, "head.")
    if not backbone and not head:
        raise ValueError(f"{run.checkpoint}: the weights hold neither backbone.clip.* nor head.* entries")
    names = [model["encoder"]] if head else list(BASELINES)
    options = dict(model.get("options") or {}) if head else {}
    encoders = {}
    for name in names:
        torch.manual_seed(0)
        encoder, _ = create_encoder(
            name, model=model["model"], pretrained=model.get("pretrained"), device=device, **options
        )
        if backbone:
            encoder.backbone.clip.load_state_dict(backbone, strict=True)
        if head:
            encoder.head.load_state_dict(head, strict=True)
        encoder.eval()
        encoders[name] = encoder
    return encoders
