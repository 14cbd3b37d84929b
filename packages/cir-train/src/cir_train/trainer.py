"""The Trainer: a DeepSpeed engine driven by named steps, with atomic checkpoints and exact resume.

The model is any ``nn.Module`` whose ``forward(batch)`` returns the loss, or a dict with a
``"loss"`` entry and other scalars to log; learnable loss parameters (a logit scale) live in it
so DeepSpeed trains them with the rest. The dataset is map-style (``__len__``, ``__getitem__``);
:mod:`cir_train.data` splits it by rank and worker and records the position for resume.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from cir_train import checkpoint as ckpt
from cir_train.config import TrainConfig
from cir_train.data import build_dataloader
from cir_train.distributed import DistributedEnv, all_reduce_max, all_reduce_mean, barrier, init_process_group
from cir_train.engine import (
    build_deepspeed_config,
    create_engine,
    resolve_backend,
    resolve_device,
    resolve_precision,
    trainer_clips_gradients,
)
from cir_train.loggers import build_loggers
from cir_train.optim import build_optimizer, build_scheduler
from cir_train.rng import get_rng_state, seed_everything, set_rng_state
from cir_train.run_dir import write_run_metadata

__all__ = ["NonFiniteLossError", "Trainer"]

_PRECISION_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite and ``on_nonfinite`` is ``stop``."""


