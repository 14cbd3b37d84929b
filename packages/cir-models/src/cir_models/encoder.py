"""The base class every conditional encoder shares: cir-eval's protocol on top of two feature methods.

A subclass implements ``gallery_features(images)`` and ``query_features(images, texts)`` on
preprocessed image tensors; both keep gradients, so cir-train trains through them. The protocol
methods ``encode_gallery`` / ``encode_query`` add input handling (PIL list or stacked tensor) and
run without gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from cir_models.backbone import Backbone
from cir_models.checkpoint import load_state_dict, strip_prefix
from cir_models.transforms import ImageTransforms

__all__ = ["ConditionalEncoder", "SharedImageFeatures"]


class ConditionalEncoder(nn.Module):
    """A backbone plus an optional trainable ``head``, speaking cir-eval's encoder protocol."""

    similarity: ClassVar[str] = "cosine"
    transform_kind: ClassVar[str] = "clip"

    def __init__(self, backbone: Backbone, transform_kind: str | None = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.transforms: ImageTransforms = backbone.transforms(transform_kind or self.transform_kind)
        self.head: nn.Module | None = None

    @property
    def preprocess(self) -> Callable[[Any], torch.Tensor]:
        """The evaluation transform ``PIL.Image -> Tensor[3, H, W]`` (cir-eval applies it in its workers)."""
        return self.transforms.eval

    def gallery_features(self, images: torch.Tensor) -> torch.Tensor:
        """Gallery embeddings ``[N, D]`` of preprocessed images (differentiable)."""
        raise NotImplementedError

    def query_features(self, images: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        """Query embeddings ``[N, D]`` of preprocessed reference images and their conditions."""
        raise NotImplementedError

    @torch.no_grad()
    def encode_gallery(self, images: Sequence[Any] | torch.Tensor) -> torch.Tensor:
        """Protocol: one embedding per gallery image (PIL list or stacked preprocessed tensor)."""
        return self.gallery_features(self.backbone.prepare_images(images, self.preprocess))

    @torch.no_grad()
    def encode_query(self, images: Sequence[Any] | torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        """Protocol: one embedding per (reference image, condition text) pair."""
        if len(texts) != len(images):
            raise ValueError(f"encode_query needs one text per image, got {len(texts)} for {len(images)}")
        return self.query_features(self.backbone.prepare_images(images, self.preprocess), list(texts))

    def load_head(self, path: str, key: str | None = None) -> None:
        """Load this encoder's head weights (official key names; a ``module.`` prefix is stripped)."""
        if self.head is None:
            raise ValueError(f"{type(self).__name__} has no trainable head to load {path} into")
        state = strip_prefix(load_state_dict(path, key=key), "module.")
        try:
            self.head.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise ValueError(f"{path}: weights do not fit the {type(self).__name__} head: {err}") from None


class SharedImageFeatures(ConditionalEncoder):
    """An encoder whose gallery embedding and query both start from the backbone's image features.

    The gallery embedding is the normalised image feature; a subclass defines ``compose(image_features,
    texts)``. It offers cir-eval's optional shared-feature methods, so an evaluation runs the image
    tower once per image even where that image is a reference too.
    """

    def compose(self, image_features: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        """Query embeddings ``[N, D]`` from raw image features ``[N, F]`` and their conditions."""
        raise NotImplementedError

    def gallery_features(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.backbone.encode_image(images), dim=-1)

    def query_features(self, images: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        return self.compose(self.backbone.encode_image(images), texts)

    @torch.no_grad()
    def encode_image_features(self, images: Sequence[Any] | torch.Tensor) -> torch.Tensor:
        """Protocol (shared features): the raw backbone image features ``[N, F]``."""
        return self.backbone.encode_image(self.backbone.prepare_images(images, self.preprocess))

    @torch.no_grad()
    def gallery_from_features(self, features: torch.Tensor) -> torch.Tensor:
        """Protocol (shared features): what :meth:`encode_gallery` gives for the images of ``features``."""
        return F.normalize(features, dim=-1)

    @torch.no_grad()
    def query_from_features(self, features: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        """Protocol (shared features): what :meth:`encode_query` gives for the images of ``features``."""
        if len(texts) != len(features):
            raise ValueError(f"query_from_features needs one text per row, got {len(texts)} for {len(features)}")
        return self.compose(features, list(texts))
