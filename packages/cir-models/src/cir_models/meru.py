"""MERU-CLIP: backbone features lifted onto the Lorentz hyperboloid (``specs/hyperbolic.md`` §5).

Model card
    Paper: Desai et al., "Hyperbolic Image-Text Representations" (MERU), ICML 2023, arXiv 2304.09172.
    Inputs: gallery images; queries are the reference image + condition text (``query_mode``).
    Output space: space components of points on the hyperboloid of curvature −c, ``[N, embed_dim]``
    (not normalised; see ``cir_hyperbolic.lorentz``).
    Metric: negative Lorentz distance, declared to cir-eval as the ``similarity`` callable; all
    manifold math comes from ``cir_hyperbolic``.

Differences from the paper: the towers are open_clip's (the paper uses timm ViTs with fixed
sin-cos positions and ImageNet normalisation inside the model). MERU scores image-text pairs;
for conditional queries ``query_mode`` picks ``"text"`` (the condition alone, MERU's text→image
retrieval), ``"image"``, or ``"image_plus_text"`` (default): the mean of the two lifted tangent
vectors at the origin, mapped back with exp0 — our hyperbolic analogue of GeneCIS's image + text
baseline, not a method from the paper.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from cir_hyperbolic.lorentz import exp_map0, pairwise_dist
from cir_hyperbolic.nn import LearnableCurvature, LogitScale, LorentzLift
from cir_models.backbone import Backbone
from cir_models.encoder import ConditionalEncoder
from cir_models.registry import register_encoder

__all__ = ["MeruEncoder", "MeruHead"]


class MeruHead(nn.Module):
    """MERU's learnable scalars: image and text lifts (α), curvature c, and the contrastive logit scale."""

    def __init__(self, embed_dim: int, curv_init: float = 1.0, learn_curv: bool = True) -> None:
        super().__init__()
        self.visual_lift = LorentzLift(embed_dim)
        self.textual_lift = LorentzLift(embed_dim)
        self.curv = LearnableCurvature(init=curv_init, learn=learn_curv)
        self.logit_scale = LogitScale()


def _image_plus_text(head: MeruHead, image: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    tangent = 0.5 * (head.visual_lift.tangent(image) + head.textual_lift.tangent(text))
    return exp_map0(tangent, curv=head.curv())


_QUERY_MODES: dict[str, Callable[[MeruHead, torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "text": lambda head, image, text: head.textual_lift(text, curv=head.curv()),
    "image": lambda head, image, text: head.visual_lift(image, curv=head.curv()),
    "image_plus_text": _image_plus_text,
}


class MeruEncoder(ConditionalEncoder):
    """Backbone + :class:`MeruHead`; similarity is −d_L(query, gallery) at the learned curvature."""

    head: MeruHead

    def __init__(
        self, backbone: Backbone, query_mode: str = "image_plus_text", curv_init: float = 1.0,
        learn_curv: bool = True,
    ) -> None:
        if query_mode not in _QUERY_MODES:
            raise KeyError(f"unknown MERU query_mode {query_mode!r}; known: {sorted(_QUERY_MODES)}")
        super().__init__(backbone)
        self.query_mode = query_mode
        self.head = MeruHead(backbone.embed_dim, curv_init=curv_init, learn_curv=learn_curv)

    def gallery_features(self, images: torch.Tensor) -> torch.Tensor:
        return self.head.visual_lift(self.backbone.encode_image(images), curv=self.head.curv())

    def query_features(self, images: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        image = self.backbone.encode_image(images)
        text = self.backbone.encode_text(texts)
        return _QUERY_MODES[self.query_mode](self.head, image, text)

    def similarity(self, queries: torch.Tensor, gallery: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """Scores ``[Q, G]``: negative Lorentz distance at the current curvature (higher is closer)."""
        return -pairwise_dist(queries, gallery, curv=self.head.curv().to(queries.device))


@register_encoder("meru")
def create_meru(
    backbone: Backbone, query_mode: str = "image_plus_text", curv_init: float = 1.0, learn_curv: bool = True
) -> MeruEncoder:
    """MERU-CLIP on an open_clip backbone (see the module docstring for ``query_mode``)."""
    return MeruEncoder(backbone, query_mode=query_mode, curv_init=curv_init, learn_curv=learn_curv)
