"""Training losses of the recipes: CLIP InfoNCE, the Combiner's query→target InfoNCE, LinCIR's MSE, NormFace.

Contrastive losses take this rank's rows and gather the other side from every rank with
gradients (:func:`cir_train.distributed.gather_with_grad`): rank r's positives sit at
``r * B + i`` of the gathered batch. Averaged over ranks by the data-parallel gradient mean,
this gives exactly the gradient of the loss over the global batch. MERU's hyperbolic losses
live in :mod:`cir_hyperbolic.losses`; the learnable, capped logit scale is
:class:`cir_hyperbolic.nn.LogitScale`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cir_hyperbolic.lorentz import pairwise_dist
from cir_hyperbolic.nn import LogitScale
from cir_train.distributed import gather_with_grad, rank_offset

__all__ = [
    "COMBINER_TEMPERATURE",
    "NORMFACE_SCALE",
    "ClipLoss",
    "CosineClassifier",
    "clip_contrastive_loss",
    "lincir_loss",
    "lincir_noise",
    "meru_contrastive_loss",
    "normface_loss",
    "query_target_infonce",
]

COMBINER_TEMPERATURE = 0.01
"""GeneCIS Combiner: logits = 100 · q · tᵀ, i.e. temperature 0.01 (specs/genecis.md §6.3)."""

NORMFACE_SCALE = 16.0
"""UnED normalised softmax: scale s = 16, margin 0 (specs/uned.md §4.1)."""


def _positive_labels(local_rows: int, device: torch.device) -> Tensor:
    return torch.arange(local_rows, device=device) + rank_offset(local_rows)


def clip_contrastive_loss(image: Tensor, text: Tensor, logit_scale: Tensor | float) -> Tensor:
    """Symmetric CLIP InfoNCE, ½·(CE(s·img·txtᵀ) + CE(s·txt·imgᵀ)), over the global batch.

    ``image`` and ``text`` are this rank's L2-normalised embeddings ``[B, D]``, row i paired with
    row i; the other side's rows come from every rank (gathered with gradients).
    """
    if image.shape != text.shape or image.ndim != 2:
        raise ValueError(f"clip_contrastive_loss: expected two [B, D] batches, got {image.shape} and {text.shape}")
    all_image, all_text = gather_with_grad(image), gather_with_grad(text)
    labels = _positive_labels(image.shape[0], image.device)
    logits_image = logit_scale * image @ all_text.T
    logits_text = logit_scale * text @ all_image.T
    return 0.5 * (F.cross_entropy(logits_image, labels) + F.cross_entropy(logits_text, labels))


class ClipLoss(nn.Module):
    """CLIP InfoNCE with a learnable logit scale (init 1/0.07, capped at 100); train it with the model."""

    def __init__(self, init_scale: float = 1.0 / 0.07, max_scale: float = 100.0) -> None:
        super().__init__()
        self.logit_scale = LogitScale(init=init_scale, max_scale=max_scale)

    def forward(self, image: Tensor, text: Tensor) -> Tensor:
        """The loss of L2-normalised embeddings ``image``, ``text`` ``[B, D]``."""
        return clip_contrastive_loss(image, text, self.logit_scale())


def meru_contrastive_loss(image: Tensor, text: Tensor, curv: Tensor | float, logit_scale: Tensor | float) -> Tensor:
    """MERU's contrastive loss over the global batch, ½·(CE(−s·d(img, txtᵀ)) + CE(−s·d(txt, imgᵀ))).

    ``image`` and ``text`` are this rank's lifted points (space components, specs/hyperbolic.md §5.4);
    the other side's rows are gathered from every rank with gradients, and d is the Lorentz
    distance at curvature ``curv`` (matmul form, as MERU), computed in float32.
    """
    if image.shape != text.shape or image.ndim != 2:
        raise ValueError(f"meru_contrastive_loss: expected two [B, D] batches, got {image.shape} and {text.shape}")
    image, text = image.float(), text.float()
    all_image, all_text = gather_with_grad(image), gather_with_grad(text)
    labels = _positive_labels(image.shape[0], image.device)
    logits_image = -logit_scale * pairwise_dist(image, all_text, curv=curv)
    logits_text = -logit_scale * pairwise_dist(text, all_image, curv=curv)
    return 0.5 * (F.cross_entropy(logits_image, labels) + F.cross_entropy(logits_text, labels))


def query_target_infonce(query: Tensor, target: Tensor, temperature: float = COMBINER_TEMPERATURE) -> Tensor:
    """One-directional InfoNCE, CE(q · tᵀ / temperature), with targets gathered from every rank.

    GeneCIS's Combiner loss (specs/genecis.md §6.3): query → target only, no image–image term,
    the other targets of the global batch as negatives. Inputs are L2-normalised ``[B, D]``.
    """
    if query.shape != target.shape or query.ndim != 2:
        raise ValueError(f"query_target_infonce: expected two [B, D] batches, got {query.shape} and {target.shape}")
    logits = query @ gather_with_grad(target).T / temperature
    return F.cross_entropy(logits, _positive_labels(query.shape[0], query.device))


def lincir_noise(embedding: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """LinCIR's input noise, z + α·ε with α ~ U(0, 1) per sample and ε ~ N(0, I) (specs/lincir.md §1.5)."""
    alpha = torch.rand(embedding.shape[0], 1, device=embedding.device, dtype=embedding.dtype, generator=generator)
    noise = torch.randn(embedding.shape, device=embedding.device, dtype=embedding.dtype, generator=generator)
    return embedding + alpha * noise


def lincir_loss(predicted: Tensor, target: Tensor) -> Tensor:
    """LinCIR's loss: MSE in float32 between unnormalised text embeddings (specs/lincir.md §1.6)."""
    return F.mse_loss(predicted.float(), target.float())


class CosineClassifier(nn.Module):
    """Bias-free classifier whose logits are cos θ between the input and each class weight (UnED)."""

    def __init__(self, dim: int, num_classes: int) -> None:
        super().__init__()
        bound = math.sqrt(3.0 / dim)  # lecun_uniform: U(±sqrt(3 / fan_in)), specs/uned.md §4.1
        self.weight = nn.Parameter(torch.empty(num_classes, dim).uniform_(-bound, bound))

    def forward(self, embedding: Tensor) -> Tensor:
        """Cosine logits ``[B, num_classes]`` of embeddings ``[B, dim]``."""
        return F.normalize(embedding, dim=-1) @ F.normalize(self.weight, dim=-1).T


def normface_loss(cosine_logits: Tensor, labels: Tensor, scale: float = NORMFACE_SCALE) -> Tensor:
    """Normalised softmax, CE(s · cos θ) with margin 0 (specs/uned.md §4.1)."""
    return F.cross_entropy(scale * cosine_logits, labels)
