"""``combiner``: GeneCIS's Combiner head on frozen backbone features, trained on mined triplets.

The loss is GeneCIS's (``specs/genecis.md`` §6.3): query = Combiner(reference image, condition
text) on raw backbone features, target = normalised target image feature, one-direction InfoNCE
at temperature 0.01 against the other targets of the global batch. The mined distractor is never
used in the loss, so it is not even encoded.

Our deviations: by default the backbone is **frozen** and its features are computed once, when the
dataset is built (the reference fine-tunes the whole CLIP at lr 1e-6, §6.4); with
``data.options.finetune_backbone: true`` the backbone trains with the head, on images preprocessed
once with the evaluation transform (no augmentation). Triplets come as a parquet
table (``cir_data.mining``: ``reference_key``, ``target_key``, ``condition``, ``distractor_key``)
over the images of the webdataset shards in ``data.root``; ``data.options.triplets`` names the
table. With ``loss.options.distractors: true`` the batch's distractors join its targets as
negatives (off by default, as in the reference, where the distractor is never used); either way a
batch column showing the row's own target image (a sibling row of the same template) is masked.

Full scale keeps the spec's optimisation: AdamW lr 1e-6, weight decay 0, cosine to lr·1e-3,
6 epochs of the 1.44M training triplets at a global batch of 256 (33,750 steps; the reference
steps its cosine per epoch, ours per step), official head widths 2560 / 5120 and dropout 0.5,
backbone ViT-B-16 with OpenAI weights. Tiny is the same loss on cir-tiny and the synthetic world,
with a narrower head and the larger learning rate a from-scratch head needs on CPU.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn
from tqdm.auto import tqdm

from cir_data.shards import iter_samples, list_shards
from cir_models.backbone import Backbone, create_backbone
from cir_models.combiner import DROPOUT, HIDDEN_DIM, PROJECTION_DIM, Combiner
from cir_train.config import TrainConfig, load_config
from cir_train.losses import COMBINER_TEMPERATURE, query_target_infonce
from cir_train.recipes.registry import Scale, TrainParts, register_recipe

__all__ = [
    "CombinerFinetuning",
    "CombinerTraining",
    "TripletFeatures",
    "TripletImages",
    "build_combiner",
    "combiner",
    "read_triplets",
]

_TRIPLET_FIELDS = ("reference_key", "target_key", "condition", "distractor_key")


class CombinerTraining(nn.Module):
    """The Combiner head plus GeneCIS's loss; ``forward(batch)`` takes raw frozen features, returns the loss.

    Its state dict is the head's under ``head.``, the key layout ``CombinerEncoder`` loads.
    """

    def __init__(
        self,
        embed_dim: int,
        projection_dim: int = PROJECTION_DIM,
        hidden_dim: int = HIDDEN_DIM,
        dropout: float = DROPOUT,
        temperature: float = COMBINER_TEMPERATURE,
        distractors: bool = False,
    ) -> None:
        super().__init__()
        self.head = Combiner(embed_dim, projection_dim=projection_dim, hidden_dim=hidden_dim, dropout=dropout)
        self.temperature = temperature
        self.distractors = distractors

    def forward(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        query = self.head(batch["reference"].float(), batch["condition"].float())
        return combiner_loss(query, batch, self.temperature, self.distractors)


def combiner_loss(query: Tensor, batch: dict[str, Tensor], temperature: float, distractors: bool) -> dict[str, Tensor]:
    """Query -> target InfoNCE over the batch's targets (and distractors); the batch's in-batch R@1 too."""
    target = F.normalize(batch["target"].float(), dim=-1)
    if not distractors and "target_id" not in batch:
        loss = query_target_infonce(query, target, temperature)
        logits = query @ target.T
    else:
        keys, ids = target, batch.get("target_id")
        if distractors:
            keys = torch.cat([target, F.normalize(batch["distractor"].float(), dim=-1)])
            ids = None if ids is None else torch.cat([ids, batch["distractor_id"]])
        logits = query @ keys.T
        if ids is not None:  # the row's own target image elsewhere in the batch is no negative
            same = ids[None, :].eq(batch["target_id"][:, None])
            same[:, : len(query)].fill_diagonal_(False)
            logits = logits.masked_fill(same, float("-inf"))
        loss = F.cross_entropy(logits / temperature, torch.arange(len(query), device=query.device))
    accuracy = logits.argmax(dim=1).eq(torch.arange(len(query), device=query.device)).float().mean()
    return {"loss": loss, "batch_r1": accuracy.detach()}


def read_triplets(path: str | Path) -> list[tuple[str, str, str, str]]:
    """(reference key, target key, condition, distractor key) rows of a mined triplet parquet table."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data.options.triplets: no triplet table at {path}")
    table = pq.read_table(path)
    missing = [name for name in _TRIPLET_FIELDS if name not in table.column_names]
    if missing:
        raise ValueError(f"{path}: triplet table lacks column(s) {missing}; has {table.column_names}")
    columns = [table.column(name).to_pylist() for name in _TRIPLET_FIELDS]
    return [(str(r), str(t), str(c), str(d)) for r, t, c, d in zip(*columns, strict=True)]


