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
from torch import nn

from cir_models.backbone import Backbone
from cir_models.checkpoint import load_state_dict, strip_prefix
from cir_models.transforms import ImageTransforms

__all__ = ["ConditionalEncoder"]


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
