"""The text side of the protocol: the optional ``encode_text`` and prompt ensembling (zero-shot tasks).

See :mod:`cir_eval.protocol` for the contract. Texts are encoded in batches without gradients (an
``nn.Module`` in eval mode, restored afterwards); ensembling follows the encoder's ``ensemble_text``
hook when it has one, CLIP's rule otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from tqdm.auto import tqdm

from cir_eval.protocol import Similarity

__all__ = ["ensemble_prompts", "require_text_encoder", "run_encode_text"]


def require_text_encoder(encoder: Any, benchmark: str) -> None:
    """Raise ``TypeError`` unless ``encoder`` has the optional ``encode_text`` method ``benchmark`` needs."""
    if not callable(getattr(encoder, "encode_text", None)):
        raise TypeError(
            f"benchmark {benchmark!r} compares images with plain texts: the encoder "
            f"{type(encoder).__name__} needs an encode_text(texts) -> Tensor[N, D] method"
        )


def run_encode_text(
    encoder: Any, texts: Sequence[str], *, batch_size: int = 64, progress: bool = True
) -> torch.Tensor:
    """Return ``encode_text`` outputs [N, D] (float32, CPU) for ``texts``, encoded in batches."""
    module = encoder if isinstance(encoder, torch.nn.Module) else None
    was_training = module is not None and module.training
    if module is not None:
        module.eval()
    out = []
    try:
        with torch.no_grad():
            starts = range(0, len(texts), batch_size)
            for start in tqdm(starts, desc="encode texts", unit="batch", disable=not progress):
                chunk = list(texts[start : start + batch_size])
                emb = encoder.encode_text(chunk)
                if not isinstance(emb, torch.Tensor) or emb.ndim != 2 or emb.shape[0] != len(chunk):
                    shape = tuple(emb.shape) if isinstance(emb, torch.Tensor) else type(emb).__name__
                    raise ValueError(f"encode_text must return a [N, D] tensor for {len(chunk)} texts, got {shape}")
                out.append(emb.detach().float().cpu())
    finally:
        if was_training and module is not None:
            module.train()
    if not out:
        raise ValueError("no texts to encode")
    return torch.cat(out)


def ensemble_prompts(encoder: Any, prompt_features: torch.Tensor, similarity: Similarity) -> torch.Tensor:
    """Return one class embedding [D] from its prompts' ``encode_text`` outputs [P, D].

    The encoder's ``ensemble_text`` decides when present (a hyperbolic model averages in the tangent
    space, ``specs/hyperbolic.md`` §7.1). Otherwise: cosine → normalise, average, normalise (CLIP);
    ``"dot"`` → the plain average; a callable similarity with several prompts is refused, because
    averaging points of an unknown space is not defined.
    """
    hook = getattr(encoder, "ensemble_text", None)
    if callable(hook):
        with torch.no_grad():
            out = hook(prompt_features)
        dim = prompt_features.shape[1]
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (dim,):
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ValueError(f"ensemble_text must return a [{dim}] tensor for [P, {dim}] prompts, got {shape}")
        return out.detach().float().cpu()
    if similarity == "cosine":
        unit = torch.nn.functional.normalize(prompt_features, dim=-1)
        return torch.nn.functional.normalize(unit.mean(dim=0), dim=-1)
    if similarity == "dot" or prompt_features.shape[0] == 1:
        return prompt_features.mean(dim=0)
    raise TypeError(
        f"{type(encoder).__name__} declares a custom similarity but no ensemble_text(prompt_features) hook: "
        "cir-eval cannot average several prompts in an unknown space (use one prompt or add the hook)"
    )
