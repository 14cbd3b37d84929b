"""One backbone factory on open_clip, plus the tower internals the conditional encoders need.

:func:`create_backbone` builds any open_clip architecture (``list_models()``), ours included
(``cir-tiny``: a 64-px ViT and a small text transformer for tests and the synthetic world), with
weights from a local file or an open_clip tag. :class:`Backbone` exposes what CIR methods reach
into: token embeddings and "run the text transformer from these embeddings" (pseudo-word tokens,
``specs/lincir.md`` §1.7) and "run the ViT with extra tokens" (CondViT, ``specs/condvit-lrvsf.md`` §1.2).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import open_clip
import torch
from open_clip.model import convert_to_custom_text_state_dict, resize_pos_embed
from open_clip.transform import PreprocessCfg, merge_preprocess_dict
from open_clip.transformer import VisionTransformer
from torch import nn

from cir_models import architectures
from cir_models.checkpoint import load_state_dict, strip_prefix
from cir_models.pretrained import resolve_pretrained
from cir_models.transforms import ImageTransforms, build_transforms

__all__ = ["Backbone", "TextParts", "create_backbone", "load_backbone_weights"]

# Entries of OpenAI's JIT state dicts that are not parameters.
_NON_PARAMETER_KEYS = ("input_resolution", "context_length", "vocab_size")


@dataclass
class TextParts:
    """The pieces of an open_clip text tower, wherever the model class keeps them."""

    token_embedding: nn.Embedding
    positional_embedding: torch.Tensor
    transformer: nn.Module
    ln_final: nn.Module
    text_projection: Any  # nn.Linear, a [width, embed_dim] matrix, or None
    attn_mask: torch.Tensor | None
    pool_type: str
    eos_id: int | None


def _text_parts(clip: Any) -> TextParts:
    """Locate the text tower of a ``CLIP`` (attributes on the model) or ``CustomTextCLIP`` (``.text``)."""
    tower = getattr(clip, "text", clip)
    if not hasattr(tower, "token_embedding"):
        raise NotImplementedError(
            f"{type(tower).__name__} text tower has no token embedding table (a Hugging Face tower?); "
            "pseudo-token injection supports open_clip's own text transformer only"
        )
    if getattr(tower, "cls_emb", None) is not None or getattr(tower, "use_pad_mask", False):
        raise NotImplementedError("text towers with a CLS embedding or a padding mask are not supported")
    return TextParts(
        token_embedding=tower.token_embedding,
        positional_embedding=tower.positional_embedding,
        transformer=tower.transformer,
        ln_final=tower.ln_final,
        text_projection=tower.text_projection,
        attn_mask=tower.attn_mask,
        pool_type=getattr(tower, "text_pool_type", getattr(tower, "pool_type", "argmax")),
        eos_id=getattr(tower, "text_eos_id", getattr(tower, "eos_id", None)),
    )


def _pool_text(x: torch.Tensor, ids: torch.Tensor, pool_type: str, eos_id: int | None) -> torch.Tensor:
    """Pick one hidden state per sequence, as open_clip's text pooling does."""
    rows = torch.arange(x.shape[0], device=x.device)
    if pool_type == "argmax":  # EOT has the largest id in CLIP's BPE vocabulary
        return x[rows, ids.argmax(dim=-1)]
    if pool_type == "eos" and eos_id is not None:
        return x[rows, ids.eq(eos_id).int().argmax(dim=-1)]
    if pool_type == "first":
        return x[:, 0]
    if pool_type == "last":
        return x[:, -1]
    raise NotImplementedError(f"text pool_type {pool_type!r} is not supported")


def load_backbone_weights(clip: Any, path: str | os.PathLike[str]) -> None:
    """Load an open_clip or OpenAI-layout state dict from ``path`` into ``clip`` (strict, safe loading)."""
    state = strip_prefix(load_state_dict(path), "module.")
    for key in _NON_PARAMETER_KEYS:
        state.pop(key, None)
    if "positional_embedding" in state and not hasattr(clip, "positional_embedding"):
        state = convert_to_custom_text_state_dict(state)
    if "logit_scale" in state and state["logit_scale"].shape != clip.logit_scale.shape:
        state["logit_scale"] = state["logit_scale"].reshape(clip.logit_scale.shape)
    resize_pos_embed(state, clip)
    try:
        clip.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(f"{path}: weights do not fit the architecture: {err}") from None


