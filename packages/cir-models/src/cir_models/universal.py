"""Universal embedding head: one 64-d descriptor for every domain (UnED, ``specs/uned.md`` §4.1).

Model card
    Paper: Ypsilantis et al., "Towards Universal Image Embeddings", ICCV 2023 (UnED benchmark).
    Inputs: images; a query's condition text is ignored (the embedding is unconditional).
    Output space: 64-d, L2-normalised: CLS → ln_post → L2 → Linear(width, 64, bias) → L2
    (CLIP's own output projection is dropped).
    Metric: cosine (kNN). For training, one cosine classifier per domain gives cos θ logits; the
    normalised-softmax scale (s = 16) belongs to the loss in cir-train.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cir_models.backbone import Backbone
from cir_models.encoder import ConditionalEncoder
from cir_models.registry import register_encoder

__all__ = ["CosineClassifier", "UniversalEncoder", "UniversalHead"]

UNED_OUTPUT_DIM = 64  # specs/uned.md §3.1


class CosineClassifier(nn.Module):
    """Logits cos θ between a normalised embedding and each class weight (no bias, lecun-uniform init)."""

    def __init__(self, dim: int, num_classes: int) -> None:
        super().__init__()
        limit = math.sqrt(3.0 / dim)
        self.weight = nn.Parameter(torch.empty(num_classes, dim).uniform_(-limit, limit))

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Cosine logits ``[N, num_classes]``."""
        return F.normalize(embeddings, dim=-1) @ F.normalize(self.weight, dim=-1).T


class UniversalHead(nn.Module):
    """The 64-d ``projection`` (with bias) and one ``CosineClassifier`` per training domain."""

    def __init__(self, width: int, output_dim: int, domains: Mapping[str, int]) -> None:
        super().__init__()
        self.projection = nn.Linear(width, output_dim)
        self.classifiers = nn.ModuleDict({name: CosineClassifier(output_dim, n) for name, n in domains.items()})


class UniversalEncoder(ConditionalEncoder):
    """Backbone ViT + :class:`UniversalHead`; gallery and query embeddings are the same descriptor."""

    head: UniversalHead

    def __init__(
        self, backbone: Backbone, output_dim: int = UNED_OUTPUT_DIM, domains: Mapping[str, int] | None = None
    ) -> None:
        super().__init__(backbone)
        self.head = UniversalHead(backbone.vision_width, output_dim, dict(domains or {}))

    def gallery_features(self, images: torch.Tensor) -> torch.Tensor:
        pooled = F.normalize(self.backbone.encode_image_tokens(images, project=False), dim=-1)
        return F.normalize(self.head.projection(pooled), dim=-1)

    def query_features(self, images: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        return self.gallery_features(images)

    def classify(self, images: torch.Tensor, domain: str) -> torch.Tensor:
        """Cosine logits of ``domain``'s classifier for preprocessed images."""
        if domain not in self.head.classifiers:
            raise KeyError(f"no classifier for domain {domain!r}; known: {sorted(self.head.classifiers)}")
        return self.head.classifiers[domain](self.gallery_features(images))


@register_encoder("universal")
def create_universal(
    backbone: Backbone, output_dim: int = UNED_OUTPUT_DIM, domains: Mapping[str, int] | None = None
) -> UniversalEncoder:
    """UnED-style universal embedding (``domains`` maps domain name → number of training classes)."""
    return UniversalEncoder(backbone, output_dim=output_dim, domains=domains)
