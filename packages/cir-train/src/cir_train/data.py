"""A resumable, rank-split stream of batches over a map-style dataset.

The global micro-batch sequence depends only on the seed and the dataset length: epoch ``e``
shuffles with seed ``seed + e``, global micro-batch ``j`` is ``G = micro_batch_size * world_size``
consecutive indices of it, and rank ``r`` takes its ``r``-th slice. So a run on 2 ranks sees,
batch for batch, what a run on 1 rank with the doubled micro-batch sees, and the data position
of a checkpoint is a single number: the global micro-batches consumed. The DataLoader hands whole
micro-batches to its workers in turn, which splits the rank's share among its workers.

Each sample is loaded with the CPU generators seeded from (seed, epoch, index), so random
augmentation is the same whatever the worker count, the world size, or a resume in between.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from cir_train.rng import seeded

__all__ = ["DistributedBatchSampler", "SeededSamples", "build_dataloader", "sample_seed"]


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The seed one sample's loading runs under; distinct per (seed, epoch, index)."""
    return int(np.random.SeedSequence([seed, epoch, index]).generate_state(1, dtype=np.uint64)[0] % 2**63)


class DistributedBatchSampler(Sampler[list[tuple[int, int]]]):
    """Endless micro-batches of ``(index, sample_seed)`` for one rank, starting at a global position."""

    def __init__(
        self,
        num_samples: int,
        micro_batch_size: int,
        *,
        rank: int = 0,
        world_size: int = 1,
        seed: int = 0,
        shuffle: bool = True,
        start: int = 0,
    ) -> None:
        self.global_batch = micro_batch_size * world_size
        if num_samples < self.global_batch:
            raise ValueError(
                f"dataset has {num_samples} samples, fewer than one global micro-batch "
                f"({micro_batch_size} per rank x {world_size} ranks)"
            )
        self.num_samples, self.micro_batch_size = num_samples, micro_batch_size
        self.rank, self.world_size, self.seed, self.shuffle = rank, world_size, seed, shuffle
        self.start = start
        self.batches_per_epoch = num_samples // self.global_batch  # the incomplete tail is dropped

    def order(self, epoch: int) -> np.ndarray:
        """The sample order of ``epoch`` (the same on every rank)."""
        if not self.shuffle:
            return np.arange(self.num_samples)
        return np.random.default_rng([self.seed, epoch]).permutation(self.num_samples)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        position = self.start
        epoch, order = -1, np.empty(0, dtype=np.int64)
        while True:
            batch_epoch, within = divmod(position, self.batches_per_epoch)
            if batch_epoch != epoch:
                epoch, order = batch_epoch, self.order(batch_epoch)
            begin = within * self.global_batch + self.rank * self.micro_batch_size
            indices = order[begin : begin + self.micro_batch_size]
            yield [(int(i), sample_seed(self.seed, epoch, int(i))) for i in indices]
            position += 1


class SeededSamples(Dataset[Any]):
    """Wraps a map-style dataset so item ``(index, seed)`` is loaded under generators seeded by ``seed``."""

    def __init__(self, dataset: Sequence[Any] | Dataset[Any]) -> None:
        self.dataset = dataset

    def __getitem__(self, item: tuple[int, int]) -> Any:
        index, seed = item
        with seeded(seed):
            return self.dataset[index]

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]


def build_dataloader(
    dataset: Sequence[Any] | Dataset[Any],
    micro_batch_size: int,
    *,
    rank: int = 0,
    world_size: int = 1,
    seed: int = 0,
    shuffle: bool = True,
    start: int = 0,
    num_workers: int = 0,
    collate_fn: Callable[[list[Any]], Any] | None = None,
) -> DataLoader[Any]:
    """An endless DataLoader of this rank's micro-batches from global micro-batch ``start`` on."""
    sampler = DistributedBatchSampler(
        len(dataset),  # type: ignore[arg-type]
        micro_batch_size,
        rank=rank,
        world_size=world_size,
        seed=seed,
        shuffle=shuffle,
        start=start,
    )
    return DataLoader(
        SeededSamples(dataset),
        batch_sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate_fn,
        persistent_workers=False,
        generator=torch.Generator().manual_seed(seed),
    )
