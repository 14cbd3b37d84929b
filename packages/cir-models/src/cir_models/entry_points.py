"""Factories for cir-eval's ``cir_eval.encoders`` entry-point group (declared in ``pyproject.toml``).

Each takes keyword options (``model``, ``pretrained``, ``head_path``, ``device`` and the encoder's
own) and returns the encoder alone; its transforms stay reachable as ``encoder.transforms``.
"""

from __future__ import annotations

from typing import Any

from cir_models.encoder import ConditionalEncoder
from cir_models.registry import create_encoder

__all__ = ["combiner", "condvit", "image_only", "image_plus_text", "meru", "phi", "text_only", "universal"]


def _build(name: str, options: dict[str, Any]) -> ConditionalEncoder:
    encoder, _ = create_encoder(name, **options)
    return encoder


def image_only(**options: Any) -> ConditionalEncoder:
    """GeneCIS image-only baseline."""
    return _build("image_only", options)


def text_only(**options: Any) -> ConditionalEncoder:
    """GeneCIS text-only baseline."""
    return _build("text_only", options)


def image_plus_text(**options: Any) -> ConditionalEncoder:
    """GeneCIS image + text baseline."""
    return _build("image_plus_text", options)


def combiner(**options: Any) -> ConditionalEncoder:
    """GeneCIS Combiner."""
    return _build("combiner", options)


def phi(**options: Any) -> ConditionalEncoder:
    """LinCIR phi (SEARLE / Pic2Word with ``variant=``)."""
    return _build("phi", options)


def condvit(**options: Any) -> ConditionalEncoder:
    """CondViT."""
    return _build("condvit", options)


def universal(**options: Any) -> ConditionalEncoder:
    """UnED-style universal embedding."""
    return _build("universal", options)


def meru(**options: Any) -> ConditionalEncoder:
    """MERU-CLIP (hyperbolic)."""
    return _build("meru", options)
