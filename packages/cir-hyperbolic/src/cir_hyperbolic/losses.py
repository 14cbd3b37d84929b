"""Hyperbolic contrastive and entailment losses of MERU (spec §5.4) and HyCoCLIP (spec §6).

All inputs are space components (see :mod:`cir_hyperbolic.lorentz`); losses run in float32 or higher with
autocast off. Gathering embeddings across ranks is the trainer's job: pass the gathered tensors in.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ._numerics import Curvature, float_math
from .lorentz import DEFAULT_MIN_RADIUS, half_aperture, oxy_angle, pairwise_dist

__all__ = [
    "DEFAULT_ENTAIL_WEIGHT",
    "HYCOCLIP_INTER_CONE_MULTIPLIER",
    "HYCOCLIP_INTRA_CONE_MULTIPLIER",
    "entailment_loss",
    "hycoclip_contrastive_loss",
    "hycoclip_entailment_loss",
    "hyperbolic_contrastive_loss",
]

DEFAULT_ENTAIL_WEIGHT = 0.2
"""λ in L = L_con + λ·L_ent: every MERU/HyCoCLIP config sets 0.2 (the MERU class default 0.0 is a trap,
spec §10 row 12). The caller applies it."""

HYCOCLIP_INTER_CONE_MULTIPLIER = 0.7
"""η for text→image cones in HyCoCLIP: narrower than MERU's (spec §6)."""

HYCOCLIP_INTRA_CONE_MULTIPLIER = 1.2
"""η for part→whole cones within one modality in HyCoCLIP: wider (spec §6)."""


def _distance_logits(queries: Tensor, keys: Tensor, curv: Curvature, logit_scale: float | Tensor) -> Tensor:
    """Logits -s·d(query_i, key_j), shape (B_q, B_k)."""
    return -pairwise_dist(queries, keys, curv=curv) * logit_scale


def _check_paired(name: str, first: Tensor, second: Tensor) -> None:
    """Raises if two embedding batches cannot be paired row by row."""
    if first.ndim != 2 or first.shape != second.shape:
        raise ValueError(
            f"{name}: expected two (B, D) batches of the same shape, got {tuple(first.shape)} and "
            f"{tuple(second.shape)}"
        )


@float_math
def hyperbolic_contrastive_loss(
    image: Tensor, text: Tensor, curv: Curvature, logit_scale: float | Tensor
) -> Tensor:
    """MERU's symmetric contrastive loss, ½·(CE_img + CE_txt) on logits -logit_scale·d(image_i, text_j).

    Row i of ``image`` is paired with row i of ``text``; all other rows are negatives. Distances use the matmul
    form of :func:`~cir_hyperbolic.lorentz.pairwise_dist`, as MERU does.
    """
    _check_paired("hyperbolic_contrastive_loss", image, text)
    logits = _distance_logits(image, text, curv, logit_scale)
    targets = torch.arange(image.shape[0], device=logits.device)
    return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets))


@float_math
def entailment_loss(
    general: Tensor,
    specific: Tensor,
    curv: Curvature,
    cone_multiplier: float = 1.0,
    min_radius: float = DEFAULT_MIN_RADIUS,
) -> Tensor:
    """Mean cone violation, mean_i max(0, ext(general_i, specific_i) - η·ω(general_i)).

    The general concept is the cone apex and its paired specific one must lie inside the cone. MERU uses
    (text, image) with η = 1 and K = 0.1; HyCoCLIP's E(p, q; η) uses any general→specific pair with η = 0.7
    across modalities and 1.2 within one (spec §5.4, §6). Pairs must be distinct points: ext(x, x) = π/2 is
    an artefact (spec §10 row 8). Weight the result by the caller's λ (:data:`DEFAULT_ENTAIL_WEIGHT`).
    """
    _check_paired("entailment_loss", general, specific)
    aperture = half_aperture(general, curv=curv, min_radius=min_radius)
    return torch.relu(oxy_angle(general, specific, curv=curv) - cone_multiplier * aperture).mean()


@float_math
def hycoclip_contrastive_loss(
    image: Tensor,
    text: Tensor,
    box_image: Tensor,
    box_text: Tensor,
    curv: Curvature,
    logit_scale: float | Tensor,
) -> Tensor:
    """HyCoCLIP's L_hCC = ¼·[CE(I→T) + CE(T→I) + CE(I_box→T) + CE(T_box→I)] (spec §6).

    Each box crop and box phrase is a query against the full texts or images of the batch.
    """
    for name, tensor in (("text", text), ("box_image", box_image), ("box_text", box_text)):
        _check_paired(f"hycoclip_contrastive_loss (image vs {name})", image, tensor)
    targets = torch.arange(image.shape[0], device=image.device)
    pairs = ((image, text), (text, image), (box_image, text), (box_text, image))
    terms = [F.cross_entropy(_distance_logits(q, k, curv, logit_scale), targets) for q, k in pairs]
    return torch.stack(terms).mean()


@float_math
def hycoclip_entailment_loss(
    image: Tensor,
    text: Tensor,
    box_image: Tensor,
    box_text: Tensor,
    curv: Curvature,
    inter_multiplier: float = HYCOCLIP_INTER_CONE_MULTIPLIER,
    intra_multiplier: float = HYCOCLIP_INTRA_CONE_MULTIPLIER,
    min_radius: float = DEFAULT_MIN_RADIUS,
) -> Tensor:
    """HyCoCLIP's L_hCE = ½·[E(T, I; 0.7) + E(T_box, I_box; 0.7) + E(I_box, I; 1.2) + E(T_box, T; 1.2)] (spec §6).

    Boxes are the parents (more general), full images and captions the children.
    """
    terms = (
        (text, image, inter_multiplier),
        (box_text, box_image, inter_multiplier),
        (box_image, image, intra_multiplier),
        (box_text, text, intra_multiplier),
    )
    losses = [
        entailment_loss(g, s, curv=curv, cone_multiplier=eta, min_radius=min_radius) for g, s, eta in terms
    ]
    return 0.5 * torch.stack(losses).sum()