class Backbone(nn.Module):
    """An open_clip model with its tokenizer and preprocessing config (see the module docstring)."""

    clip: Any  # an open_clip CLIP / CustomTextCLIP; its towers are reached by attribute

    def __init__(self, clip: nn.Module, name: str, preprocess_cfg: PreprocessCfg, tokenizer: Any) -> None:
        super().__init__()
        self.clip = clip
        self.name = name
        self.preprocess_cfg = preprocess_cfg
        self.tokenizer = tokenizer

    @property
    def device(self) -> torch.device:
        """Where the weights live (inputs are moved here)."""
        return next(self.parameters()).device

    @property
    def embed_dim(self) -> int:
        """Width of the joint image-text embedding space."""
        return int(self.clip.visual.output_dim)

    @property
    def vision_width(self) -> int:
        """Token width inside the ViT (the width of an extra token)."""
        return int(self._vit().transformer.width)

    @property
    def token_width(self) -> int:
        """Width of a text token embedding (the output width of a pseudo-word mapping)."""
        return int(_text_parts(self.clip).token_embedding.embedding_dim)

    def transforms(self, kind: str = "clip") -> ImageTransforms:
        """Train/eval pipelines of ``kind`` built from this backbone's preprocessing config."""
        return build_transforms(self.preprocess_cfg, kind)

    def prepare_images(
        self, images: Sequence[Any] | torch.Tensor, preprocess: Callable[[Any], torch.Tensor]
    ) -> torch.Tensor:
        """A batch tensor on this backbone's device from a stacked tensor or a list of PIL images."""
        if not isinstance(images, torch.Tensor):
            images = torch.stack([preprocess(image) for image in images])
        return images.to(self.device, dtype=torch.float32)

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        """Token ids ``[B, context_length]`` on this backbone's device."""
        return self.tokenizer(list(texts)).to(self.device)

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """Raw (unnormalised) image embeddings ``[B, embed_dim]``."""
        return self.clip.encode_image(images)

    def encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        """Raw (unnormalised) text embeddings ``[B, embed_dim]``."""
        return self.clip.encode_text(self.tokenize(texts))

    def token_embeddings(self, ids: torch.Tensor) -> torch.Tensor:
        """Input token embeddings ``[B, L, token_width]`` of token ids ``[B, L]``."""
        return _text_parts(self.clip).token_embedding(ids)

    def encode_token_embeddings(self, embeddings: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Raw text embeddings from given input token embeddings; ``ids`` only choose the pooled position."""
        parts = _text_parts(self.clip)
        x = embeddings + parts.positional_embedding[: embeddings.shape[1]].to(embeddings.dtype)
        mask = parts.attn_mask
        if mask is not None:
            mask = mask[: x.shape[1], : x.shape[1]]
        x = parts.transformer(x, attn_mask=mask)
        x = parts.ln_final(x)
        x = _pool_text(x, ids, parts.pool_type, parts.eos_id)
        if isinstance(parts.text_projection, nn.Linear):
            return parts.text_projection(x)
        if parts.text_projection is not None:
            return x @ parts.text_projection
        return x

    def _vit(self) -> VisionTransformer:
        visual = self.clip.visual
        if not isinstance(visual, VisionTransformer) or visual.attn_pool is not None:
            raise NotImplementedError(
                f"{self.name}: extra image tokens need open_clip's own ViT without attentional pooling, "
                f"found {type(visual).__name__}"
            )
        return visual

    def encode_image_tokens(
        self, images: torch.Tensor, extra_tokens: torch.Tensor | None = None, project: bool = True
    ) -> torch.Tensor:
        """Pooled ViT output with ``extra_tokens [B, K, width]`` appended after the patch tokens.

        The extra tokens must already carry their own position embedding; they join the sequence
        before ``ln_pre``. With ``extra_tokens=None`` this is exactly the plain ViT. ``project=False``
        returns the pooled width-``vision_width`` feature before the output projection.
        """
        vit = self._vit()
        x = vit.conv1(images)
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
        cls = vit.class_embedding.view(1, 1, -1).expand(x.shape[0], -1, -1).to(x.dtype)
        x = torch.cat([cls, x], dim=1) + vit.positional_embedding.to(x.dtype)
        x = vit.patch_dropout(x)
        num_tokens = x.shape[1]
        if extra_tokens is not None:
            x = torch.cat([x, extra_tokens.to(x.dtype)], dim=1)
        x = vit.transformer(vit.ln_pre(x))
        if vit.final_ln_after_pool:
            pooled = vit.ln_post(self._pool_image(x, vit.pool_type, num_tokens))
        else:
            pooled = self._pool_image(vit.ln_post(x), vit.pool_type, num_tokens)
        if project and vit.proj is not None:
            pooled = pooled @ vit.proj
        return pooled

    @staticmethod
    def _pool_image(x: torch.Tensor, pool_type: str, num_tokens: int) -> torch.Tensor:
        if pool_type == "tok":
            return x[:, 0]
        if pool_type == "avg":  # patch tokens only, never the appended extra tokens
            return x[:, 1:num_tokens].mean(dim=1)
        raise NotImplementedError(f"ViT pool_type {pool_type!r} is not supported")


def create_backbone(
    model: str = "cir-tiny",
    pretrained: str | os.PathLike[str] | None = None,
    device: str | torch.device = "cpu",
) -> Backbone:
    """Build open_clip architecture ``model`` with weights from a local file or an open_clip tag.

    ``pretrained=None`` gives a random initialisation (seed torch first for reproducibility).
    A tag needs the network; offline, :class:`~cir_models.pretrained.PretrainedUnavailableError`
    says so and shows how to pass a local file instead.

    Example::

        backbone = create_backbone("cir-tiny")
        feats = backbone.encode_text(["a red cube"])  # [1, 32]
    """
    architectures.get_model_config(model)  # a clear error for unknown names
    weights = resolve_pretrained(model, pretrained)  # before building: fail fast when offline
    clip = open_clip.create_model(model, pretrained=None, device=device)
    if weights.path is not None:
        load_backbone_weights(clip, weights.path)
    clip.eval()
    cfg = merge_preprocess_dict(open_clip.get_model_preprocess_cfg(clip), weights.preprocess)
    tokenizer = open_clip.get_tokenizer(model)
    return Backbone(clip, model, PreprocessCfg(**cfg), tokenizer)


