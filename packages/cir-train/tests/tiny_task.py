"""A tiny contrastive task for the trainer tests, importable in-process and runnable as a worker script.

As a script (``python tiny_task.py RUN_DIR [overrides...]``) it trains under whatever launcher
environment it finds (torchrun sets RANK/WORLD_SIZE/...), then writes the final parameters of
rank 0 to ``RUN_DIR/final_params.pt``. ``CIR_TEST_KILL_AT_CHECKPOINT=N`` SIGKILLs the process
half-way through writing its N-th checkpoint (after the optimiser file, before the rest);
``CIR_TEST_KILL_AFTER_STEP=N`` SIGKILLs it right after optimiser step N.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from cir_train import Trainer, load_config
from cir_train.config import TrainConfig
from cir_train.losses import ClipLoss, clip_contrastive_loss


class PairDataset:
    """``n`` paired feature vectors; the image side gets seeded random jitter (an 'augmentation')."""

    def __init__(self, n: int = 64, dim: int = 8, seed: int = 123) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.image = torch.randn(n, dim, generator=generator)
        mixing = torch.randn(dim, dim, generator=generator)
        self.text = self.image @ mixing + 0.1 * torch.randn(n, dim, generator=generator)

    def __len__(self) -> int:
        return len(self.image)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        jitter = 0.05 * torch.randn(self.image.shape[1])  # drawn from the per-sample seeded generator
        return {"image": self.image[index] + jitter, "text": self.text[index]}


class TinyClip(nn.Module):
    """Two linear towers and a CLIP loss with its learnable logit scale (or a fixed scale of 10)."""

    def __init__(self, dim: int = 8, embed: int = 8, learnable_scale: bool = True) -> None:
        super().__init__()
        self.image_tower = nn.Linear(dim, embed)
        self.text_tower = nn.Linear(dim, embed)
        self.loss = ClipLoss() if learnable_scale else None

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        image = F.normalize(self.image_tower(batch["image"]).float(), dim=-1)
        text = F.normalize(self.text_tower(batch["text"]).float(), dim=-1)
        if self.loss is None:
            return {"loss": clip_contrastive_loss(image, text, 10.0), "logit_scale": torch.tensor(10.0)}
        return {"loss": self.loss(image, text), "logit_scale": self.loss.logit_scale().detach()}


def make_config(run_dir: Path | str, overrides: list[str] | None = None) -> TrainConfig:
    """A small CPU config: 4 samples per rank, AdamW at 0.05, no TensorBoard or progress bar."""
    base = [
        f"run_dir={run_dir}",
        "max_steps=6",
        "data.micro_batch_size=8",
        "optim.lr=0.05",
        "optim.warmup_steps=2",
        "logging.tensorboard=false",
        "logging.progress_bar=false",
        "deepspeed.timeout_s=120",
    ]
    return load_config(overrides=base + list(overrides or []))


def build_trainer(config: TrainConfig, learnable_scale: bool = True) -> Trainer:
    """Seeded model and dataset, so every process starts from the same weights."""
    torch.manual_seed(0)
    return Trainer(config, TinyClip(learnable_scale=learnable_scale), PairDataset())


def _kill_during_checkpoint(nth: int) -> None:
    """SIGKILL the process inside its ``nth`` checkpoint write, after some files are on disk."""
    from cir_train import checkpoint

    original = checkpoint.save_torch_state
    seen = {"optimizer_files": 0}

    def save_then_maybe_die(state: object, path: Path) -> None:
        original(state, path)
        if path.name.startswith("optimizer_rank"):
            seen["optimizer_files"] += 1
            if seen["optimizer_files"] == nth:
                os.kill(os.getpid(), signal.SIGKILL)

    checkpoint.save_torch_state = save_then_maybe_die  # type: ignore[assignment]


def _kill_after_step(trainer: Trainer, step: int) -> None:
    """SIGKILL the process as soon as optimiser step ``step`` is done."""
    original = trainer.train_step

    def step_then_maybe_die() -> dict[str, float]:
        metrics = original()
        if trainer.step == step:
            os.kill(os.getpid(), signal.SIGKILL)
        return metrics

    trainer.train_step = step_then_maybe_die  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    run_dir, overrides = argv[0], argv[1:]
    if "CIR_TEST_KILL_AT_CHECKPOINT" in os.environ:
        _kill_during_checkpoint(int(os.environ["CIR_TEST_KILL_AT_CHECKPOINT"]))
    trainer = build_trainer(make_config(run_dir, overrides))
    if "CIR_TEST_KILL_AFTER_STEP" in os.environ:
        _kill_after_step(trainer, int(os.environ["CIR_TEST_KILL_AFTER_STEP"]))
    try:
        trainer.train()
    finally:
        trainer.close()
    if trainer.env.is_main:
        state = {k: v.detach().cpu().clone() for k, v in trainer.module.state_dict().items()}
        torch.save(state, Path(run_dir) / "final_params.pt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
