"""Retrieval and classification metrics as pure functions on tensors.

Every function takes a boolean *relevance* matrix ``[Q, R]`` — ``relevance[q, j]`` says whether the
j-th ranked item of query q is relevant — plus, where a metric needs it, the number of relevant
items per query. They never see a model, a file or a gallery, so tests feed them hand-made tensors.
Values are fractions in [0, 1]; benchmarks multiply by 100 when they report.
"""

from __future__ import annotations

import torch

__all__ = [
    "average_precision_at_k",
    "mean_per_class_accuracy",
    "modified_precision_at_k",
    "ranking_relevance",
    "recall_at_k",
    "top1_accuracy",
]


def ranking_relevance(ranked: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Return ``ranked == targets[:, None]``: relevance of each ranked id against one target per query."""
    return ranked == targets.reshape(-1, 1)


def recall_at_k(relevance: torch.Tensor, k: int, weights: torch.Tensor | None = None) -> float:
    """Return the fraction of queries with at least one relevant item in the top ``k``.

    This is the CIR/CLIP papers' "recall@k" (a hit rate), not true recall: a query with three
    relevant items counts once. When ``k`` exceeds the ranking length the whole ranking is used,
    which is right when the ranking already covers the whole gallery. ``weights`` [Q] count each
    query that many times (LRVS-F bootstrap folds: a product drawn twice is one de-duplicated row
    of weight 2, ``specs/condvit-lrvsf.md`` §4.2).
    """
    if relevance.shape[0] == 0:
        raise ValueError("recall_at_k needs at least one query")
    hits = relevance[:, :k].any(dim=1).double()
    if weights is None:
        return hits.mean().item()
    weights = weights.double().reshape(-1)
    if weights.shape[0] != hits.shape[0] or bool((weights < 0).any()) or weights.sum().item() <= 0:
        raise ValueError("recall_at_k weights must be one non-negative weight per query, not all zero")
    return ((hits * weights).sum() / weights.sum()).item()


def _positive_counts(num_positives: torch.Tensor, k: int) -> torch.Tensor:
    return num_positives.clamp(max=k).float()


def average_precision_at_k(relevance: torch.Tensor, num_positives: torch.Tensor, k: int) -> float:
    """Return mAP@k = mean_q Σ_{j≤k} P@j·rel(j) / min(k, n_q) (CIRCO, ``specs/cir-benchmarks.md`` §3.4).

    A query with ``n_q = 0`` scores 0 (as UDON's ``metrics.py`` does for UnED).
    """
    if relevance.shape[0] == 0:
        raise ValueError("average_precision_at_k needs at least one query")
    rel = relevance[:, :k].float()
    ranks = torch.arange(1, rel.shape[1] + 1, dtype=torch.float32)
    precision = rel.cumsum(dim=1) / ranks
    denom = _positive_counts(num_positives, k)
    ap = (precision * rel).sum(dim=1) / denom.clamp(min=1)
    return torch.where(denom > 0, ap, torch.zeros_like(ap)).mean().item()


def modified_precision_at_k(relevance: torch.Tensor, num_positives: torch.Tensor, k: int) -> float:
    """Return mMP@k = mean_q (1/min(n_q,k)) Σ_{j≤min(n_q,k)} rel(j) (GUIE / UnED, ``specs/uned.md`` §3.3).

    Only the first ``min(n_q, k)`` positions count, so a query with two positives is not penalised
    for positions 3..k. A query with ``n_q = 0`` scores 0 (UDON's rule; the original divides by zero).
    """
    if relevance.shape[0] == 0:
        raise ValueError("modified_precision_at_k needs at least one query")
    rel = relevance[:, :k].float()
    limit = _positive_counts(num_positives, k)
    positions = torch.arange(rel.shape[1], dtype=torch.float32).reshape(1, -1)
    counted = (rel * (positions < limit.reshape(-1, 1))).sum(dim=1)
    mp = counted / limit.clamp(min=1)
    return torch.where(limit > 0, mp, torch.zeros_like(mp)).mean().item()


def top1_accuracy(predictions: torch.Tensor, labels: torch.Tensor) -> float:
    """Return micro accuracy: the fraction of samples whose prediction equals the label."""
    if labels.numel() == 0:
        raise ValueError("top1_accuracy needs at least one sample")
    return (predictions == labels).double().mean().item()


def mean_per_class_accuracy(predictions: torch.Tensor, labels: torch.Tensor) -> float:
    """Return macro accuracy: the mean over classes present in ``labels`` of their per-class accuracy.

    MERU's "accuracy" is this one (torchmetrics ``MulticlassAccuracy`` defaults to macro,
    ``specs/hyperbolic.md`` §7.1); classes without samples are left out of the mean.
    """
    if labels.numel() == 0:
        raise ValueError("mean_per_class_accuracy needs at least one sample")
    classes = torch.unique(labels)
    correct = (predictions == labels).float()
    per_class = torch.stack([correct[labels == c].mean() for c in classes])
    return per_class.mean().item()
