"""cir-hyperbolic: Lorentz-model maths, MERU lifting, hyperbolic losses and traversals, stable in float32.

The convention (curvature -curv with curv > 0; space components only) is stated in
:mod:`cir_hyperbolic.lorentz`.
"""

from __future__ import annotations

from .diagnostics import hyperbolic_diagnostics
from .lorentz import (
    DEFAULT_MIN_RADIUS,
    EXP_MAP0_MAX_RADIUS,
    dist,
    dist0,
    exp_map0,
    from_geoopt,
    geodesic_lerp0,
    geoopt_k,
    half_aperture,
    in_cone,
    inner,
    log_map0,
    oxy_angle,
    pairwise_dist,
    pairwise_inner,
    pairwise_oxy_angle,
    tangent0_from_geoopt,
    tangent0_to_geoopt,
    time_component,
    to_geoopt,
)
from .losses import (
    DEFAULT_ENTAIL_WEIGHT,
    HYCOCLIP_INTER_CONE_MULTIPLIER,
    HYCOCLIP_INTRA_CONE_MULTIPLIER,
    entailment_loss,
    hycoclip_contrastive_loss,
    hycoclip_entailment_loss,
    hyperbolic_contrastive_loss,
)
from .nn import LearnableCurvature, LogitScale, LorentzLift
from .optim import param_groups
from .traversal import ROOT, ROOT_LABEL, image_traversal, label_traversal

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_ENTAIL_WEIGHT",
    "DEFAULT_MIN_RADIUS",
    "EXP_MAP0_MAX_RADIUS",
    "HYCOCLIP_INTER_CONE_MULTIPLIER",
    "HYCOCLIP_INTRA_CONE_MULTIPLIER",
    "ROOT",
    "ROOT_LABEL",
    "LearnableCurvature",
    "LogitScale",
    "LorentzLift",
    "__version__",
    "dist",
    "dist0",
    "entailment_loss",
    "exp_map0",
    "from_geoopt",
    "geodesic_lerp0",
    "geoopt_k",
    "half_aperture",
    "hycoclip_contrastive_loss",
    "hycoclip_entailment_loss",
    "hyperbolic_contrastive_loss",
    "hyperbolic_diagnostics",
    "image_traversal",
    "in_cone",
    "inner",
    "label_traversal",
    "log_map0",
    "oxy_angle",
    "pairwise_dist",
    "pairwise_inner",
    "pairwise_oxy_angle",
    "param_groups",
    "tangent0_from_geoopt",
    "tangent0_to_geoopt",
    "time_component",
    "to_geoopt",
]
