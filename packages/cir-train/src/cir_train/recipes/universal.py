"""``universal``: the UnED universal-embedding baseline, one domain per batch (specs/uned.md §4).

CLS → ln_post → L2 → Linear(width, 64, bias) → L2, then one cosine classifier per domain
(separate heads, domain-local labels) under the normalised softmax at scale 16, margin 0 (§4.1).
Every global batch — all ranks, all accumulation micro-batches of one optimiser step — comes from
one domain, chosen by a step schedule over the domain order of ``config.dataset_name`` (§4.2).
Adam with decoupled weight decay 1e-6, constant lr: 1e-3 for the classifiers, 1e-5 for the
backbone and the 64-d projection; the backbone and the projection stay frozen for the first 2
epochs (§4.4), which :func:`universal_phases` turns into a warm-up run.

Differences from the reference: the frozen epochs are a separate run, so the main phase starts
with a new optimiser (Scenic keeps one, with lr 0 for the frozen parameters); the
``dataset_size`` and ``balanced`` schedules shuffle with numpy, not JAX's PRNGKey(0); within a
domain, images are drawn without replacement in a reshuffled order per pass; torch's AdamW
multiplies the decay by the lr (the spec does not say whether Scenic's does).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn
from torchvision import transforms as T

from cir_models.backbone import create_backbone
from cir_models.universal import UNED_OUTPUT_DIM, UniversalEncoder
from cir_train.config import ConfigError, TrainConfig, load_config
from cir_train.distributed import DistributedEnv
from cir_train.losses import NORMFACE_SCALE, normface_loss
from cir_train.recipes.phases import WARMUP, load_initial_weights, phase_of, split_phases
from cir_train.recipes.registry import Scale, TrainParts, register_recipe

__all__ = [
    "DOMAIN_SCHEDULES",
    "UNED_DOMAINS",
    "DomainBatches",
    "UniversalTraining",
    "build_universal",
    "read_uned_train",
    "uned_train_transform",
    "universal",
    "universal_phases",
]

# config.dataset_name = "food2k,cars,sop,inshop,inat,met,gldv2,rp2k": the order schedules index (§4.2)
UNED_DOMAINS = ("food2k", "cars", "sop", "inshop", "inat", "met", "gldv2", "rp2k")
UNED_RESIZE, UNED_CROP = 256, 224  # train: resize to 256 × 256 (aspect not kept), random crop 224 (§4.3)


def _round_robin(sizes: Sequence[int], steps: int, rng: np.random.Generator) -> np.ndarray:
    return np.arange(steps) % len(sizes)


def _balanced(sizes: Sequence[int], steps: int, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(np.arange(steps) % len(sizes))


def _dataset_size(sizes: Sequence[int], steps: int, rng: np.random.Generator) -> np.ndarray:
    counts = np.floor(np.asarray(sizes, dtype=np.float64) / sum(sizes) * steps).astype(np.int64)
    counts[np.argsort(-np.asarray(sizes))[: steps - counts.sum()]] += 1  # the remainder to the largest domains
    return rng.permutation(np.repeat(np.arange(len(sizes)), counts))


DOMAIN_SCHEDULES: dict[str, Callable[[Sequence[int], int, np.random.Generator], np.ndarray]] = {
    "round_robin": _round_robin,  # cyclic over the domain order (the USCRR baseline)
    "balanced": _balanced,  # uniform, shuffled
    "dataset_size": _dataset_size,  # steps proportional to train size, shuffled
}


def read_uned_train(root: str | Path, domains: Sequence[str] = UNED_DOMAINS) -> dict[str, list[tuple[Path, int]]]:
    """Per domain, the (image path, class id) pairs of ``info_files/<domain>/train.json`` under ``root``.

    Paths are relative to ``root/data/images`` and may not leave it (§2).
    """
    root = Path(root)
    images = (root / "data" / "images").resolve()
    out: dict[str, list[tuple[Path, int]]] = {}
    for domain in domains:
        info = root / "info_files" / domain / "train.json"
        if not info.is_file():
            raise FileNotFoundError(f"{info}: missing (data.root must be a UnED folder with info_files/ and data/)")
        entries = []
        for i, entry in enumerate(json.loads(info.read_text(encoding="utf-8"))):
            path = (images / entry["path"]).resolve()
            if not path.is_relative_to(images):
                raise ValueError(f"{info}: entry {i} path {entry['path']!r} leaves {images}")
            if not isinstance(entry["class_id"], int):  # training labels are single ints (§6 trap 4)
                raise ValueError(f"{info}: entry {i} class_id {entry['class_id']!r} is not one int")
            entries.append((path, entry["class_id"]))
        if not entries:
            raise ValueError(f"{info}: no training images")
        out[domain] = entries
    return out


class DomainBatches:
    """Map-style dataset laid out so that every ``block`` consecutive indices are one domain.

    Index ``i`` is slot ``i % block`` of step ``i // block``; the step's domain comes from the
    schedule, and the domain's images are drawn in a seeded order reshuffled on every pass. Read
    it in order (``data.shuffle=false``) with ``block`` = the global batch of one optimiser step.
    """

    def __init__(
        self,
        samples: Mapping[str, list[tuple[Path, int]]],
        transform: Callable[[Image.Image], Tensor],
        *,
        block: int,
        steps: int,
        schedule: str = "round_robin",
        seed: int = 0,
    ) -> None:
        if schedule not in DOMAIN_SCHEDULES:
            raise ConfigError(f"data.options.schedule: unknown {schedule!r}; known: {sorted(DOMAIN_SCHEDULES)}")
        self.domains = list(samples)
        self.samples = [samples[d] for d in self.domains]
        self.transform, self.block, self.seed = transform, block, seed
        rng = np.random.default_rng(seed)
        self.step_domain = DOMAIN_SCHEDULES[schedule]([len(s) for s in self.samples], steps, rng)
        # How many earlier steps drew the same domain: where this step starts in the domain's stream.
        self.step_occurrence = np.zeros(steps, dtype=np.int64)
        seen = np.zeros(len(self.domains), dtype=np.int64)
        for step, domain in enumerate(self.step_domain):
            self.step_occurrence[step] = seen[domain]
            seen[domain] += 1

    def __len__(self) -> int:
        return len(self.step_domain) * self.block

    @lru_cache(maxsize=64)  # noqa: B019 - a few permutations per domain, for the dataset's lifetime
    def _order(self, domain: int, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, domain, epoch]).permutation(len(self.samples[domain]))

    def domain_of(self, index: int) -> str:
        """The domain of sample ``index``."""
        return self.domains[int(self.step_domain[index // self.block])]

    def __getitem__(self, index: int) -> dict[str, Any]:
        step, slot = divmod(index, self.block)
        domain = int(self.step_domain[step])
        epoch, position = divmod(int(self.step_occurrence[step]) * self.block + slot, len(self.samples[domain]))
        path, label = self.samples[domain][int(self._order(domain, epoch)[position])]
        with Image.open(path) as image:
            pixels = self.transform(image.convert("RGB"))
        return {"image": pixels, "label": label, "domain": self.domains[domain]}


def collate_domain(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack images and labels of one domain's micro-batch; a mixed micro-batch is an error."""
    domains = {s["domain"] for s in samples}
    if len(domains) != 1:
        raise ValueError(f"a UnED micro-batch mixes domains {sorted(domains)}; read DomainBatches in order")
    return {
        "image": torch.stack([s["image"] for s in samples]),
        "label": torch.tensor([s["label"] for s in samples]),
        "domain": domains.pop(),
    }


