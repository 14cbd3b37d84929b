"""GeneCIS's training-free baselines: image only, text only, image + text (``specs/genecis.md`` §4).

Model card (all three)
    Paper: Vaze et al., "GeneCIS", CVPR 2023, arXiv 2306.07969 (``FeatureComb``, ``--combiner_mode``).
    Inputs: reference image + raw condition text (no prompt template, §2.3).
    Output space: the backbone's joint embedding space, L2-normalised, ``[N, embed_dim]``.
    Metric: cosine. Gallery images are normalised CLIP image embeddings.
    Fusion uses raw, unnormalised features; only the final query is normalised (§11 trap 2).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from cir_models.backbone import Backbone
from cir_models.encoder import SharedImageFeatures
from cir_models.registry import register_encoder

__all__ = ["FeatureCombination", "ImageOnly", "ImagePlusText", "TextOnly"]

GENECIS_IMAGE_WEIGHT = 0.5  # --feature_comb_average (specs/genecis.md §4)


class FeatureCombination(SharedImageFeatures):
    """Query = ``combine(raw image features, raw text features)``; gallery = normalised image features."""

    def combine(self, image_features: torch.Tensor, text_features: torch.Tensor) -> torch.Tensor:
        """The normalised query from raw backbone features (both ``[N, D]``)."""
        raise NotImplementedError

    def compose(self, image_features: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        return self.combine(image_features, self.backbone.encode_text(texts))


class ImageOnly(FeatureCombination):
    """GeneCIS ``image_only``: normalize(f_img(reference)); the condition is ignored."""

    def combine(self, image_features: torch.Tensor, text_features: torch.Tensor) -> torch.Tensor:
        return F.normalize(image_features, dim=-1)

    def compose(self, image_features: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        return F.normalize(image_features, dim=-1)  # no text tower: the condition is ignored


class TextOnly(FeatureCombination):
    """GeneCIS ``text_only``: normalize(f_txt(condition)); the reference image is ignored."""

    def combine(self, image_features: torch.Tensor, text_features: torch.Tensor) -> torch.Tensor:
        return F.normalize(text_features, dim=-1)

    def query_features(self, images: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        return F.normalize(self.backbone.encode_text(texts), dim=-1)  # no image tower: the image is ignored


class ImagePlusText(FeatureCombination):
    """GeneCIS ``image_plus_text``: normalize(a·f_img + (1 − a)·f_txt) on raw features, a = 0.5.

    Because the features are raw, the mix is weighted by their norms, not 50/50 in direction.
    """

    def __init__(self, backbone: Backbone, image_weight: float = GENECIS_IMAGE_WEIGHT) -> None:
        super().__init__(backbone)
        self.image_weight = image_weight

    def combine(self, image_features: torch.Tensor, text_features: torch.Tensor) -> torch.Tensor:
        a = self.image_weight
        return F.normalize(a * image_features + (1 - a) * text_features, dim=-1)


@register_encoder("image_only")
def create_image_only(backbone: Backbone) -> ImageOnly:
    """GeneCIS image-only baseline."""
    return ImageOnly(backbone)


@register_encoder("text_only")
def create_text_only(backbone: Backbone) -> TextOnly:
    """GeneCIS text-only baseline."""
    return TextOnly(backbone)


@register_encoder("image_plus_text")
def create_image_plus_text(backbone: Backbone, image_weight: float = GENECIS_IMAGE_WEIGHT) -> ImagePlusText:
    """GeneCIS image + text baseline (raw features averaged, then normalised)."""
    return ImagePlusText(backbone, image_weight=image_weight)