class Trainer:
    """Trains ``model`` on ``dataset`` as ``config`` says, on one process or many (deepspeed / torchrun).

    Example::

        trainer = Trainer(config, model, dataset)
        try:
            losses = trainer.train()
        finally:
            trainer.close()
    """

    def __init__(
        self,
        config: TrainConfig,
        model: nn.Module,
        dataset: Sequence[Any] | Dataset[Any],
        *,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        env: DistributedEnv | None = None,
    ) -> None:
        self.config = config
        self.env = env or DistributedEnv.from_environ()
        self.run_dir = Path(config.run_dir)
        self.checkpoints_dir = self.run_dir / "checkpoints"
        self.dataset, self.collate_fn = dataset, collate_fn
        self.device = resolve_device(self.env.local_rank)
        self.precision = resolve_precision(config, self.device)
        self.init_distributed()
        seed_everything(config.seed + self.env.rank)
        optimizer = build_optimizer(model, config.optim)
        scheduler = build_scheduler(optimizer, config.optim, config.max_steps)
        self.ds_config = build_deepspeed_config(config, self.env.world_size, self.precision)
        self.engine = create_engine(model.to(self.device), optimizer, scheduler, self.ds_config)
        self.step = 0  # optimiser steps done
        self.consumed = 0  # global micro-batches consumed (the data position)
        self._batches: Iterator[Any] | None = None
        self._last_saved_step = -1
        if self.env.is_main:
            extra = {"deepspeed_config": self.ds_config, "world_size": self.env.world_size}
            write_run_metadata(self.run_dir, config, extra)
        barrier()
        self.loggers = build_loggers(config, self.run_dir, self.env.is_main)
        if config.checkpoint.resume:
            self.resume()

    @property
    def module(self) -> nn.Module:
        """The trained module (unwrapped from the engine)."""
        return self.engine.module

    # -- named steps ---------------------------------------------------------------------------------

    def init_distributed(self) -> None:
        """Join the process group (gloo on CPU, nccl on CUDA) and bind this rank's device."""
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        init_process_group(self.env, resolve_backend(self.config, self.device), self.config.deepspeed.timeout_s)

    def batch_generator(self) -> Iterator[Any]:
        """This rank's micro-batches, from the current data position on, moved to the device."""
        loader = build_dataloader(
            self.dataset,
            self.config.data.micro_batch_size,
            rank=self.env.rank,
            world_size=self.env.world_size,
            seed=self.config.seed,
            shuffle=self.config.data.shuffle,
            start=self.consumed,
            num_workers=self.config.data.num_workers,
            collate_fn=self.collate_fn,
        )
        for batch in loader:
            yield self._to_device(batch)

    def forward_backward_step(self, batch: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Forward and backward of one micro-batch; returns the (detached) loss and the model's metrics."""
        loss, metrics = _split_output(self.engine(batch))
        finite = bool(all_reduce_max((~torch.isfinite(loss.detach())).float().reshape(1)).item() == 0)
        if not finite:
            where = f"step {self.step + 1} (micro-batch {self.consumed % self.config.optim.grad_accum_steps + 1})"
            if self.config.on_nonfinite == "stop":
                raise NonFiniteLossError(
                    f"non-finite loss ({loss.item()}) at {where}; the run stopped. The last checkpoint is "
                    f"{ckpt.find_latest_checkpoint(self.checkpoints_dir)}. Lower optim.lr or set on_nonfinite=skip."
                )
            # Skip: a zero loss through every trainable parameter keeps DeepSpeed's micro-step count right.
            loss = sum(p.sum() * 0.0 for p in self.module.parameters() if p.requires_grad)  # type: ignore[assignment]
            metrics = {**metrics, "skipped": torch.ones(())}
        elif self.config.on_nonfinite == "skip":
            metrics = {**metrics, "skipped": torch.zeros(())}
        self.engine.backward(loss)
        return loss.detach(), metrics

    def train_step(self) -> dict[str, float]:
        """One optimiser step over ``grad_accum_steps`` micro-batches; returns rank-averaged metrics."""
        if self._batches is None:
            self._batches = self.batch_generator()
        lr = float(self.engine.get_lr()[0])  # the lr this step uses (the scheduler moves on at its end)
        sums: dict[str, torch.Tensor] = {}
        accum = self.config.optim.grad_accum_steps
        for micro in range(accum):
            loss, metrics = self.forward_backward_step(next(self._batches))
            self.consumed += 1
            if micro == accum - 1 and trainer_clips_gradients(self.config, self.precision):
                # Gradients are averaged over ranks at the boundary's backward; clip before the step.
                params = [p for p in self.module.parameters() if p.grad is not None]
                torch.nn.utils.clip_grad_norm_(params, self.config.optim.grad_clip)
            self.engine.step()  # DeepSpeed steps the optimiser and scheduler at the accumulation boundary
            for key, value in {"loss": loss, **metrics}.items():
                value = torch.as_tensor(value, dtype=torch.float32).detach().cpu().reshape(())
                sums[key] = sums.get(key, torch.zeros(())) + value
        self.step += 1
        keys = sorted(sums)
        means = all_reduce_mean(torch.stack([sums[k] for k in keys]).to(self.device)) / accum
        result = {f"train/{key}": float(value) for key, value in zip(keys, means.tolist(), strict=True)}
        result["train/lr"] = lr
        return result

    def train(self) -> dict[int, float]:
        """Run until ``max_steps``, logging and checkpointing; returns {step: loss} of the steps run now."""
        cfg = self.config
        losses: dict[int, float] = {}
        progress = tqdm(
            total=cfg.max_steps,
            initial=self.step,
            desc="train",
            disable=not (self.env.is_main and cfg.logging.progress_bar),
        )
        try:
            while self.step < cfg.max_steps:
                metrics = self.train_step()
                losses[self.step] = metrics["train/loss"]
                if self.step % cfg.logging.every_steps == 0 or self.step == cfg.max_steps:
                    self.loggers.log(metrics, self.step)
                progress.update(1)
                progress.set_postfix(loss=f"{metrics['train/loss']:.4f}")
                if cfg.checkpoint.every_steps and self.step % cfg.checkpoint.every_steps == 0:
                    self.save_checkpoint()
            if cfg.checkpoint.save_final and self._last_saved_step != self.step:
                self.save_checkpoint()
        finally:
            progress.close()
        return losses

    # -- state ---------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """This rank's trainer state: step, data position and RNG states (model/optimiser are separate)."""
        return {
            "step": self.step,
            "consumed": self.consumed,
            "world_size": self.env.world_size,
            "rng": get_rng_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output; the data stream restarts at the saved position."""
        if state["world_size"] != self.env.world_size:
            raise ckpt.CheckpointError(
                f"checkpoint was written by {state['world_size']} ranks, this run has {self.env.world_size}"
            )
        self.step, self.consumed = int(state["step"]), int(state["consumed"])
        set_rng_state(state["rng"])
        self._batches = None

    def save_checkpoint(self) -> Path:
        """Write an atomic checkpoint of model, optimiser, scheduler, data position and RNG (all ranks call)."""
        step, rank = self.step, self.env.rank
        if self.env.is_main:
            ckpt.begin_checkpoint(self.checkpoints_dir, step)
        barrier()
        tmp = ckpt.temp_dir(self.checkpoints_dir, step)
        ckpt.save_torch_state(self.engine.optimizer.state_dict(), tmp / ckpt.rank_file("optimizer", rank))
        weights = self._full_weights()
        if self.env.is_main:
            save_file(weights, str(tmp / "model.safetensors"))
            ckpt.save_torch_state(self.engine.lr_scheduler.state_dict(), tmp / "scheduler.pt")
        ckpt.save_torch_state(self.state_dict(), tmp / ckpt.rank_file("trainer", rank))  # RNG state last
        barrier()
        final = self.checkpoints_dir / ckpt.step_dir_name(step)
        if self.env.is_main:
            meta = {
                "step": step,
                "consumed": self.consumed,
                "world_size": self.env.world_size,
                "zero_stage": self.config.deepspeed.zero_stage,
                "precision": self.precision,
            }
            final = ckpt.commit_checkpoint(self.checkpoints_dir, step, meta, self.config.checkpoint.keep_last)
        barrier()
        self._last_saved_step = step
        return final

    def load_checkpoint(self, path: Path) -> None:
        """Load a complete checkpoint folder written by :meth:`save_checkpoint` (same world size and ZeRO stage)."""
        meta = ckpt.read_meta(path)
        for key, mine in (("world_size", self.env.world_size), ("zero_stage", self.config.deepspeed.zero_stage)):
            if meta[key] != mine:
                raise ckpt.CheckpointError(f"{path}: written with {key}={meta[key]}, this run has {key}={mine}")
        if self.config.deepspeed.zero_stage < 3:
            weights = load_file(str(path / "model.safetensors"), device=str(self.device))
            self.module.load_state_dict(weights, strict=True)
        optimizer_state = ckpt.load_torch_state(path / ckpt.rank_file("optimizer", self.env.rank), self.device)
        if self.config.deepspeed.zero_stage == 0:
            self.engine.optimizer.load_state_dict(optimizer_state)
        else:
            states = [optimizer_state if r == self.env.rank else None for r in range(self.env.world_size)]
            self.engine.optimizer.load_state_dict(states, load_from_fp32_weights=True)
        self.engine.lr_scheduler.load_state_dict(ckpt.load_torch_state(path / "scheduler.pt"))
        self.load_state_dict(ckpt.load_torch_state(path / ckpt.rank_file("trainer", self.env.rank)))
        self._last_saved_step = self.step

    def resume(self) -> Path | None:
        """Load the run folder's latest complete checkpoint, if there is one; returns its path."""
        latest = ckpt.find_latest_checkpoint(self.checkpoints_dir)
        if latest is not None:
            self.load_checkpoint(latest)
        barrier()
        return latest

    def close(self) -> None:
        """Flush the loggers (call on both the success and the error path)."""
        self.loggers.close()

    # -- helpers -------------------------------------------------------------------------------------

    def _full_weights(self) -> dict[str, torch.Tensor]:
        """The full module weights as separate contiguous CPU tensors (ZeRO-3 gathers them; all ranks call).

        Copies, because ZeRO keeps parameters as views into flat buffers, which safetensors refuses.
        """
        if self.config.deepspeed.zero_stage == 3:
            state = self.engine._zero3_consolidated_16bit_state_dict()
        else:
            state = self.module.state_dict()
        return {key: value.detach().to("cpu", copy=True).contiguous() for key, value in (state or {}).items()}

    def _to_device(self, batch: Any) -> Any:
        dtype = _PRECISION_DTYPES[self.precision]
        if isinstance(batch, torch.Tensor):
            batch = batch.to(self.device, non_blocking=True)
            return batch.to(dtype) if batch.is_floating_point() else batch
        if isinstance(batch, Mapping):
            return {key: self._to_device(value) for key, value in batch.items()}
        if isinstance(batch, (list, tuple)):
            return type(batch)(self._to_device(value) for value in batch)
        return batch


def _split_output(output: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """(loss, other scalars) of a model output: a 0-d tensor, or a mapping with a ``"loss"`` entry."""
    if isinstance(output, torch.Tensor):
        loss, metrics = output, {}
    elif isinstance(output, Mapping) and "loss" in output:
        loss = output["loss"]
        metrics = {k: torch.as_tensor(v).detach().float() for k, v in output.items() if k != "loss"}
    else:
        raise TypeError(f"the model's forward must return a loss tensor or a dict with 'loss', got {type(output)}")
    if loss.ndim != 0:
        raise ValueError(f"the loss must be a 0-d tensor, got shape {tuple(loss.shape)}")
    return loss, metrics
