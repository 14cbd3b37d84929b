"""Metric loggers behind one no-op base: TensorBoard (default), W&B (opt-in, imported lazily), JSONL.

Only rank 0 builds real loggers; every other rank gets the no-op base.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cir_train.config import TrainConfig

__all__ = ["BaseLogger", "JsonlLogger", "LoggerContainer", "TensorBoardLogger", "WandBLogger", "build_loggers"]


class BaseLogger:
    """Does nothing; the shape every logger has."""

    def log(self, metrics: dict[str, float], step: int) -> None:
        """Record scalar ``metrics`` at optimiser step ``step``."""

    def close(self) -> None:
        """Flush and release resources."""


class TensorBoardLogger(BaseLogger):
    """Scalars to ``<run_dir>/tensorboard`` (tags are the metric keys, e.g. ``train/loss``)."""

    def __init__(self, log_dir: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(log_dir))

    def log(self, metrics: dict[str, float], step: int) -> None:
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, step)

    def close(self) -> None:
        self.writer.close()


class WandBLogger(BaseLogger):
    """Scalars to Weights & Biases; wandb reads its own WANDB_* environment settings."""

    def __init__(self, project: str, run_dir: Path, config: dict[str, Any]) -> None:
        try:
            import wandb
        except ImportError as err:
            raise ImportError("logging.wandb=true needs the wandb package: pip install wandb") from err
        self.run = wandb.init(project=project, dir=str(run_dir), config=config)

    def log(self, metrics: dict[str, float], step: int) -> None:
        self.run.log(metrics, step=step)

    def close(self) -> None:
        self.run.finish()


class JsonlLogger(BaseLogger):
    """One JSON line per logged step in ``<run_dir>/metrics.jsonl`` (appended across resumes)."""

    def __init__(self, path: Path) -> None:
        self.handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def log(self, metrics: dict[str, float], step: int) -> None:
        self.handle.write(json.dumps({"step": step, **metrics}) + "\n")
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


class LoggerContainer(BaseLogger):
    """Fans every call out to several loggers."""

    def __init__(self, loggers: list[BaseLogger]) -> None:
        self.loggers = loggers

    def log(self, metrics: dict[str, float], step: int) -> None:
        for logger in self.loggers:
            logger.log(metrics, step)

    def close(self) -> None:
        for logger in self.loggers:
            logger.close()


def build_loggers(config: TrainConfig, run_dir: Path, is_main: bool) -> BaseLogger:
    """The loggers ``config.logging`` asks for on rank 0; a no-op elsewhere."""
    if not is_main:
        return BaseLogger()
    loggers: list[BaseLogger] = []
    if config.logging.tensorboard:
        loggers.append(TensorBoardLogger(run_dir / "tensorboard"))
    if config.logging.wandb:
        loggers.append(WandBLogger(config.logging.wandb_project, run_dir, config.to_dict()))
    if config.logging.jsonl:
        loggers.append(JsonlLogger(run_dir / "metrics.jsonl"))
    return LoggerContainer(loggers)
