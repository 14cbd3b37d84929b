"""Process-group setup and the collectives training needs, read from the launcher's environment at the edge.

Both the ``deepspeed`` launcher and ``torchrun`` export RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR
and MASTER_PORT; :meth:`DistributedEnv.from_environ` is the only place that reads them.
"""

from __future__ import annotations

import datetime
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

__all__ = [
    "DistributedEnv",
    "all_reduce_max",
    "all_reduce_mean",
    "barrier",
    "find_free_port",
    "gather_with_grad",
    "init_process_group",
]


@dataclass(frozen=True)
class DistributedEnv:
    """Where this process sits in the job: its rank, the world size, and how to reach rank 0."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int = 0  # 0 = pick a free port (single-process runs only)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> DistributedEnv:
        """Read the launcher's variables; without them this is a single process (rank 0 of 1)."""
        env = os.environ if environ is None else environ
        try:
            return cls(
                rank=int(env.get("RANK", "0")),
                world_size=int(env.get("WORLD_SIZE", "1")),
                local_rank=int(env.get("LOCAL_RANK", "0")),
                master_addr=env.get("MASTER_ADDR", "127.0.0.1"),
                master_port=int(env.get("MASTER_PORT", "0")),
            )
        except ValueError as err:
            raise ValueError(f"bad launcher environment (RANK/WORLD_SIZE/LOCAL_RANK/MASTER_PORT): {err}") from None

    @property
    def is_main(self) -> bool:
        """True on rank 0, the rank that writes shared files and logs."""
        return self.rank == 0


def find_free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def init_process_group(env: DistributedEnv, backend: str, timeout_s: int) -> None:
    """Join the job's process group over TCP (a no-op if this process already joined one).

    DeepSpeed's engine reads RANK / LOCAL_RANK / WORLD_SIZE from the environment itself, so a
    single process started without a launcher gets them exported here (existing values are kept).
    """
    if dist.is_initialized():
        return
    if env.world_size > 1 and env.master_port == 0:
        raise ValueError("MASTER_PORT must be set when WORLD_SIZE > 1 (use torchrun or the deepspeed launcher)")
    port = env.master_port or find_free_port()
    for key, value in (
        ("RANK", env.rank),
        ("LOCAL_RANK", env.local_rank),
        ("WORLD_SIZE", env.world_size),
        ("MASTER_ADDR", env.master_addr),
        ("MASTER_PORT", port),
    ):
        os.environ.setdefault(key, str(value))
    dist.init_process_group(
        backend=backend,
        init_method=f"tcp://{env.master_addr}:{port}",
        rank=env.rank,
        world_size=env.world_size,
        timeout=datetime.timedelta(seconds=timeout_s),
    )


class _GatherWithGrad(torch.autograd.Function):
    """All-gather along dim 0 whose backward sums every rank's gradient and returns this rank's slice.

    Written with all_gather + all_reduce only, because gloo has neither reduce_scatter nor
    all_to_all, which torch.distributed.nn's all_gather needs in its backward.
    """

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:
        world_size = dist.get_world_size()
        parts = [torch.empty_like(tensor) for _ in range(world_size)]
        dist.all_gather(parts, tensor.contiguous())
        ctx.rank, ctx.size = dist.get_rank(), tensor.shape[0]
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        start = ctx.rank * ctx.size
        return grad[start : start + ctx.size]


def gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate ``tensor`` from every rank in rank order, keeping gradients; identity on one process.

    Every rank must pass the same shape. Used for contrastive negatives across the global batch:
    rank r's rows sit at ``[r * B, (r + 1) * B)`` of the result.
    """
    if not dist.is_available() or not dist.is_initialized() or dist.get_world_size() == 1:
        return tensor
    return _GatherWithGrad.apply(tensor)


def rank_offset(local_size: int) -> int:
    """Index of this rank's first row in a gathered batch of equal per-rank sizes."""
    if not dist.is_available() or not dist.is_initialized():
        return 0
    return dist.get_rank() * local_size


def all_reduce_mean(values: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` over ranks (a copy; identity on one process)."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return values.clone()
    out = values.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out / dist.get_world_size()


def all_reduce_max(values: torch.Tensor) -> torch.Tensor:
    """Elementwise max of ``values`` over ranks (a copy; identity on one process)."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return values.clone()
    out = values.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.MAX)
    return out


def barrier() -> None:
    """Wait for every rank (no-op on one process)."""
    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()
