"""Image–caption pairs from img2dataset-layout webdataset shards, held in memory as encoded bytes.

Suits the synthetic world and small sets: every sample's JPEG bytes and caption are read once
(via :func:`cir_data.shards.iter_samples`) and decoded per item, so the dataset is map-style
and the Trainer can split and resume it exactly.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from cir_data.shards import iter_samples, list_shards

__all__ = ["TINY_IMAGE_TEXT_SCALE", "ImageTextShards", "collate_image_text"]

# The tiny CPU setting shared by the image-caption recipes (clip, meru): cir-tiny on the synthetic world's shards.
TINY_IMAGE_TEXT_SCALE = [
    "model.model=cir-tiny",
    "optim.lr=2e-3",
    "optim.warmup_steps=10",
    "max_steps=150",
    "data.micro_batch_size=32",
    "checkpoint.every_steps=50",
]


class ImageTextShards:
    """Map-style dataset of ``{"image": Tensor[3, H, W], "text": str}`` from the shards in ``shard_dir``."""

    def __init__(self, shard_dir: str | Path, transform: Callable[[Image.Image], torch.Tensor]) -> None:
        shards = list_shards(shard_dir)
        if not shards:
            raise FileNotFoundError(f"{shard_dir}: no .tar shards (data.root must point at a shard folder)")
        self.samples = [(s["jpg"], s["txt"]) for s in iter_samples(shards, required=("jpg", "txt"))]
        if not self.samples:
            raise ValueError(f"{shard_dir}: the shards hold no sample with both .jpg and .txt")
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        jpeg, caption = self.samples[index]
        image = Image.open(io.BytesIO(jpeg)).convert("RGB")
        return {"image": self.transform(image), "text": caption if isinstance(caption, str) else caption.decode()}


def collate_image_text(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack the images; keep the captions as a list of strings (the backbone tokenises them)."""
    return {"image": torch.stack([s["image"] for s in samples]), "text": [s["text"] for s in samples]}
