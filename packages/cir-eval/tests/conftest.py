"""Shared fixtures for the cir-eval tests: solid-colour images and an encoder whose scores are hand-computable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
YELLOW, CYAN, MAGENTA, WHITE = (255, 255, 0), (0, 255, 255), (255, 0, 255), (255, 255, 255)


def write_image(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (8, 8)) -> Path:
    """Write a solid-colour image (format from the suffix) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return path


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as JSON, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


class ColorEncoder:
    """Gallery embedding = normalised mean RGB (in steps of 1/20, so JPEG noise vanishes); query adds shift[text].

    Every score is a cosine between small 3-vectors, so rankings can be worked out by hand.
    """

    def __init__(self, shifts: dict[str, tuple[float, float, float]] | None = None) -> None:
        self.shifts = shifts or {}
        self.gallery_calls = 0
        self.gallery_images = 0
        self.texts: list[str] = []

    @staticmethod
    def _colors(images: Any) -> torch.Tensor:
        return torch.stack(
            [
                torch.from_numpy(np.round(np.asarray(im, dtype=np.float32).reshape(-1, 3).mean(0) / 255.0 * 20) / 20)
                for im in images
            ]
        )

    def encode_gallery(self, images: Any) -> torch.Tensor:
        self.gallery_calls += 1
        self.gallery_images += len(images)
        return torch.nn.functional.normalize(self._colors(images), dim=1)

    def encode_query(self, images: Any, texts: list[str]) -> torch.Tensor:
        shift = torch.tensor([self.shifts.get(t, (0.0, 0.0, 0.0)) for t in texts], dtype=torch.float32)
        self.texts.extend(texts)
        return torch.nn.functional.normalize(self._colors(images) + shift, dim=1)


class SharedColorEncoder(ColorEncoder):
    """:class:`ColorEncoder` with the shared-feature methods: the mean colour is computed once per image."""

    def __init__(self, shifts: dict[str, tuple[float, float, float]] | None = None) -> None:
        super().__init__(shifts)
        self.feature_images = 0

    def encode_image_features(self, images: Any) -> torch.Tensor:
        self.feature_images += len(images)
        return self._colors(images)

    def gallery_from_features(self, features: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.normalize(features, dim=1)

    def query_from_features(self, features: torch.Tensor, texts: list[str]) -> torch.Tensor:
        shift = torch.tensor([self.shifts.get(t, (0.0, 0.0, 0.0)) for t in texts], dtype=torch.float32)
        self.texts.extend(texts)
        return torch.nn.functional.normalize(features + shift, dim=1)


@pytest.fixture
def color_encoder() -> ColorEncoder:
    """An encoder that shifts queries toward blue for 'to blue', green for 'to green', red for 'to red'."""
    return ColorEncoder({"to blue": (0.0, 0.0, 3.0), "to green": (0.0, 3.0, 0.0), "to red": (3.0, 0.0, 0.0)})


@pytest.fixture
def make_image() -> Any:
    """Return :func:`write_image`."""
    return write_image


@pytest.fixture
def make_json() -> Any:
    """Return :func:`write_json`."""
    return write_json


@pytest.fixture
def encoder_cls() -> type[ColorEncoder]:
    """Return the :class:`ColorEncoder` class."""
    return ColorEncoder


@pytest.fixture
def shared_encoder_cls() -> type[SharedColorEncoder]:
    """Return the :class:`SharedColorEncoder` class."""
    return SharedColorEncoder
