"""``condvit``: CondViT on LRVS-F-style products, query = complex image + category (specs/condvit-lrvsf.md §2).

Each product gives a pair: its *complex* image (a scene) conditioned on the product's category,
and its *simple* image (the product alone) without a condition; one shared ViT encodes both.
The loss is CLIP's symmetric InfoNCE over the global batch with a learnable logit scale that
starts at 100 and is capped there (§1.4, §2.2). Training has two phases (§2.5): one epoch of
the output projection and the condition embeddings alone (logit scale frozen), then a new AdamW
over every parameter with a cosine schedule; :func:`condvit_phases` gives the two run configs.

Differences from the reference: the warm-up's linear ramp starts at 1/steps, not at 0.02 of the
lr (LinearLR ``start_factor``); the logit scale has no lower clamp at 0 (scale ≥ 1), which
training never reaches; each product row holds one simple and one complex image, where the
reference draws them at random among the product's images every epoch; a whole-run config
trained directly is the main phase alone (no warm-up).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import Tensor, nn

from cir_models.backbone import create_backbone
from cir_models.condvit import CondViTEncoder
from cir_train.config import TrainConfig, load_config
from cir_train.losses import ClipLoss
from cir_train.recipes.phases import WARMUP, load_initial_weights, phase_of, split_phases
from cir_train.recipes.registry import Scale, TrainParts, register_recipe

__all__ = ["CONDVIT_LOGIT_SCALE", "CondViTTraining", "ProductPairs", "build_condvit", "condvit", "condvit_phases"]

CONDVIT_LOGIT_SCALE = 100.0  # logit_scale starts at ln 100 = 4.6052 and is clamped to at most that (§1.4, §2.2)
_CONDITION_COLUMNS = {"category": "CATEGORY", "text": "blip2_caption1"}  # §4.2 conditioning modes


class ProductPairs:
    """Map-style dataset of ``{"query", "target", "condition"}`` from an LRVS-F ``products.parquet``.

    ``root`` is the parquet file or a folder holding ``data/products.parquet`` (the benchmark layout,
    §3.3, which ``cir-data synth --export lrvsf`` writes): columns ``COMPLEX_IMG`` and
    ``SIMPLE_IMG`` (JPEG bytes) and the condition column (``CATEGORY`` or ``blip2_caption1``).
    """

    def __init__(
        self, root: str | Path, transform: Callable[[Image.Image], Tensor], condition: str = "category"
    ) -> None:
        import pyarrow.parquet as pq

        path = Path(root)
        if path.is_dir():
            path = path / "data" / "products.parquet"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no products.parquet (data.root must be an LRVS-F export folder)")
        column = _CONDITION_COLUMNS[condition]
        table = pq.read_table(path, columns=["COMPLEX_IMG", "SIMPLE_IMG", column]).to_pydict()
        self.rows = list(zip(table["COMPLEX_IMG"], table["SIMPLE_IMG"], table[column], strict=True))
        if not self.rows:
            raise ValueError(f"{path}: no products")
        self.transform = transform

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        complex_jpeg, simple_jpeg, condition = self.rows[index]
        # The same transform, drawn independently for each image (§2.4).
        query = self.transform(Image.open(io.BytesIO(complex_jpeg)).convert("RGB"))
        target = self.transform(Image.open(io.BytesIO(simple_jpeg)).convert("RGB"))
        return {"query": query, "target": target, "condition": condition}


def collate_products(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack queries and targets; keep the conditions as a list of strings."""
    return {
        "query": torch.stack([s["query"] for s in samples]),
        "target": torch.stack([s["target"] for s in samples]),
        "condition": [s["condition"] for s in samples],
    }


