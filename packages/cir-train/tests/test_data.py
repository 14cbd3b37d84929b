"""The rank-split, resumable batch stream."""

from __future__ import annotations

import itertools

import pytest
import torch

from cir_train.data import DistributedBatchSampler, build_dataloader


def _take(sampler: DistributedBatchSampler, n: int) -> list[list[int]]:
    return [[index for index, _ in batch] for batch in itertools.islice(iter(sampler), n)]


def test_two_ranks_see_the_halves_of_the_single_rank_batch() -> None:
    single = _take(DistributedBatchSampler(20, 4, seed=3), 8)
    rank0 = _take(DistributedBatchSampler(20, 2, rank=0, world_size=2, seed=3), 8)
    rank1 = _take(DistributedBatchSampler(20, 2, rank=1, world_size=2, seed=3), 8)
    assert [a + b for a, b in zip(rank0, rank1, strict=True)] == single


def test_each_epoch_is_a_permutation_without_the_tail() -> None:
    batches = _take(DistributedBatchSampler(10, 3, seed=0), 6)
    first = [i for batch in batches[:3] for i in batch]
    second = [i for batch in batches[3:] for i in batch]
    assert len(set(first)) == 9 and len(set(second)) == 9  # 10 // 3 = 3 full batches per epoch
    assert first != second  # epochs reshuffle


def test_start_resumes_mid_stream_with_the_same_seeds() -> None:
    full = list(itertools.islice(iter(DistributedBatchSampler(12, 4, seed=1)), 7))
    resumed = list(itertools.islice(iter(DistributedBatchSampler(12, 4, seed=1, start=4)), 3))
    assert resumed == full[4:]


def test_too_small_a_dataset_is_an_error() -> None:
    with pytest.raises(ValueError, match="fewer than one global micro-batch"):
        DistributedBatchSampler(3, 2, world_size=2)


class _Noisy:
    def __len__(self) -> int:
        return 16

    def __getitem__(self, index: int) -> torch.Tensor:
        return torch.tensor([float(index)]) + torch.rand(1)  # random "augmentation"


def test_samples_are_the_same_with_or_without_workers() -> None:
    def first_batches(workers: int) -> list[torch.Tensor]:
        loader = build_dataloader(_Noisy(), 4, seed=5, num_workers=workers)
        return list(itertools.islice(iter(loader), 5))

    in_process, with_workers = first_batches(0), first_batches(2)
    assert all(torch.equal(a, b) for a, b in zip(in_process, with_workers, strict=True))
    assert not torch.equal(in_process[0], in_process[4])  # epoch 2 draws new augmentation
