"""GeneCIS's Combiner head (after CLIP4Cir) and the encoder around it (``specs/genecis.md`` §5).

Model card
    Paper: Vaze et al., "GeneCIS", CVPR 2023, arXiv 2306.07969; head from Baldrati et al., CLIP4Cir.
    Inputs: reference image + raw condition text; both through the backbone, unnormalised.
    Output space: the backbone's joint embedding space, L2-normalised, ``[N, D]``.
    Metric: cosine against normalised gallery image embeddings.
    Weights: the released heads (``rn50x4_combiner_head.pt``, ``vitb16_combiner_head.pt``) load
    with their official key names, with or without ``module.``; they only work with the released
    fine-tuned backbones (§5), which load through ``pretrained=``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cir_models.backbone import Backbone
from cir_models.encoder import SharedImageFeatures
from cir_models.registry import register_encoder

__all__ = ["Combiner", "CombinerEncoder"]

PROJECTION_DIM = 2560  # specs/genecis.md §5
HIDDEN_DIM = 5120
DROPOUT = 0.5


class Combiner(nn.Module):
    """q = normalize(output_layer(combined) + λ·f_txt + (1 − λ)·f_img), λ = dynamic_scalar(raw).

    ``raw`` is the **text-first** concatenation of the two projections; the residual uses the raw,
    unnormalised backbone features. Attribute names match the official state-dict keys.
    """

    def __init__(
        self,
        clip_feature_dim: int,
        projection_dim: int = PROJECTION_DIM,
        hidden_dim: int = HIDDEN_DIM,
        dropout: float = DROPOUT,
    ) -> None:
        super().__init__()
        self.text_projection_layer = nn.Sequential(
            nn.Linear(clip_feature_dim, projection_dim), nn.ReLU(), nn.Dropout(dropout)
        )
        self.image_projection_layer = nn.Sequential(
            nn.Linear(clip_feature_dim, projection_dim), nn.ReLU(), nn.Dropout(dropout)
        )
        self.combiner_layer = nn.Sequential(nn.Linear(2 * projection_dim, hidden_dim), nn.ReLU(), nn.Dropout(dropout))
        self.output_layer = nn.Linear(hidden_dim, clip_feature_dim)
        # keys dynamic_scalar.0.* and dynamic_scalar.3.* as in the released heads
        self.dynamic_scalar = nn.Sequential(
            nn.Linear(2 * projection_dim, hidden_dim), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden_dim, 1), nn.Sigmoid(),
        )
        self.logit_scale = 100.0  # defined by the official module and never used; not a parameter

    def forward(self, image_features: torch.Tensor, text_features: torch.Tensor) -> torch.Tensor:
        """The normalised query ``[N, D]`` from raw image and text features ``[N, D]``."""
        text_proj = self.text_projection_layer(text_features)
        image_proj = self.image_projection_layer(image_features)
        raw = torch.cat([text_proj, image_proj], dim=-1)  # text first: swapping breaks released weights
        combined = self.combiner_layer(raw)
        gate = self.dynamic_scalar(raw)  # [N, 1], one scalar per sample
        out = self.output_layer(combined) + gate * text_features + (1 - gate) * image_features
        return F.normalize(out, dim=1)


class CombinerEncoder(SharedImageFeatures):
    """Backbone + :class:`Combiner`; gallery = normalised backbone image embeddings."""

    head: Combiner

    def __init__(self, backbone: Backbone, **head_options: Any) -> None:
        super().__init__(backbone)
        self.head = Combiner(backbone.embed_dim, **head_options)

    def compose(self, image_features: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        return self.head(image_features, self.backbone.encode_text(texts))


@register_encoder("combiner")
def create_combiner(
    backbone: Backbone,
    projection_dim: int = PROJECTION_DIM,
    hidden_dim: int = HIDDEN_DIM,
    dropout: float = DROPOUT,
) -> CombinerEncoder:
    """GeneCIS Combiner at the official widths; smaller widths are for tests and the synthetic world."""
    return CombinerEncoder(backbone, projection_dim=projection_dim, hidden_dim=hidden_dim, dropout=dropout)
