"""Metrics on hand-made relevance matrices with answers worked out by hand."""

from __future__ import annotations

import pytest
import torch

from cir_eval.metrics import (
    average_precision_at_k,
    mean_per_class_accuracy,
    modified_precision_at_k,
    ranking_relevance,
    recall_at_k,
    top1_accuracy,
)

REL = torch.tensor(
    [
        [True, False, True, True, False],
        [False, False, False, False, True],
        [False, False, False, False, False],
    ]
)


def test_recall_at_k_is_a_hit_rate() -> None:
    assert recall_at_k(REL, 1) == pytest.approx(1 / 3)
    assert recall_at_k(REL, 4) == pytest.approx(1 / 3)
    assert recall_at_k(REL, 5) == pytest.approx(2 / 3)
    # k larger than the ranking uses the whole ranking
    assert recall_at_k(REL, 100) == pytest.approx(2 / 3)


def test_ranking_relevance() -> None:
    ranked = torch.tensor([[3, 1, 2], [0, 2, 1]])
    assert ranking_relevance(ranked, torch.tensor([1, 0])).tolist() == [[False, True, False], [True, False, False]]


def test_average_precision_divides_by_min_k_and_gt() -> None:
    counts = torch.tensor([3, 1, 2])
    # row 0: (1 + 2/3 + 3/4) / min(5, 3); row 1: (1/5) / 1; row 2: 0
    expected = ((1 + 2 / 3 + 3 / 4) / 3 + 1 / 5 + 0) / 3
    assert average_precision_at_k(REL, counts, 5) == pytest.approx(expected)
    # at K=2 row 0 has min(2, 3) = 2 -> (1) / 2
    assert average_precision_at_k(REL, counts, 2) == pytest.approx((1 / 2 + 0 + 0) / 3)


def test_modified_precision_counts_only_min_nq_k_positions() -> None:
    counts = torch.tensor([2, 1, 0])
    # row 0: first 2 positions [1, 0] -> 1/2; row 1: first position 0 -> 0; row 2: n_q = 0 -> 0
    assert modified_precision_at_k(REL, counts, 5) == pytest.approx((0.5 + 0 + 0) / 3)
    counts = torch.tensor([9, 9, 9])
    assert modified_precision_at_k(REL, counts, 5) == pytest.approx((3 / 5 + 1 / 5 + 0) / 3)


def test_accuracies_micro_and_macro() -> None:
    labels = torch.tensor([0, 0, 0, 1])
    preds = torch.tensor([0, 0, 0, 0])
    assert top1_accuracy(preds, labels) == pytest.approx(0.75)
    assert mean_per_class_accuracy(preds, labels) == pytest.approx(0.5)


def test_empty_inputs_are_errors() -> None:
    with pytest.raises(ValueError):
        recall_at_k(torch.zeros(0, 3, dtype=torch.bool), 1)
    with pytest.raises(ValueError):
        top1_accuracy(torch.tensor([]), torch.tensor([]))


def test_weighted_recall_counts_duplicated_queries() -> None:
    # LRVS-F folds: query 0 drawn 3 times (a hit at rank 1), query 1 once (a hit at rank 5), query 2 twice (no hit)
    weights = torch.tensor([3, 1, 2])
    assert recall_at_k(REL, 1, weights) == pytest.approx(3 / 6)
    assert recall_at_k(REL, 5, weights) == pytest.approx(4 / 6)
    assert recall_at_k(REL, 5, torch.ones(3)) == pytest.approx(recall_at_k(REL, 5))
    with pytest.raises(ValueError, match="one non-negative weight per query"):
        recall_at_k(REL, 1, torch.tensor([1, 1]))
