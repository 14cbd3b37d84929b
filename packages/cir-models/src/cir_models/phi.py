"""Pseudo-word encoders: LinCIR's phi, with SEARLE and Pic2Word as variants (``specs/lincir.md``).

A mapping network turns the reference's raw image embedding into one token embedding, which
replaces the placeholder token of a prompt such as "a photo of $ that {condition}"; the text tower
then encodes the prompt and the result searches an image gallery.

Model card
    Papers: LinCIR (Gu et al., CVPR 2024, arXiv 2312.01998); SEARLE (Baldrati, Agnolucci et al.,
    ICCV 2023); Pic2Word (Saito et al., CVPR 2023).
    Inputs: reference image + condition text, put into the variant's prompt.
    Output space: the backbone's joint space (text side), L2-normalised, ``[N, embed_dim]``.
    Metric: cosine against normalised gallery image embeddings.

| variant  | mapping                                  | placeholder | replaces | prompt                  | preprocess |
|----------|------------------------------------------|-------------|----------|-------------------------|------------|
| lincir   | d → 4d → 4d → d_tok, GELU, dropout 0.5   | ``$`` (259) | all      | "a photo of $ that {c}" | clip       |
| searle   | same as lincir                           | ``$`` (259) | first    | "a photo of $ that {c}" | targetpad  |
| pic2word | d → 512 → 512 → d_tok, Dropout(0.1)→ReLU | ``*`` (265) | all      | "a photo of * , {c}"    | clip       |

The condition is inserted verbatim; a ``$`` inside it would become another placeholder for
``lincir``. Whether Pic2Word feeds a normalised embedding is not stated in the spec; raw is used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from cir_models.backbone import Backbone
from cir_models.encoder import ConditionalEncoder
from cir_models.registry import register_encoder

__all__ = ["Im2Text", "Phi", "PhiEncoder", "PhiVariant", "inject_pseudo_tokens", "list_phi_variants"]

LINCIR_DROPOUT = 0.5  # specs/lincir.md §1.3
PIC2WORD_MIDDLE_DIM = 512  # specs/lincir.md §3
PIC2WORD_DROPOUT = 0.1


class Phi(nn.Module):
    """LinCIR/SEARLE phi: Linear(d→4d) GELU Dropout, Linear(4d→4d) GELU Dropout, Linear(4d→d_tok).

    ``layers.0``, ``layers.3`` and ``layers.6`` are the official state-dict keys.
    """

    def __init__(self, input_dim: int, output_dim: int, dropout: float = LINCIR_DROPOUT) -> None:
        super().__init__()
        hidden_dim = 4 * input_dim
        self.layers = nn.Sequential(
            nn.Linear(input_dim, hidden_dim), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden_dim, hidden_dim), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden_dim, output_dim),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Token embeddings ``[N, output_dim]`` from raw embeddings ``[N, input_dim]``."""
        return self.layers(features)


class Im2Text(nn.Module):
    """Pic2Word's mapping: [Linear, Dropout, ReLU] × n_layer, then ``fc_out`` (dropout before ReLU).

    Parameter names follow the spec's description (``layers.{i}.0``, ``fc_out``); untested against a
    released file.
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        middle_dim: int = PIC2WORD_MIDDLE_DIM,
        num_layers: int = 2,
        dropout: float = PIC2WORD_DROPOUT,
    ) -> None:
        super().__init__()
        dims = [input_dim] + [middle_dim] * num_layers
        self.layers = nn.Sequential(
            *[nn.Sequential(nn.Linear(a, b), nn.Dropout(dropout), nn.ReLU()) for a, b in pairwise(dims)]
        )
        self.fc_out = nn.Linear(middle_dim, output_dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Token embeddings ``[N, output_dim]`` from raw embeddings ``[N, input_dim]``."""
        return self.fc_out(self.layers(features))


@dataclass(frozen=True)
class PhiVariant:
    """What differs between LinCIR, SEARLE and Pic2Word at inference (see the module table)."""

    prompt: str
    placeholder: str
    replace_all: bool
    transform_kind: str
    build_mapping: Callable[[int, int], nn.Module]


