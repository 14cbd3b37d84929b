"""``clip``: contrastive image–caption training of an open_clip backbone (symmetric InfoNCE).

Full scale follows the CLIP baseline of MERU (specs/hyperbolic.md §5.4-§5.5: "identical except
that it L2-normalises and uses cosine logits"): AdamW lr 5e-4, betas (0.9, 0.98), weight decay
0.2 with the logit scale excluded, 4,000 warmup steps then cosine to 0, global batch 2,048,
120,000 steps. Tiny is the same shape on the synthetic world's shards, on CPU.
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from cir_models.backbone import create_backbone
from cir_train.config import TrainConfig, load_config
from cir_train.losses import ClipLoss
from cir_train.recipes.image_text import TINY_IMAGE_TEXT_SCALE, ImageTextShards, collate_image_text
from cir_train.recipes.registry import Scale, TrainParts, register_recipe

__all__ = ["ClipTraining", "build_clip", "clip"]


class ClipTraining(nn.Module):
    """A backbone plus the CLIP loss; ``forward(batch)`` returns the loss and the logit scale."""

    def __init__(self, model: str, pretrained: str | None = None) -> None:
        super().__init__()
        self.backbone = create_backbone(model, pretrained=pretrained)
        self.loss = ClipLoss()

    def forward(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        image = F.normalize(self.backbone.encode_image(batch["image"]).float(), dim=-1)
        text = F.normalize(self.backbone.encode_text(batch["text"]).float(), dim=-1)
        return {"loss": self.loss(image, text), "logit_scale": self.loss.logit_scale().detach()}


def build_clip(config: TrainConfig) -> TrainParts:
    """The CLIP module and the image–caption shards of ``config.data.root``."""
    module = ClipTraining(config.model.model, config.model.pretrained)
    transforms = module.backbone.transforms("clip")
    return TrainParts(module, ImageTextShards(config.data.root, transforms.train), collate_image_text)


_COMMON = [
    "recipe=clip",
    "model.encoder=image_only",
    "optim.name=adamw",
    "optim.betas=[0.9, 0.98]",
    "optim.weight_decay=0.2",
    # The learnable logit scale is never decayed; norms and biases are, at 0.2, as MERU's code does (§5.5).
    "optim.no_decay=[log_scale]",
    "optim.schedule=cosine",
]

_SCALES: dict[str, list[str]] = {
    "full": [
        "model.model=ViT-B-16",
        "optim.lr=5e-4",
        "optim.warmup_steps=4000",
        "max_steps=120000",
        "data.micro_batch_size=256",  # x 8 GPUs = the global batch of 2,048
        "checkpoint.every_steps=5000",
    ],
    "tiny": TINY_IMAGE_TEXT_SCALE,
}


@register_recipe("clip", build_clip)
def clip(scale: Scale = "tiny") -> TrainConfig:
    """The CLIP recipe at ``scale`` (``tiny``: cir-tiny on the synthetic world; ``full``: ViT-B-16, 8 GPUs)."""
    return load_config(overrides=[*_COMMON, *_SCALES[scale]])