class CondViTTraining(nn.Module):
    """A :class:`~cir_models.condvit.CondViTEncoder` plus the InfoNCE loss; ``forward(batch)`` returns the loss.

    Only the vision side trains (the text tower is at most a frozen condition encoder). In the
    ``warmup`` phase only the ViT's output projection ``proj`` and the condition head train (§2.5).
    """

    def __init__(self, model: str, pretrained: str | None = None, condition: str = "category",
                 phase: str = "main") -> None:
        super().__init__()
        backbone = create_backbone(model, pretrained=pretrained)
        self.encoder = CondViTEncoder(backbone, condition=condition)
        self.loss = ClipLoss(init_scale=CONDVIT_LOGIT_SCALE, max_scale=CONDVIT_LOGIT_SCALE)
        for name, param in backbone.clip.named_parameters():
            param.requires_grad_(name.startswith("visual."))
        if phase == WARMUP:
            self.requires_grad_(False)
            backbone.clip.visual.proj.requires_grad_(True)
            self.encoder.head.requires_grad_(True)  # c_embedding + c_pos_embedding (or the text projection)

    def forward(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        query = self.encoder.query_features(batch["query"], batch["condition"]).float()  # L2-normalised
        target = self.encoder.gallery_features(batch["target"]).float()  # targets carry no condition (§4.2)
        loss = self.loss(query, target)
        with torch.no_grad():  # top-1 of this rank's complex→simple logits, the reference's batch_acc
            hits = (query @ target.T).argmax(dim=1) == torch.arange(query.shape[0], device=query.device)
        return {"loss": loss, "logit_scale": self.loss.logit_scale().detach(), "batch_acc": hits.float().mean()}


def build_condvit(config: TrainConfig) -> TrainParts:
    """The CondViT module (of ``model.options.phase``) and the product pairs of ``config.data.root``."""
    condition = str(config.model.options.get("condition", "category"))
    module = CondViTTraining(config.model.model, config.model.pretrained, condition, phase_of(config))
    load_initial_weights(module, config)
    dataset = ProductPairs(config.data.root, module.encoder.transforms.train, condition)
    return TrainParts(module, dataset, collate_products)


def condvit_phases(config: TrainConfig) -> tuple[TrainConfig, TrainConfig]:
    """The (warm-up, main) run configs of a whole-run CondViT config; run them in order (§2.5).

    Warm-up: ``model.options.warmup_phase_steps`` steps (one epoch), lr ramping linearly to its
    value, projection and condition only. Main: the remaining steps, a new AdamW over everything,
    cosine to ``min_lr_ratio``.
    """
    steps = int(config.model.options["warmup_phase_steps"])
    warmup = {"optim.schedule": "constant", "optim.warmup_steps": steps, "optim.min_lr_ratio": 0.0}
    return split_phases(config, steps, warmup, {"optim.warmup_steps": 0})


_COMMON = [
    "recipe=condvit",
    "model.encoder=condvit",
    "loss.name=clip",
    # §2.5: AdamW lr 1e-5 with torch's default weight decay 0.01 on every parameter; cosine to eta_min 1e-8.
    "optim.name=adamw",
    "optim.lr=1e-5",
    "optim.weight_decay=0.01",
    "optim.schedule=cosine",
    "optim.warmup_steps=0",
    "optim.min_lr_ratio=1e-3",  # eta_min 1e-8 / lr 1e-5
]

_STEPS_PER_EPOCH = 272451 // 180 // 2  # n_samples // batch_size // n_gpus = 756 (§2.5)

_SCALES: dict[str, list[str]] = {
    "full": [
        "model.model=ViT-B-32-quickgelu",  # README command: --architecture B32 (the released models are B/16)
        "model.pretrained=openai",  # initialised from OpenAI CLIP's visual tower (§1.4)
        f"model.options={{condition: category, warmup_phase_steps: {_STEPS_PER_EPOCH}}}",
        f"max_steps={30 * _STEPS_PER_EPOCH}",  # 30 epochs: 1 warm-up + 29 cosine
        "data.micro_batch_size=180",  # per GPU; x 2 GPUs = 360 global negatives (§2.5, §6 trap 5)
        f"checkpoint.every_steps={_STEPS_PER_EPOCH}",
    ],
    "tiny": [
        "model.model=cir-tiny",
        "model.options={condition: category, warmup_phase_steps: 10}",
        "optim.lr=1e-3",
        "max_steps=100",
        "data.micro_batch_size=16",
        "checkpoint.every_steps=50",
    ],
}


@register_recipe("condvit", build_condvit, phases=condvit_phases)
def condvit(scale: Scale = "tiny") -> TrainConfig:
    """The whole CondViT run at ``scale`` (``tiny``: cir-tiny on the synthetic LRVS-F; ``full``: B/32, 2 GPUs).

    Trained as the two runs of :func:`condvit_phases` (``Recipe.runs``), the faithful warm-up + main training.
    """
    return load_config(overrides=[*_COMMON, *_SCALES[scale]])
