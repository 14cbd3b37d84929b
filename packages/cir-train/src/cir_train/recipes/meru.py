"""``meru``: MERU-CLIP, image–caption training on the Lorentz hyperboloid (specs/hyperbolic.md §5).

Loss L = L_con + 0.2·L_ent (§5.4): contrastive on −s·d_L over the global batch, plus the
entailment cone of each caption around its own image (text is the apex). The learnable scalars
(α_img, α_txt, curvature c in [0.1, 10], logit scale ≤ 100; §5.3) get no weight decay; norms and
biases are decayed at 0.2, as MERU's code does (§5.5: the faithful reproduction of its
``gain_bias_decay`` fallback). c is logged every step, since it tends to pin at 0.1 (§5.3, §10).

Differences from the paper: open_clip towers (the paper uses timm ViTs with fixed sin-cos
positions and ImageNet normalisation inside the model); DeepSpeed bf16/fp16 on GPU instead of
CUDA AMP, with the Lorentz math and the loss in float32 either way (§4.3).
"""

from __future__ import annotations

from typing import Any

from PIL import Image
from torch import Tensor, nn
from torchvision import transforms as T

from cir_hyperbolic.losses import DEFAULT_ENTAIL_WEIGHT, entailment_loss
from cir_models.backbone import create_backbone
from cir_models.meru import MeruEncoder
from cir_train.config import TrainConfig, load_config
from cir_train.losses import meru_contrastive_loss
from cir_train.recipes.image_text import TINY_IMAGE_TEXT_SCALE, ImageTextShards, collate_image_text
from cir_train.recipes.registry import Scale, TrainParts, register_recipe

__all__ = ["MERU_CROP_SCALE", "MeruTraining", "build_meru", "meru", "meru_train_transform"]

MERU_CROP_SCALE = (0.5, 1.0)  # RandomResizedCrop scale, bicubic (§5.5)


class MeruTraining(nn.Module):
    """A :class:`~cir_models.meru.MeruEncoder` plus MERU's loss; ``forward(batch)`` returns the loss and c."""

    def __init__(self, model: str, pretrained: str | None = None, entail_weight: float = DEFAULT_ENTAIL_WEIGHT,
                 curv_init: float = 1.0, learn_curv: bool = True) -> None:
        super().__init__()
        self.encoder = MeruEncoder(create_backbone(model, pretrained=pretrained), curv_init=curv_init,
                                   learn_curv=learn_curv)
        # open_clip's own logit scale is unused: MERU's lives in the head (cir_models.meru.MeruHead).
        self.encoder.backbone.clip.logit_scale.requires_grad_(False)
        self.entail_weight = entail_weight

    def forward(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        head, backbone = self.encoder.head, self.encoder.backbone
        curv = head.curv()
        image = head.visual_lift(backbone.encode_image(batch["image"]).float(), curv=curv)
        text = head.textual_lift(backbone.encode_text(batch["text"]).float(), curv=curv)
        logit_scale = head.logit_scale()
        contrastive = meru_contrastive_loss(image, text, curv=curv, logit_scale=logit_scale)
        entailment = entailment_loss(text, image, curv=curv)  # K = 0.1 is cir_hyperbolic's default min radius
        return {
            "loss": contrastive + self.entail_weight * entailment,
            "contrastive_loss": contrastive.detach(),
            "entailment_loss": entailment.detach(),
            "curv": curv.detach(),
            "logit_scale": logit_scale.detach(),
            "visual_alpha": head.visual_lift.alpha,
            "textual_alpha": head.textual_lift.alpha,
        }


def _to_rgb(image: Image.Image) -> Image.Image:
    return image.convert("RGB")


def meru_train_transform(module: MeruTraining) -> T.Compose:
    """RandomResizedCrop(scale 0.5–1, bicubic) at the backbone's size, then its mean/std (§5.5)."""
    cfg = module.encoder.backbone.preprocess_cfg
    size = cfg.size if isinstance(cfg.size, int) else cfg.size[0]
    crop = T.RandomResizedCrop(size, scale=MERU_CROP_SCALE, interpolation=T.InterpolationMode.BICUBIC)
    return T.Compose([_to_rgb, crop, T.ToTensor(), T.Normalize(cfg.mean, cfg.std)])


def build_meru(config: TrainConfig) -> TrainParts:
    """The MERU module and the image–caption shards of ``config.data.root``."""
    options = config.model.options
    module = MeruTraining(
        config.model.model,
        config.model.pretrained,
        entail_weight=float(config.loss.options.get("entail_weight", DEFAULT_ENTAIL_WEIGHT)),
        curv_init=float(options.get("curv_init", 1.0)),
        learn_curv=bool(options.get("learn_curv", True)),
    )
    return TrainParts(module, ImageTextShards(config.data.root, meru_train_transform(module)), collate_image_text)


_COMMON = [
    "recipe=meru",
    "model.encoder=meru",
    "loss.name=meru",
    f"loss.options={{entail_weight: {DEFAULT_ENTAIL_WEIGHT}}}",  # λ = 0.2 in every MERU config (§5.4)
    "optim.name=adamw",
    "optim.betas=[0.9, 0.98]",
    "optim.weight_decay=0.2",
    # §5.5: no decay for names containing logit_scale / visual_alpha / textual_alpha / curv; ours are these.
    "optim.no_decay=[log_alpha, log_curv, log_scale]",
    "optim.schedule=cosine",  # cos²(π/2·t) after warmup is this cosine to 0 (cir_train.optim.lr_multiplier)
]

_SCALES: dict[str, list[str]] = {
    "full": [
        "model.model=ViT-B-16",  # MERU ViT-B/16; its text tower (12 layers, width 512, 77 tokens) matches §5.1
        "optim.lr=5e-4",
        "optim.warmup_steps=4000",
        "max_steps=120000",
        "seed=0",
        "data.micro_batch_size=256",  # x 8 GPUs = the global batch of 2,048 (RedCaps, §5.5)
        "checkpoint.every_steps=5000",
    ],
    "tiny": TINY_IMAGE_TEXT_SCALE,
}


@register_recipe("meru", build_meru)
def meru(scale: Scale = "tiny") -> TrainConfig:
    """The MERU recipe at ``scale`` (``tiny``: cir-tiny on the synthetic world; ``full``: ViT-B-16, 8 GPUs)."""
    return load_config(overrides=[*_COMMON, *_SCALES[scale]])
