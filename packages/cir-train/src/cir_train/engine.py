"""The DeepSpeed side: the config dict derived from :class:`TrainConfig`, and the engine built from it.

deepspeed is imported inside the functions that need it, so ``import cir_train`` stays cheap.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn

from cir_train.config import ConfigError, TrainConfig

__all__ = [
    "build_deepspeed_config",
    "create_engine",
    "import_deepspeed",
    "resolve_backend",
    "resolve_device",
    "resolve_precision",
    "trainer_clips_gradients",
]


def resolve_device(local_rank: int) -> torch.device:
    """This rank's device: ``cuda:LOCAL_RANK`` when CUDA is present, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def resolve_precision(config: TrainConfig, device: torch.device) -> str:
    """``fp32``, ``bf16`` or ``fp16`` for ``device``; ``auto`` picks bf16 (fp16 without bf16 support) on CUDA."""
    precision = config.deepspeed.precision
    if device.type == "cpu":
        if precision not in ("auto", "fp32"):
            raise ConfigError(f"deepspeed.precision: {precision} needs a CUDA device; use fp32 (or auto) on CPU")
        return "fp32"
    if precision == "auto":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return precision


def resolve_backend(config: TrainConfig, device: torch.device) -> str:
    """The process-group backend: nccl on CUDA, gloo on CPU, unless the config names one."""
    if config.deepspeed.backend != "auto":
        return config.deepspeed.backend
    return "nccl" if device.type == "cuda" else "gloo"


def trainer_clips_gradients(config: TrainConfig, precision: str) -> bool:
    """True where the Trainer, not DeepSpeed, clips: ZeRO-0 in fp32.

    There DeepSpeed (0.19.8) clips with ``grad.mul_(coef)`` where ``coef`` has shape [1], which
    fails for 0-d parameters (a learnable logit scale); torch's ``clip_grad_norm_`` handles them.
    Every other path clips on DeepSpeed's flat fp32 buffers.
    """
    return config.optim.grad_clip > 0 and config.deepspeed.zero_stage == 0 and precision == "fp32"


def build_deepspeed_config(config: TrainConfig, world_size: int, precision: str) -> dict[str, Any]:
    """The DeepSpeed config dict of ``config``: batch sizes, accumulation, clipping, ZeRO and precision."""
    micro, accum = config.data.micro_batch_size, config.optim.grad_accum_steps
    return {
        "train_batch_size": micro * accum * world_size,
        "train_micro_batch_size_per_gpu": micro,
        "gradient_accumulation_steps": accum,
        # DeepSpeed clips after unscaling fp16 gradients and before the step; 0 disables clipping.
        "gradient_clipping": 0.0 if trainer_clips_gradients(config, precision) else config.optim.grad_clip,
        "zero_optimization": {"stage": config.deepspeed.zero_stage},
        # The optimiser is a plain torch one (cir_train.optim), not a DeepSpeed fused op.
        "zero_allow_untested_optimizer": True,
        "bf16": {"enabled": precision == "bf16"},
        "fp16": {
            "enabled": precision == "fp16",
            "loss_scale": 0,  # dynamic
            "initial_scale_power": config.deepspeed.initial_scale_power,
        },
        "steps_per_print": 2**31 - 1,  # cir_train's loggers report progress, not DeepSpeed's
        "wall_clock_breakdown": False,
    }


def import_deepspeed() -> Any:
    """Import deepspeed, choosing its CPU accelerator when there is no CUDA device (unless DS_ACCELERATOR is set)."""
    if not torch.cuda.is_available():
        os.environ.setdefault("DS_ACCELERATOR", "cpu")
    import deepspeed

    return deepspeed


def _broadcast_scalar_parameters(model: nn.Module) -> None:
    """Broadcast 0-d parameters from rank 0 and mark them so DeepSpeed's own broadcast skips them.

    DeepSpeed (0.19.8) broadcasts each parameter as ``p.data.view(torch.uint8)``, which raises for
    0-d tensors such as a learnable logit scale or curvature. Its broadcast skips parameters that
    carry ``ds_optim_param`` (an attribute otherwise only read by its OptimizedLinear offload).
    """
    import torch.distributed as dist

    for param in model.parameters():
        if param.ndim == 0:
            if dist.is_initialized() and dist.get_world_size() > 1:
                dist.broadcast(param.data, src=0)
            param.ds_optim_param = True  # type: ignore[attr-defined]


def create_engine(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    ds_config: dict[str, Any],
) -> Any:
    """``deepspeed.initialize`` on ``model`` with our torch optimiser and scheduler; returns the engine."""
    deepspeed = import_deepspeed()
    scalars = [name for name, param in model.named_parameters() if param.ndim == 0]
    if scalars and ds_config["zero_optimization"]["stage"] == 3:
        raise ConfigError(
            f"deepspeed.zero_stage: ZeRO-3 cannot partition 0-d parameters ({', '.join(scalars)}): DeepSpeed "
            "0.19.8 views each one as bytes to broadcast it; use stage 0, 1 or 2 for this model"
        )
    _broadcast_scalar_parameters(model)
    engine, _, _, _ = deepspeed.initialize(
        model=model,
        optimizer=optimizer,
        lr_scheduler=scheduler,
        config=ds_config,
        dist_init_required=False,
    )
    return engine