_VARIANTS: dict[str, PhiVariant] = {
    "lincir": PhiVariant("a photo of $ that {condition}", "$", True, "clip", Phi),
    "searle": PhiVariant("a photo of $ that {condition}", "$", False, "targetpad", Phi),
    "pic2word": PhiVariant("a photo of * , {condition}", "*", True, "clip", Im2Text),
}


def list_phi_variants() -> list[str]:
    """Names accepted by ``create_encoder("phi", variant=...)``."""
    return sorted(_VARIANTS)


def inject_pseudo_tokens(
    embeddings: torch.Tensor, ids: torch.Tensor, tokens: torch.Tensor, placeholder_id: int, replace_all: bool
) -> torch.Tensor:
    """Token embeddings ``[B, L, W]`` with ``tokens [B, W]`` written at placeholder positions.

    ``replace_all`` fills every placeholder (LinCIR, Pic2Word); otherwise only the first of each row
    (SEARLE). Raises ``ValueError`` for a row without a placeholder.
    """
    mask = ids == placeholder_id
    missing = ~mask.any(dim=1)
    if missing.any():
        rows = missing.nonzero().flatten().tolist()
        raise ValueError(f"no placeholder token id {placeholder_id} in rows {rows} (truncated away?)")
    if not replace_all:
        first = mask.int().argmax(dim=1)
        mask = torch.zeros_like(mask)
        mask[torch.arange(ids.shape[0], device=ids.device), first] = True
    return torch.where(mask.unsqueeze(-1), tokens.unsqueeze(1).to(embeddings.dtype), embeddings)


class PhiEncoder(ConditionalEncoder):
    """Backbone + mapping network; the query is the text embedding of the prompt with a pseudo-word."""

    head: nn.Module

    def __init__(self, backbone: Backbone, variant: str = "lincir", prompt: str | None = None) -> None:
        if variant not in _VARIANTS:
            raise KeyError(f"unknown phi variant {variant!r}; known: {list_phi_variants()}")
        super().__init__(backbone, transform_kind=_VARIANTS[variant].transform_kind)
        self.variant = _VARIANTS[variant]
        self.variant_name = variant
        self.prompt = prompt or self.variant.prompt
        if "{condition}" not in self.prompt or f" {self.variant.placeholder} " not in f" {self.prompt} ":
            raise ValueError(
                f"prompt {self.prompt!r} needs '{{condition}}' and a standalone {self.variant.placeholder!r}"
            )
        placeholder_ids = backbone.tokenize([self.variant.placeholder])[0]
        self.placeholder_id = int(placeholder_ids[1])  # after the start-of-text token
        self.head = self.variant.build_mapping(backbone.embed_dim, backbone.token_width)

    def pseudo_tokens(self, images: torch.Tensor) -> torch.Tensor:
        """One pseudo-word token embedding per image, from the raw (unnormalised) image embedding."""
        return self.head(self.backbone.encode_image(images))

    def encode_prompts(self, tokens: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        """Raw text embeddings of the prompts with ``tokens [N, W]`` at the placeholder positions."""
        ids = self.backbone.tokenize([self.prompt.format(condition=text) for text in texts])
        embeddings = inject_pseudo_tokens(
            self.backbone.token_embeddings(ids), ids, tokens, self.placeholder_id, self.variant.replace_all
        )
        return self.backbone.encode_token_embeddings(embeddings, ids)

    def gallery_features(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.backbone.encode_image(images), dim=-1)

    def query_features(self, images: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        return F.normalize(self.encode_prompts(self.pseudo_tokens(images), texts), dim=-1)


@register_encoder("phi")
def create_phi(backbone: Backbone, variant: str = "lincir", prompt: str | None = None) -> PhiEncoder:
    """LinCIR phi (``variant="searle"`` or ``"pic2word"`` for the others); ``prompt`` overrides the template."""
    return PhiEncoder(backbone, variant=variant, prompt=prompt)
