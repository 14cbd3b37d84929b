"""A public conformance check: does an object satisfy the encoder protocol cir-eval relies on?

Model packages call :func:`check_encoder` in their tests (one contract test over their registry),
so a broken encoder fails there, with a clear message, instead of giving wrong numbers here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cir_eval.protocol import SIMILARITY_NAMES, describe_similarity, encoder_input, shares_image_features

__all__ = ["check_encoder"]

_DETERMINISM_ATOL = 1e-5
_BATCH_ATOL = 1e-4
_NORM_ATOL = 1e-3


def _check_matrix(name: str, out: object, rows: int) -> torch.Tensor:
    assert isinstance(out, torch.Tensor), f"{name} must return a torch.Tensor, got {type(out).__name__}"
    assert out.ndim == 2, f"{name} must return a 2-D tensor [N, D], got shape {tuple(out.shape)}"
    assert out.shape[0] == rows, f"{name} returned {out.shape[0]} rows for {rows} inputs"
    assert out.shape[1] > 0, f"{name} returned an empty embedding dimension"
    assert out.is_floating_point(), f"{name} must return floating-point embeddings, got {out.dtype}"
    out = out.detach().float().cpu()
    assert torch.isfinite(out).all(), f"{name} returned non-finite values (NaN or inf)"
    return out


def _check_similarity(encoder: object, queries: torch.Tensor, gallery: torch.Tensor) -> str:
    similarity = getattr(encoder, "similarity", "cosine")
    if isinstance(similarity, str):
        assert similarity in SIMILARITY_NAMES, (
            f"declared similarity {similarity!r} is not one of {SIMILARITY_NAMES} (or a callable)"
        )
        if similarity == "cosine":
            for name, emb in (("encode_gallery", gallery), ("encode_query", queries)):
                norms = emb.norm(dim=1)
                assert torch.allclose(norms, torch.ones_like(norms), atol=_NORM_ATOL), (
                    f"{name} must return L2-normalised rows for cosine similarity; norms range "
                    f"{norms.min().item():.4f}..{norms.max().item():.4f}"
                )
        return similarity
    assert callable(similarity), f"encoder.similarity must be a name or a callable, got {type(similarity).__name__}"
    with torch.no_grad():
        scores = similarity(queries, gallery)
    assert isinstance(scores, torch.Tensor), "the similarity callable must return a torch.Tensor"
    expected = (queries.shape[0], gallery.shape[0])
    assert tuple(scores.shape) == expected, (
        f"the similarity callable must return scores [Q, G] = {expected}, got {tuple(scores.shape)}"
    )
    assert torch.isfinite(scores).all(), "the similarity callable returned non-finite scores"
    with torch.no_grad():
        split = similarity(queries[:1], gallery)
    assert torch.allclose(split[0], scores[0], atol=_BATCH_ATOL), (
        "the similarity callable must score each query independently of the other queries in the chunk"
    )
    return describe_similarity(similarity)


def _check_text(encoder: Any, texts: Sequence[str], gallery: torch.Tensor) -> None:
    """Check the optional ``encode_text`` (and ``ensemble_text``) against the gallery embeddings."""
    emb = _check_matrix("encode_text", encoder.encode_text(list(texts)), len(texts))
    assert emb.shape[1] == gallery.shape[1], (
        f"encode_text and encode_gallery dimensions differ: {emb.shape[1]} vs {gallery.shape[1]}"
    )
    again = encoder.encode_text(list(texts)).detach().float().cpu()
    assert torch.allclose(again, emb, atol=_DETERMINISM_ATOL), "encode_text is not deterministic"
    single = encoder.encode_text(list(texts[:1])).detach().float().cpu()
    assert torch.allclose(single[0], emb[0], atol=_BATCH_ATOL), (
        "encode_text gives a different embedding for a text encoded alone than within a batch"
    )
    similarity = getattr(encoder, "similarity", "cosine")
    if similarity == "cosine":
        norms = emb.norm(dim=1)
        assert torch.allclose(norms, torch.ones_like(norms), atol=_NORM_ATOL), (
            "encode_text must return L2-normalised rows for cosine similarity"
        )
    elif callable(similarity):
        scores = similarity(emb, gallery)
        assert isinstance(scores, torch.Tensor) and tuple(scores.shape) == (emb.shape[0], gallery.shape[0]), (
            "the similarity callable must score encode_text rows against gallery rows as [T, G]"
        )
        assert torch.isfinite(scores).all(), "the similarity callable returned non-finite text-image scores"
    hook = getattr(encoder, "ensemble_text", None)
    if callable(hook):
        out = hook(emb)
        assert isinstance(out, torch.Tensor) and tuple(out.shape) == (emb.shape[1],), (
            f"ensemble_text must turn [P, {emb.shape[1]}] prompt embeddings into one [{emb.shape[1]}] embedding"
        )
        assert torch.isfinite(out).all(), "ensemble_text returned non-finite values"


def _check_shared_features(
    encoder: Any, images: Sequence[Any], texts: Sequence[str], gallery: torch.Tensor, queries: torch.Tensor
) -> None:
    """The optional shared-feature methods must give what ``encode_gallery`` / ``encode_query`` give."""
    features = encoder.encode_image_features(encoder_input(encoder, images))
    assert isinstance(features, torch.Tensor) and features.shape[0] == len(images), (
        f"encode_image_features must return a tensor with one row per image ({len(images)})"
    )
    via_gallery = _check_matrix("gallery_from_features", encoder.gallery_from_features(features), len(images))
    via_query = _check_matrix("query_from_features", encoder.query_from_features(features, list(texts)), len(texts))
    assert torch.allclose(via_gallery, gallery, atol=_BATCH_ATOL), (
        "gallery_from_features(encode_image_features(images)) differs from encode_gallery(images)"
    )
    assert torch.allclose(via_query, queries, atol=_BATCH_ATOL), (
        "query_from_features(encode_image_features(images), texts) differs from encode_query(images, texts)"
    )


def check_encoder(encoder: Any, images: Sequence[Any], texts: Sequence[str]) -> dict[str, Any]:
    """Assert that ``encoder`` follows the protocol on these inputs; return ``{"dim", "similarity", "text"}``.

    ``images`` are RGB PIL images (at least 2), ``texts`` one condition per image. Checks: both
    methods exist; outputs are finite float [N, D] with the same D; repeated calls agree in eval mode
    (an ``nn.Module`` is switched to eval for the check and restored after); a row does not depend on
    the rest of the batch; rows are unit-norm when the similarity is cosine; a declared similarity
    callable returns finite [Q, G] scores. The optional ``encode_text`` (zero-shot benchmarks) gets
    the same checks on ``texts`` when present, and ``ensemble_text`` must map [P, D] to [D];
    ``"text"`` in the result says whether ``encode_text`` exists. The optional shared-feature methods
    (``"shared_features"`` in the result) must reproduce ``encode_gallery`` and ``encode_query``.
    Raises ``AssertionError`` naming the broken rule.
    """
    if len(images) < 2:
        raise ValueError("check_encoder needs at least 2 images")
    if len(texts) != len(images):
        raise ValueError(f"check_encoder needs one text per image, got {len(texts)} texts for {len(images)}")
    for method in ("encode_gallery", "encode_query"):
        assert callable(getattr(encoder, method, None)), f"encoder has no callable {method}()"
    was_training = isinstance(encoder, torch.nn.Module) and encoder.training
    if isinstance(encoder, torch.nn.Module):
        encoder.eval()
    try:
        with torch.no_grad():
            inputs = encoder_input(encoder, images)
            gallery = _check_matrix("encode_gallery", encoder.encode_gallery(inputs), len(images))
            queries = _check_matrix("encode_query", encoder.encode_query(inputs, list(texts)), len(texts))
            assert gallery.shape[1] == queries.shape[1], (
                f"gallery and query dimensions differ: {gallery.shape[1]} vs {queries.shape[1]}"
            )
            again_g = encoder.encode_gallery(encoder_input(encoder, images)).detach().float().cpu()
            again_q = encoder.encode_query(encoder_input(encoder, images), list(texts)).detach().float().cpu()
            assert torch.allclose(again_g, gallery, atol=_DETERMINISM_ATOL), "encode_gallery is not deterministic"
            assert torch.allclose(again_q, queries, atol=_DETERMINISM_ATOL), "encode_query is not deterministic"
            single_g = encoder.encode_gallery(encoder_input(encoder, images[:1])).detach().float().cpu()
            single_q = encoder.encode_query(encoder_input(encoder, images[:1]), list(texts[:1])).detach().float().cpu()
            assert torch.allclose(single_g[0], gallery[0], atol=_BATCH_ATOL), (
                "encode_gallery gives a different embedding for an image encoded alone than within a batch"
            )
            assert torch.allclose(single_q[0], queries[0], atol=_BATCH_ATOL), (
                "encode_query gives a different embedding for a pair encoded alone than within a batch"
            )
            similarity = _check_similarity(encoder, queries, gallery)
            has_text = callable(getattr(encoder, "encode_text", None))
            if has_text:
                _check_text(encoder, texts, gallery)
            shared = shares_image_features(encoder)
            if shared:
                _check_shared_features(encoder, images, texts, gallery, queries)
    finally:
        if was_training:
            encoder.train()
    return {"dim": int(gallery.shape[1]), "similarity": similarity, "text": has_text, "shared_features": shared}
