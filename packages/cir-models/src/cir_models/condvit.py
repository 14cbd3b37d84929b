"""CondViT: a CLIP ViT that reads the condition as one extra token (``specs/condvit-lrvsf.md`` §1).

Model card
    Paper: Lepage et al., "LRVS-Fashion: Extending Visual Search with Referring Instructions",
    arXiv 2306.02928 (Simon-Lepage/CondViT-LRVSF).
    Inputs: query = image + condition (a category name, or free text); gallery images carry no
    condition. An empty condition ``""`` means no extra token: the model is then exactly the plain ViT.
    Output space: the ViT's projected CLS output, L2-normalised, ``[N, embed_dim]``.
    Metric: cosine. Preprocessing: pad to a white square, resize, no crop (§1.5).

The sequence is [CLS, patch_1 … patch_N, COND]; COND carries its own learned position
(``c_pos_embedding``, init width^−0.5·N(0, 1)) and joins before ``ln_pre``; the output is read at
CLS, so the condition acts only through attention. ``condition="category"`` looks the condition up
in a table (default vocabulary: LRVS-F's 10 categories); ``condition="text"`` encodes it with the
backbone's text tower, frozen, and projects it to the ViT width with a learned linear layer. The
released text model uses a frozen Sentence-T5-XL instead, and whether it adds a learned layer is
*unverified* (§1.3).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cir_models.backbone import Backbone
from cir_models.encoder import ConditionalEncoder
from cir_models.registry import register_encoder

__all__ = ["LRVSF_CATEGORIES", "CategoryCondition", "CondViTEncoder", "TextCondition"]

# specs/condvit-lrvsf.md §1.2: index 0 is "Bags"; there is no "unknown" index
LRVSF_CATEGORIES = (
    "Bags", "Feet", "Hands", "Head", "Lower Body", "Neck", "Outwear", "Upper Body", "Waist", "Whole Body",
)


def _position(width: int) -> nn.Parameter:
    return nn.Parameter(width**-0.5 * torch.randn(1, width))


class CategoryCondition(nn.Module):
    """Condition token from a learned table of named categories, plus its position."""

    def __init__(self, backbone: Backbone, categories: Sequence[str] = LRVSF_CATEGORIES) -> None:
        super().__init__()
        self.categories = tuple(categories)
        self.index = {name: i for i, name in enumerate(self.categories)}
        self.c_embedding = nn.Embedding(len(self.categories), backbone.vision_width)
        self.c_pos_embedding = _position(backbone.vision_width)

    def forward(self, backbone: Backbone, conditions: Sequence[str]) -> torch.Tensor:
        """Tokens ``[B, 1, width]`` (embedding + position) for category names."""
        unknown = [c for c in conditions if c not in self.index]
        if unknown:
            raise KeyError(f"unknown categories {sorted(set(unknown))}; known: {list(self.categories)}")
        ids = torch.tensor([self.index[c] for c in conditions], device=self.c_pos_embedding.device)
        return (self.c_embedding(ids) + self.c_pos_embedding).unsqueeze(1)


class TextCondition(nn.Module):
    """Condition token from a frozen text embedding, projected to the ViT width, plus its position."""

    def __init__(self, backbone: Backbone) -> None:
        super().__init__()
        self.text_projection = nn.Linear(backbone.embed_dim, backbone.vision_width)
        self.c_pos_embedding = _position(backbone.vision_width)

    def forward(self, backbone: Backbone, conditions: Sequence[str]) -> torch.Tensor:
        """Tokens ``[B, 1, width]`` for free-text conditions."""
        with torch.no_grad():  # the sentence encoder is frozen, as in the released text model
            text = backbone.encode_text(conditions)
        return (self.text_projection(text) + self.c_pos_embedding).unsqueeze(1)


_CONDITIONS = {"category": CategoryCondition, "text": TextCondition}


class CondViTEncoder(ConditionalEncoder):
    """Backbone ViT + a condition-token head; see the module docstring."""

    transform_kind = "squarepad"
    head: nn.Module

    def __init__(self, backbone: Backbone, condition: str = "category", **condition_options: object) -> None:
        if condition not in _CONDITIONS:
            raise KeyError(f"unknown CondViT condition {condition!r}; known: {sorted(_CONDITIONS)}")
        super().__init__(backbone)
        self.head = _CONDITIONS[condition](backbone, **condition_options)

    def gallery_features(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.backbone.encode_image_tokens(images), dim=-1)

    def query_features(self, images: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        with_condition = [i for i, text in enumerate(texts) if text]
        without = [i for i, text in enumerate(texts) if not text]
        out = torch.empty(len(texts), self.backbone.embed_dim, device=images.device)
        if with_condition:
            tokens = self.head(self.backbone, [texts[i] for i in with_condition])
            out[with_condition] = self.backbone.encode_image_tokens(images[with_condition], tokens)
        if without:
            out[without] = self.backbone.encode_image_tokens(images[without])
        return F.normalize(out, dim=-1)


@register_encoder("condvit")
def create_condvit(
    backbone: Backbone, condition: str = "category", categories: Sequence[str] | None = None
) -> CondViTEncoder:
    """CondViT with a categorical (default: LRVS-F's 10 categories) or a text condition token."""
    options = {} if categories is None else {"categories": categories}
    return CondViTEncoder(backbone, condition=condition, **options)
