"""``lincir``: LinCIR's Self-Masking Projection, φ trained from captions alone (specs/lincir.md §1).

A caption t goes through the frozen text tower, z = E_T(t). Its keyword runs (spaCy
NOUN/PROPN/ADJ/DET, :mod:`cir_data.masking`, §1.4) are replaced by ``$``; φ(z + α·ε), with
α ~ U(0, 1) per sample and ε ~ N(0, I) (§1.5), fills every ``$`` of the masked caption, and the
loss is the MSE between that caption's embedding and z, both unnormalised (§1.6). Only φ
trains; both towers are frozen and there are no images.

Differences from the reference: captions are masked when a sample is loaded (the reference does
the same in its loader), ``[$]`` becomes a standalone ``$`` before tokenising instead of an added
special token remapped to id 259 (the BPE sees the same words), and the towers run in the
Trainer's precision (bf16 on GPU) instead of fp16 weights.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from cir_data.masking import PLACEHOLDER, clean_caption, keyword_runs, replace_keywords
from cir_data.scene_graph import DEFAULT_MODEL, load_spacy
from cir_data.shards import iter_samples, list_shards
from cir_models.backbone import create_backbone
from cir_models.phi import PhiEncoder, inject_pseudo_tokens
from cir_train.config import TrainConfig, load_config
from cir_train.losses import lincir_loss, lincir_noise
from cir_train.recipes.registry import Scale, TrainParts, register_recipe

__all__ = ["FALLBACK_CAPTION", "LincirCaptions", "LincirTraining", "build_lincir", "lincir", "read_captions"]

FALLBACK_CAPTION = "a photo of $"  # the masked caption when truncation lost every placeholder (§1.4 step 4)


def read_captions(root: str | Path) -> list[str]:
    """Captions from a text file (one per line) or from the ``.txt`` of the webdataset shards in a folder."""
    path = Path(root)
    if path.is_file():
        captions = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    elif path.is_dir() and list_shards(path):
        captions = [s["txt"] if isinstance(s["txt"], str) else s["txt"].decode()
                    for s in iter_samples(list_shards(path), required=("txt",))]
    else:
        raise FileNotFoundError(f"{root}: data.root must be a caption file (one per line) or a folder of .tar shards")
    if not captions:
        raise ValueError(f"{root}: no captions found")
    return captions


class LincirCaptions:
    """Map-style dataset of ``{"text": cleaned caption, "masked": caption with keywords → "[$]"}``.

    Tagging runs per sample (spaCy model ``spacy_model``); the random-word fallback draws from
    Python's ``random``, which the Trainer seeds per sample, so masks are reproducible.
    """

    def __init__(self, captions: list[str], spacy_model: str = DEFAULT_MODEL) -> None:
        self.captions = captions
        self.spacy_model = spacy_model

    def __len__(self) -> int:
        return len(self.captions)

    def __getitem__(self, index: int) -> dict[str, str]:
        text = clean_caption(self.captions[index])
        nlp = load_spacy(self.spacy_model)  # cached per process (and per DataLoader worker)
        doc = nlp(text, disable=[name for name in ("parser", "lemmatizer", "ner") if name in nlp.pipe_names])
        masked = replace_keywords(text, keyword_runs(doc), random.Random(random.getrandbits(64)))
        return {"text": text, "masked": masked}


def collate_captions(samples: list[dict[str, str]]) -> dict[str, list[str]]:
    """Lists of original and masked captions (the text tower tokenises them)."""
    return {"text": [s["text"] for s in samples], "masked": [s["masked"] for s in samples]}


class LincirTraining(nn.Module):
    """Frozen backbone + LinCIR's φ (:class:`~cir_models.phi.PhiEncoder`); ``forward(batch)`` returns the MSE."""

    def __init__(self, model: str, pretrained: str | None = None) -> None:
        super().__init__()
        self.encoder = PhiEncoder(create_backbone(model, pretrained=pretrained), variant="lincir")
        self.encoder.backbone.requires_grad_(False)  # both towers frozen; only φ (the head) trains (§1.6)

    def train(self, mode: bool = True) -> LincirTraining:
        """φ follows ``mode`` (dropout 0.5 in training); the frozen towers always stay in eval mode."""
        super().train(mode)
        self.encoder.backbone.eval()
        return self

    def target(self, texts: list[str]) -> Tensor:
        """z = E_T(caption): the unnormalised embedding of the original captions, without gradients."""
        with torch.no_grad():
            return self.encoder.backbone.encode_text(texts).float()

    def masked_ids(self, masked: list[str]) -> tuple[Tensor, Tensor]:
        """Token ids of the masked captions with ``[$]`` as the standalone ``$``, and which rows kept one.

        Rows whose placeholders were all truncated away become "a photo of $" (§1.4 step 4).
        """
        backbone, placeholder = self.encoder.backbone, self.encoder.placeholder_id
        ids = backbone.tokenize([text.replace(PLACEHOLDER, " $ ") for text in masked])
        kept = (ids == placeholder).any(dim=1)
        if not bool(kept.all()):
            ids[~kept] = backbone.tokenize([FALLBACK_CAPTION])[0]
        return ids, kept

    def predict(self, tokens: Tensor, masked: list[str]) -> tuple[Tensor, Tensor]:
        """Unnormalised embeddings of the masked captions with ``tokens [B, W]`` at every ``$``, and the kept mask."""
        backbone = self.encoder.backbone
        ids, kept = self.masked_ids(masked)
        embeddings = inject_pseudo_tokens(
            backbone.token_embeddings(ids), ids, tokens, self.encoder.placeholder_id, replace_all=True
        )
        return backbone.encode_token_embeddings(embeddings, ids), kept

    def forward(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        target = self.target(batch["text"])
        inputs = lincir_noise(target) if self.training else target  # noise in training only (§1.5)
        predicted, kept = self.predict(self.encoder.head(inputs), batch["masked"])
        return {"loss": lincir_loss(predicted, target), "preproc_rate": kept.float().mean()}


def build_lincir(config: TrainConfig) -> TrainParts:
    """The LinCIR module and the captions of ``config.data.root`` (a caption file or a shard folder)."""
    module = LincirTraining(config.model.model, config.model.pretrained)
    dataset = LincirCaptions(read_captions(config.data.root), config.data.options.get("spacy_model", DEFAULT_MODEL))
    return TrainParts(module, dataset, collate_captions)


_COMMON = [
    "recipe=lincir",
    "model.encoder=phi",
    "model.options={variant: lincir}",
    "loss.name=lincir",
    # §1.9: AdamW lr 1e-4, weight decay 0.01, no clipping, constant lr without warmup (README command).
    # Betas and eps are not in the spec; torch's defaults are used.
    "optim.name=adamw",
    "optim.lr=1e-4",
    "optim.weight_decay=0.01",
    "optim.schedule=constant",
    "optim.warmup_steps=0",
    "optim.grad_clip=0.0",
]

_SCALES: dict[str, list[str]] = {
    "full": [
        "model.model=ViT-L-14-quickgelu",  # OpenAI CLIP ViT-L/14 (§1.2); φ is 768 → 3072 → 3072 → 768
        "model.pretrained=openai",
        "max_steps=20000",
        "seed=12345",
        "data.micro_batch_size=64",  # x 8 GPUs = the global batch of 512 (§1.9)
        "checkpoint.every_steps=1000",  # the reference validates on CIRR val every 1000 steps and keeps the best
    ],
    "tiny": [
        "model.model=cir-tiny",
        "optim.lr=1e-3",
        "max_steps=150",
        "data.micro_batch_size=32",
        "checkpoint.every_steps=50",
    ],
}


@register_recipe("lincir", build_lincir)
def lincir(scale: Scale = "tiny") -> TrainConfig:
    """The LinCIR recipe at ``scale`` (``tiny``: cir-tiny on synthetic captions; ``full``: ViT-L/14, 8 GPUs)."""
    return load_config(overrides=[*_COMMON, *_SCALES[scale]])