@torch.no_grad()
def _encode_images(
    backbone: Backbone, jpegs: Sequence[bytes], transform: Any, batch_size: int, progress: bool
) -> Tensor:
    rows = []
    for start in tqdm(range(0, len(jpegs), batch_size), desc="image features", disable=not progress):
        images = [transform(Image.open(io.BytesIO(b)).convert("RGB")) for b in jpegs[start : start + batch_size]]
        rows.append(backbone.encode_image(torch.stack(images).to(backbone.device)).float().cpu())
    return torch.cat(rows)


@torch.no_grad()
def _encode_texts(backbone: Backbone, texts: Sequence[str], batch_size: int) -> Tensor:
    starts = range(0, len(texts), batch_size)
    rows = [backbone.encode_text(list(texts[i : i + batch_size])).float().cpu() for i in starts]
    return torch.cat(rows)



def _index_rows(triplets: list[tuple[str, str, str, str]], keys: list[str], conditions: list[str]) -> Tensor:
    """(reference, condition, target, distractor) rows as indices into ``keys`` and ``conditions``, shape (N, 4)."""
    image_row = {k: i for i, k in enumerate(keys)}
    text_row = {c: i for i, c in enumerate(conditions)}
    return torch.tensor([(image_row[r], text_row[c], image_row[t], image_row[d]) for r, t, c, d in triplets])


class TripletFeatures:
    """Map-style dataset of raw frozen features ``{"reference", "condition", "target", "distractor": Tensor[D]}``.

    Each item also carries ``target_id`` and ``distractor_id``, the images' rows (the same image, the same id).

    Every image a triplet names is read from the shards and encoded once (evaluation transform,
    no gradients); every distinct condition is encoded once.
    """

    def __init__(
        self,
        triplets: list[tuple[str, str, str, str]],
        shard_dir: str | Path,
        backbone: Backbone,
        *,
        batch_size: int = 256,
        progress: bool = True,
    ) -> None:
        if not triplets:
            raise ValueError("no triplets to train on")
        jpegs = _read_jpegs(triplets, shard_dir)
        backbone.eval()
        keys = sorted(jpegs)
        transform = backbone.transforms("clip").eval
        self.image_features = _encode_images(backbone, [jpegs[k] for k in keys], transform, batch_size, progress)
        conditions = sorted({c for _, _, c, _ in triplets})
        self.text_features = _encode_texts(backbone, conditions, batch_size)
        self.rows = _index_rows(triplets, keys, conditions)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        ref, condition, target, distractor = self.rows[index].tolist()
        return {
            "reference": self.image_features[ref],
            "condition": self.text_features[condition],
            "target": self.image_features[target],
            "distractor": self.image_features[distractor],
            "target_id": torch.tensor(target),
            "distractor_id": torch.tensor(distractor),
        }


class TripletImages:
    """Map-style dataset of preprocessed images ``{"reference", "target", "distractor": Tensor[3, H, W]}``.

    For fine-tuning the backbone with the head: every image a triplet names is decoded and transformed
    once (evaluation transform) and kept in memory; ``condition`` is the row of the condition in
    :attr:`conditions`, ``target_id`` / ``distractor_id`` the images' rows.
    """

    def __init__(self, triplets: list[tuple[str, str, str, str]], shard_dir: str | Path, transform: Any) -> None:
        if not triplets:
            raise ValueError("no triplets to train on")
        jpegs = _read_jpegs(triplets, shard_dir)
        keys = sorted(jpegs)
        self.images = torch.stack([transform(Image.open(io.BytesIO(jpegs[k])).convert("RGB")) for k in keys])
        self.conditions = sorted({c for _, _, c, _ in triplets})
        self.rows = _index_rows(triplets, keys, self.conditions)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        ref, condition, target, distractor = self.rows[index].tolist()
        return {
            "reference": self.images[ref],
            "condition": torch.tensor(condition),
            "target": self.images[target],
            "distractor": self.images[distractor],
            "target_id": torch.tensor(target),
            "distractor_id": torch.tensor(distractor),
        }


