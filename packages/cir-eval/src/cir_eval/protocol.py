"""The encoder protocol: the one interface through which cir-eval meets any model.

cir-eval knows nothing about architectures. A model is evaluated when it offers two methods
and (optionally) declares how its embeddings are compared:

- ``encode_gallery(images) -> Tensor[N, D]``: one embedding per gallery image;
- ``encode_query(images, texts) -> Tensor[N, D]``: one embedding per (reference image, condition
  text) pair; a category condition ("Bags") is passed as text too;
- ``similarity``: ``"cosine"`` (the default when the attribute is absent: embeddings are
  L2-normalised by cir-eval before ranking), ``"dot"`` (raw inner product), or a callable
  ``(queries[Q, D], gallery[G, D]) -> scores[Q, G]`` where higher means more similar. A hyperbolic
  model declares its own callable (negative Lorentz distance, or the Lorentzian inner product that
  ranks identically), so cir-eval never re-implements manifold math.

``images`` is a list of RGB ``PIL.Image.Image``. An encoder that exposes ``preprocess`` (a
callable ``PIL.Image -> Tensor[C, H, W]``) receives instead a stacked ``Tensor[B, C, H, W]``
already transformed in cir-eval's parallel decoding workers. ``texts`` is a list of ``str`` of the
same length as ``images``.

Two optional methods serve the zero-shot benchmarks (image classification, image–text retrieval,
``specs/hyperbolic.md`` §7.1–7.2), which compare ``encode_gallery`` images with plain texts:

- ``encode_text(texts) -> Tensor[N, D]``: one embedding per text, in the gallery's space, scored
  with the same ``similarity``;
- ``ensemble_text(prompt_features[P, D]) -> Tensor[D]``: one class embedding from the
  ``encode_text`` outputs of its P prompts. Without it cir-eval ensembles as CLIP does for cosine
  (normalise, average, normalise) and averages for ``"dot"``; a model with a callable similarity
  must define it when a class has several prompts (MERU averages in the tangent space at the
  origin before lifting, so it maps the points back with log0, averages, and lifts with exp0).

Three optional methods, offered together, let cir-eval run the image tower once per unique image
even when that image is also a reference (GeneCIS galleries hold other templates' references):

- ``encode_image_features(images) -> Tensor[N, F]``: the per-image work both embeddings start from;
- ``gallery_from_features(features[N, F]) -> Tensor[N, D]``: equal to ``encode_gallery(images)``;
- ``query_from_features(features[N, F], texts) -> Tensor[N, D]``: equal to ``encode_query(images, texts)``.

Without them each query pair runs ``encode_query`` on its image again. :func:`check_encoder` checks
the two equalities when the methods are present.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import torch

ScoreFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Similarity = str | ScoreFn

SIMILARITY_NAMES = ("cosine", "dot")


@runtime_checkable
class Encoder(Protocol):
    """What a model must offer to be evaluated (see the module docstring)."""

    def encode_gallery(self, images: Sequence[Any] | torch.Tensor) -> torch.Tensor: ...

    def encode_query(self, images: Sequence[Any] | torch.Tensor, texts: Sequence[str]) -> torch.Tensor: ...


@runtime_checkable
class TextEncoder(Encoder, Protocol):
    """An encoder that also embeds plain texts (needed by the zero-shot benchmarks)."""

    def encode_text(self, texts: Sequence[str]) -> torch.Tensor: ...


@runtime_checkable
class SharedFeatureEncoder(Encoder, Protocol):
    """An encoder whose gallery and query embeddings start from the same per-image features."""

    def encode_image_features(self, images: Sequence[Any] | torch.Tensor) -> torch.Tensor: ...

    def gallery_from_features(self, features: torch.Tensor) -> torch.Tensor: ...

    def query_from_features(self, features: torch.Tensor, texts: Sequence[str]) -> torch.Tensor: ...


SHARED_FEATURE_METHODS = ("encode_image_features", "gallery_from_features", "query_from_features")


def shares_image_features(encoder: object) -> bool:
    """Whether ``encoder`` offers all three shared-feature methods (a partial set is an error)."""
    present = [name for name in SHARED_FEATURE_METHODS if callable(getattr(encoder, name, None))]
    if present and len(present) < len(SHARED_FEATURE_METHODS):
        missing = [name for name in SHARED_FEATURE_METHODS if name not in present]
        raise TypeError(f"encoder defines {present} but not {missing}: the shared-feature methods come together")
    return bool(present)


def get_similarity(encoder: object) -> Similarity:
    """Return the encoder's declared similarity (``"cosine"`` when it declares none)."""
    similarity = getattr(encoder, "similarity", "cosine")
    if isinstance(similarity, str):
        if similarity not in SIMILARITY_NAMES:
            raise ValueError(f"unknown similarity {similarity!r}; expected one of {SIMILARITY_NAMES} or a callable")
        return similarity
    if callable(similarity):
        return similarity
    raise TypeError(f"encoder.similarity must be a name or a callable, got {type(similarity).__name__}")


def prepare_embeddings(embeddings: torch.Tensor, similarity: Similarity) -> torch.Tensor:
    """Return embeddings as float32, L2-normalised when the similarity is cosine (ranking-ready)."""
    embeddings = embeddings.detach().float()
    if similarity == "cosine":
        return torch.nn.functional.normalize(embeddings, dim=-1)
    return embeddings


def score(queries: torch.Tensor, gallery: torch.Tensor, similarity: Similarity) -> torch.Tensor:
    """Return the score matrix [Q, G] (higher is more similar) of prepared embeddings."""
    if isinstance(similarity, str):
        return queries @ gallery.T
    return similarity(queries, gallery)


def describe_similarity(similarity: Similarity) -> str:
    """Return a printable name for a similarity (the callable's qualified name for custom ones)."""
    if isinstance(similarity, str):
        return similarity
    return getattr(similarity, "__qualname__", type(similarity).__name__)


def encoder_input(encoder: object, images: Sequence[Any]) -> Sequence[Any] | torch.Tensor:
    """Return what ``encode_*`` receives: the PIL list, or a stacked tensor if the encoder has ``preprocess``."""
    preprocess = getattr(encoder, "preprocess", None)
    if preprocess is None:
        return list(images)
    return torch.stack([preprocess(image) for image in images])