def uned_train_transform(encoder: UniversalEncoder) -> T.Compose:
    """Resize to a square (aspect not kept), random crop, horizontal flip, bilinear (§4.3), scaled to the input."""
    cfg = encoder.backbone.preprocess_cfg
    size = cfg.size if isinstance(cfg.size, int) else cfg.size[0]
    resize = round(size * UNED_RESIZE / UNED_CROP)
    return T.Compose([
        T.Resize((resize, resize), interpolation=T.InterpolationMode.BILINEAR),
        T.RandomCrop(size),
        T.RandomHorizontalFlip(),
        T.ToTensor(),
        T.Normalize(cfg.mean, cfg.std),
    ])


class UniversalTraining(nn.Module):
    """A :class:`~cir_models.universal.UniversalEncoder` plus the normalised softmax; ``forward(batch)`` returns it.

    Only the ViT and the head train (CLIP's text tower and its 768 → 512 ``proj`` are unused, §4.1).
    In the ``warmup`` phase only the classifiers train (§4.4: backbone and projection frozen).
    """

    def __init__(self, model: str, pretrained: str | None, domains: Mapping[str, int],
                 output_dim: int = UNED_OUTPUT_DIM, scale: float = NORMFACE_SCALE, phase: str = "main") -> None:
        super().__init__()
        backbone = create_backbone(model, pretrained=pretrained)
        self.encoder = UniversalEncoder(backbone, output_dim=output_dim, domains=domains)
        self.scale = scale
        for name, param in backbone.clip.named_parameters():
            param.requires_grad_(name.startswith("visual.") and name != "visual.proj")
        if phase == WARMUP:
            self.requires_grad_(False)
            self.encoder.head.classifiers.requires_grad_(True)

    def forward(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        logits = self.encoder.classify(batch["image"], batch["domain"]).float()
        loss = normface_loss(logits, batch["label"], scale=self.scale)
        accuracy = (logits.argmax(dim=1) == batch["label"]).float().mean()
        return {"loss": loss, "accuracy": accuracy}


def build_universal(config: TrainConfig) -> TrainParts:
    """The universal module (of ``model.options.phase``) and the one-domain-per-step UnED stream of ``data.root``."""
    if config.data.shuffle:
        raise ConfigError("data.shuffle: must be false for universal (DomainBatches orders its own samples)")
    samples = read_uned_train(config.data.root, config.data.options.get("domains", UNED_DOMAINS))
    classes = {domain: max(label for _, label in entries) + 1 for domain, entries in samples.items()}
    module = UniversalTraining(
        config.model.model,
        config.model.pretrained,
        classes,
        output_dim=int(config.model.options.get("output_dim", UNED_OUTPUT_DIM)),
        scale=float(config.loss.options.get("scale", NORMFACE_SCALE)),
        phase=phase_of(config),
    )
    load_initial_weights(module, config)
    world_size = DistributedEnv.from_environ().world_size
    block = config.data.micro_batch_size * world_size * config.optim.grad_accum_steps
    dataset = DomainBatches(
        samples,
        uned_train_transform(module.encoder),
        block=block,
        steps=config.max_steps,
        schedule=str(config.data.options.get("schedule", "round_robin")),
        seed=config.seed,
    )
    return TrainParts(module, dataset, collate_domain)


def universal_phases(config: TrainConfig) -> tuple[TrainConfig, TrainConfig]:
    """The (warm-up, main) run configs of a whole-run universal config; run them in order (§4.4).

    Warm-up: ``model.options.frozen_steps`` steps (2 epochs) training the classifiers only. Main:
    the remaining steps over everything. Both keep the constant lr and its per-part multipliers.
    """
    steps = int(config.model.options["frozen_steps"])
    return split_phases(config, steps, {}, {})


_STEPS_PER_EPOCH = 2831222 // 128  # 22,118 steps of 128 images (§4.4)

_COMMON = [
    "recipe=universal",
    "model.encoder=universal",
    "loss.name=normface",
    f"loss.options={{scale: {NORMFACE_SCALE}}}",  # s = 16, margin 0 (§4.1)
    "optim.name=adamw",  # Adam with decoupled weight decay 1e-6, betas (0.9, 0.999) (§4.4)
    "optim.betas=[0.9, 0.999]",
    "optim.weight_decay=1e-6",
    "optim.lr=1e-3",  # the classifiers' lr; the backbone and the 64-d projection get 1e-3 x 1e-2 = 1e-5
    "optim.lr_multipliers={backbone.: 0.01, head.projection: 0.01}",
    "optim.schedule=constant",
    "optim.warmup_steps=0",
    "data.shuffle=false",  # DomainBatches lays out one domain per step itself
    "data.options={schedule: round_robin}",  # USCRR: separate classifiers, round robin (§4.5)
]

_SCALES: dict[str, list[str]] = {
    "full": [
        "model.model=ViT-B-16-quickgelu",  # CLIP ViT-B/16, OpenAI weights (§4.1)
        "model.pretrained=openai",
        f"model.options={{output_dim: {UNED_OUTPUT_DIM}, frozen_steps: {2 * _STEPS_PER_EPOCH}}}",
        f"max_steps={7 * _STEPS_PER_EPOCH}",  # 7 epochs = 154,826 steps
        "data.micro_batch_size=128",  # the global batch of 128 on one device; on N devices use 128 / N
        f"checkpoint.every_steps={_STEPS_PER_EPOCH}",
    ],
    "tiny": [
        "model.model=cir-tiny",
        f"model.options={{output_dim: {UNED_OUTPUT_DIM}, frozen_steps: 8}}",
        "optim.lr=3e-3",
        "max_steps=48",
        "data.micro_batch_size=8",
        "checkpoint.every_steps=16",
    ],
}


@register_recipe("universal", build_universal, phases=universal_phases)
def universal(scale: Scale = "tiny") -> TrainConfig:
    """The whole UnED baseline run at ``scale`` (``tiny``: cir-tiny on the synthetic UnED; ``full``: B/16).

    Trained as the two runs of :func:`universal_phases` (``Recipe.runs``), the faithful frozen-backbone start.
    """
    return load_config(overrides=[*_COMMON, *_SCALES[scale]])
