"""MERU image traversals: walk from an image embedding to the origin and name each step (spec §7.4)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ._numerics import Curvature, float_math
from .lorentz import DEFAULT_MIN_RADIUS, geodesic_lerp0, in_cone, pairwise_inner

__all__ = ["DEFAULT_TRAVERSAL_STEPS", "ROOT", "ROOT_LABEL", "image_traversal", "label_traversal"]

ROOT = -1
"""Index standing for [ROOT], the origin, in a traversal path."""

ROOT_LABEL = "[ROOT]"
"""Label :func:`label_traversal` gives to :data:`ROOT`."""

DEFAULT_TRAVERSAL_STEPS = 50
"""Number of interpolated points in MERU's traversal script."""


@float_math
def image_traversal(
    image: Tensor,
    texts: Tensor,
    curv: Curvature,
    num_steps: int = DEFAULT_TRAVERSAL_STEPS,
    min_radius: float = DEFAULT_MIN_RADIUS,
) -> list[int]:
    """Indices into ``texts`` met on the geodesic from ``image`` (D,) to the origin, de-duplicated, in order.

    At each of ``num_steps`` points exp_map0(t·log_map0(image)), t from 1 to 0, only texts whose entailment
    cone contains the point are candidates, plus :data:`ROOT` (the origin), which is always allowed; the one
    with the largest Lorentzian inner product (the nearest) is taken. Repeats keep their first occurrence.
    ``texts`` is (T, D); memory grows with T·num_steps·D.
    """
    if image.ndim != 1 or texts.ndim != 2 or texts.shape[1] != image.shape[0]:
        raise ValueError(
            f"image_traversal: expected image (D,) and texts (T, D), got {tuple(image.shape)} and "
            f"{tuple(texts.shape)}"
        )
    points = geodesic_lerp0(image, curv=curv, num_steps=num_steps)
    candidates = torch.cat([texts, torch.zeros_like(texts[:1])], dim=0)
    scores = pairwise_inner(points, candidates, curv=curv)
    allowed = in_cone(texts.unsqueeze(1), points.unsqueeze(0), curv=curv, min_radius=min_radius).T
    root_allowed = torch.ones_like(allowed[:, :1])
    scores = scores.masked_fill(~torch.cat([allowed, root_allowed], dim=1), float("-inf"))
    nearest = scores.argmax(dim=1).tolist()
    root_position = texts.shape[0]
    path = [ROOT if index == root_position else index for index in nearest]
    return list(dict.fromkeys(path))


def label_traversal(path: Sequence[int], labels: Sequence[str], root_label: str = ROOT_LABEL) -> list[str]:
    """Text labels for a traversal path, with :data:`ROOT` shown as ``root_label``."""
    return [root_label if index == ROOT else labels[index] for index in path]
