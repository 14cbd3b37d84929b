"""Resolve ``pretrained=``: nothing, a local checkpoint file, or an open_clip pretrained tag.

Preprocessing travels with the weights: a tag brings its own mean, std and interpolation
(open_clip's pretrained registry), which override the architecture's defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import open_clip

__all__ = ["PretrainedUnavailableError", "ResolvedWeights", "list_pretrained_tags", "resolve_pretrained"]

PREPROCESS_KEYS = ("mean", "std", "interpolation", "resize_mode")


class PretrainedUnavailableError(RuntimeError):
    """Weights named by a tag could not be fetched (offline, or the source is unreachable)."""


@dataclass(frozen=True)
class ResolvedWeights:
    """A local weights file (or None for random init) and the preprocessing that goes with it."""

    path: Path | None
    preprocess: dict[str, Any] = field(default_factory=dict)


def list_pretrained_tags(model: str) -> list[str]:
    """open_clip's pretrained tags for architecture ``model`` (empty for our tiny configs)."""
    return list(open_clip.list_pretrained_tags_by_model(model))


def resolve_pretrained(model: str, pretrained: str | os.PathLike[str] | None) -> ResolvedWeights:
    """Turn ``pretrained`` into a local file; a tag is downloaded by open_clip (needs the network)."""
    if pretrained is None:
        return ResolvedWeights(None)
    if Path(pretrained).is_file():
        return ResolvedWeights(Path(pretrained))
    tag = str(pretrained)
    cfg = open_clip.get_pretrained_cfg(model, tag)
    if not cfg:
        raise ValueError(
            f"pretrained={tag!r} is neither an existing file nor an open_clip tag of {model!r} "
            f"(known tags: {list_pretrained_tags(model)})"
        )
    try:
        path = open_clip.download_pretrained(cfg)
    except Exception as err:  # network errors come from urllib, requests or huggingface_hub
        raise PretrainedUnavailableError(
            f"could not fetch the weights of {model!r} tag {tag!r} "
            f"(source {cfg.get('hf_hub') or cfg.get('url')}): the network is unreachable or offline mode "
            f"(HF_HUB_OFFLINE) is set ({type(err).__name__}: {err}). Download the file on a machine with "
            f"network access and pass its local path instead, e.g. "
            f"create_encoder(..., model={model!r}, pretrained='/path/to/open_clip_model.safetensors')"
        ) from err
    if not path:
        raise PretrainedUnavailableError(f"open_clip returned no file for {model!r} tag {tag!r}")
    return ResolvedWeights(Path(path), {k: cfg[k] for k in PREPROCESS_KEYS if k in cfg})
