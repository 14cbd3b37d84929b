"""The encoder registry and the one factory, :func:`create_encoder`, that every caller uses."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import torch

from cir_models.backbone import Backbone, create_backbone
from cir_models.encoder import ConditionalEncoder
from cir_models.transforms import ImageTransforms

__all__ = ["create_encoder", "get_encoder_factory", "list_encoders", "register_encoder"]

EncoderFactory = Callable[..., ConditionalEncoder]
F = TypeVar("F", bound=EncoderFactory)

_ENCODERS: dict[str, EncoderFactory] = {}


def register_encoder(name: str) -> Callable[[F], F]:
    """Register ``factory(backbone, **options) -> encoder`` under ``name``; a second registration is an error."""

    def decorate(factory: F) -> F:
        if name in _ENCODERS:
            raise ValueError(f"encoder {name!r} is already registered (by {_ENCODERS[name].__module__})")
        _ENCODERS[name] = factory
        return factory

    return decorate


def list_encoders() -> list[str]:
    """Sorted names of the registered encoders."""
    return sorted(_ENCODERS)


def get_encoder_factory(name: str) -> EncoderFactory:
    """The factory registered under ``name``."""
    if name not in _ENCODERS:
        raise KeyError(f"unknown encoder {name!r}; registered: {list_encoders()}")
    return _ENCODERS[name]


def create_encoder(
    name: str,
    model: str = "cir-tiny",
    pretrained: str | os.PathLike[str] | None = None,
    head_path: str | os.PathLike[str] | None = None,
    device: str | torch.device = "cpu",
    **overrides: Any,
) -> tuple[ConditionalEncoder, ImageTransforms]:
    """Build encoder ``name`` on backbone ``model`` and return it (in eval mode) with its transforms.

    ``pretrained`` is an open_clip tag or a checkpoint file for the backbone; ``head_path`` a
    checkpoint for the encoder's head (e.g. GeneCIS's ``vitb16_combiner_head.pt``); ``overrides``
    go to the encoder's factory. Seed torch first for a reproducible random initialisation.

    Example::

        encoder, transforms = create_encoder("image_plus_text")
        query = encoder.encode_query(images, ["red"])
    """
    factory = get_encoder_factory(name)
    backbone: Backbone = create_backbone(model, pretrained=pretrained, device=device)
    encoder = factory(backbone, **overrides).to(device)
    if head_path is not None:
        encoder.load_head(os.fspath(head_path))
    encoder.eval()
    return encoder, encoder.transforms