class CombinerFinetuning(nn.Module):
    """Backbone and Combiner trained together (the reference's ``image_plus_text_whole``, §6.4) on images.

    ``forward(batch)`` encodes the batch's images and the condition vocabulary, then applies
    :class:`CombinerTraining`'s loss. State-dict keys: ``backbone.clip.*`` and ``head.*``.
    """

    def __init__(
        self,
        backbone: Backbone,
        conditions: Sequence[str],
        temperature: float = COMBINER_TEMPERATURE,
        distractors: bool = False,
        **head_options: Any,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.conditions = list(conditions)
        self.head = Combiner(backbone.embed_dim, **head_options)
        self.temperature = temperature
        self.distractors = distractors

    def forward(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        names = ("reference", "target", "distractor") if self.distractors else ("reference", "target")
        images = torch.cat([batch[n] for n in names])
        features = dict(zip(names, self.backbone.encode_image(images).chunk(len(names)), strict=True))
        texts = self.backbone.encode_text(self.conditions)
        query = self.head(features["reference"], texts[batch["condition"]])
        return combiner_loss(query, {**batch, **features}, self.temperature, self.distractors)


def _read_jpegs(triplets: list[tuple[str, str, str, str]], shard_dir: str | Path) -> dict[str, bytes]:
    needed = {key for ref, target, _, distractor in triplets for key in (ref, target, distractor)}
    shards = list_shards(shard_dir)
    if not shards:
        raise FileNotFoundError(f"{shard_dir}: no .tar shards (data.root must point at a shard folder)")
    jpegs: dict[str, bytes] = {}
    for sample in iter_samples(shards, required=("jpg",)):
        if sample["__key__"] in needed:
            jpegs[sample["__key__"]] = sample["jpg"]
    absent = sorted(needed - set(jpegs))
    if absent:
        raise KeyError(f"{shard_dir}: {len(absent)} triplet image key(s) are not in the shards, e.g. {absent[:3]}")
    return jpegs


def build_combiner(config: TrainConfig) -> TrainParts:
    """The Combiner module and the frozen features of the triplets ``data.options.triplets`` names."""
    options = dict(config.data.options)
    if "triplets" not in options:
        raise ValueError("data.options.triplets: the combiner recipe needs the path of a mined triplet table")
    backbone = create_backbone(config.model.model, pretrained=config.model.pretrained)
    triplets = read_triplets(options["triplets"])
    head: dict[str, Any] = {
        k: v for k, v in config.model.options.items() if k in ("projection_dim", "hidden_dim", "dropout")
    }
    loss: dict[str, Any] = {
        "temperature": float(config.loss.options.get("temperature", COMBINER_TEMPERATURE)),
        "distractors": bool(config.loss.options.get("distractors", False)),
    }
    module: nn.Module
    if options.get("finetune_backbone", False):
        dataset: Any = TripletImages(triplets, config.data.root, backbone.transforms("clip").eval)
        module = CombinerFinetuning(backbone, dataset.conditions, **loss, **head)
        return TrainParts(module, dataset, None)
    for param in backbone.parameters():
        param.requires_grad_(False)
    dataset = TripletFeatures(
        triplets,
        config.data.root,
        backbone,
        batch_size=int(options.get("feature_batch_size", 256)),
        progress=config.logging.progress_bar,
    )
    module = CombinerTraining(backbone.embed_dim, **loss, **head)
    return TrainParts(module, dataset, None)


_COMMON = [
    "recipe=combiner",
    "model.encoder=combiner",
    "loss.name=query_target_infonce",
    f"loss.options={{temperature: {COMBINER_TEMPERATURE}}}",
    "optim.name=adamw",
    "optim.weight_decay=0.0",
    "optim.schedule=cosine",
    "optim.min_lr_ratio=1e-3",  # CosineAnnealingLR eta_min = lr * 1e-3 (§6.4)
]

_SCALES: dict[str, list[str]] = {
    "full": [
        "model.model=ViT-B-16",
        "model.pretrained=openai",
        f"model.options={{projection_dim: {PROJECTION_DIM}, hidden_dim: {HIDDEN_DIM}, dropout: {DROPOUT}}}",
        "optim.lr=1e-6",
        "max_steps=33750",  # 6 epochs x 1.44M training triplets / 256
        "data.micro_batch_size=16",  # x 16 GPUs = the global batch of 256
        "checkpoint.every_steps=5625",  # once per epoch
    ],
    "tiny": [
        "model.model=cir-tiny",
        "model.options={projection_dim: 256, hidden_dim: 512, dropout: 0.1}",
        "optim.lr=1e-3",
        "optim.warmup_steps=20",
        "max_steps=600",
        "data.micro_batch_size=128",
        "checkpoint.every_steps=200",
    ],
}


@register_recipe("combiner", build_combiner)
def combiner(scale: Scale = "tiny") -> TrainConfig:
    """The Combiner recipe at ``scale`` (``tiny``: cir-tiny on the synthetic world; ``full``: ViT-B-16, 16 GPUs)."""
    return load_config(overrides=[*_COMMON, *_SCALES[scale]])
