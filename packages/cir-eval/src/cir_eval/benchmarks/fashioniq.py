"""FashionIQ (Wu et al., CVPR 2021): per-category galleries, two relative captions per query.

Layout (``specs/cir-benchmarks.md`` §2.1): ``<root>/captions/cap.<category>.<split>.json``,
``<root>/image_splits/split.<category>.<split>.json`` (a list of ASINs) and
``<root>/images/<ASIN>.jpg`` (``image_ext`` option; Pic2Word/MagicLens copies use ``.png``).

How the two captions become a query is an option (``caption_mode``), because it alone changes the
numbers (§2.4, issue lincir#3). The default, ``both_orders``, is the SEARLE/LinCIR rule: strip
``.?, `` from both ends of each caption, encode "c1 and c2" and "c2 and c1", L2-normalise each,
average, and normalise again. ``reversed`` is Pic2Word's single "c2 and c1"; ``joined`` is
MagicLens's "c1 and c2". Any prompt wrapper ("a photo of $ that ...") belongs to the encoder.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from cir_eval.annotations import load_json, require_field
from cir_eval.context import EvalContext
from cir_eval.errors import AnnotationError, BenchmarkDataError
from cir_eval.images import ImageRef, file_image
from cir_eval.metrics import ranking_relevance, recall_at_k
from cir_eval.registry import TaskResult, register_benchmark

CATEGORIES = ("dress", "shirt", "toptee")
KS = (10, 50)


def _strip(caption: str) -> str:
    return caption.strip(".?, ")


CAPTION_MODES: dict[str, Callable[[str, str], list[str]]] = {
    "both_orders": lambda c1, c2: [f"{_strip(c1)} and {_strip(c2)}", f"{_strip(c2)} and {_strip(c1)}"],
    "reversed": lambda c1, c2: [f"{c2} and {c1}"],
    "joined": lambda c1, c2: [f"{c1} and {c2}"],
}


def combine_queries(embeddings: torch.Tensor, per_query: int) -> torch.Tensor:
    """Return the normalised mean of each query's ``per_query`` normalised text-variant embeddings."""
    grouped = torch.nn.functional.normalize(embeddings, dim=-1).reshape(-1, per_query, embeddings.shape[-1])
    return torch.nn.functional.normalize(grouped.mean(dim=1), dim=-1)


def _evaluate_category(context: EvalContext, category: str) -> TaskResult:
    split = context.option("split")
    mode = context.option("caption_mode")
    if mode not in CAPTION_MODES:
        raise ValueError(f"unknown caption_mode {mode!r}; choose from {sorted(CAPTION_MODES)}")
    split_path = context.root / "image_splits" / f"split.{category}.{split}.json"
    caption_path = context.root / "captions" / f"cap.{category}.{split}.json"
    asins = load_json(split_path, list)
    if not asins:
        raise BenchmarkDataError(f"{split_path}: empty gallery")
    for index, asin in enumerate(asins):
        if not isinstance(asin, str):
            raise AnnotationError(split_path, index, "<asin>", f"expected a string, got {asin!r}")
    image_dir = context.root / "images"
    ext = context.option("image_ext")
    images = [file_image(image_dir, f"{a}{ext}", f"{split_path} entry {i}") for i, a in enumerate(asins)]
    position = {asin: i for i, asin in enumerate(asins)}
    pairs: list[tuple[ImageRef, str]] = []
    targets: list[int] = []
    for index, entry in enumerate(load_json(caption_path, list)):
        candidate = require_field(entry, "candidate", str, caption_path, index)
        target = entry.get("target") if isinstance(entry, dict) else None
        if not isinstance(target, str):
            raise BenchmarkDataError(f"{caption_path}, entry {index}: missing target (field 'target')")
        captions = require_field(entry, "captions", list, caption_path, index)
        if len(captions) != 2 or not all(isinstance(c, str) for c in captions):
            raise AnnotationError(caption_path, index, "captions", f"expected 2 strings, got {captions!r}")
        for field, asin in (("candidate", candidate), ("target", target)):
            if asin not in position:
                raise BenchmarkDataError(
                    f"{caption_path}, entry {index}, field {field!r}: {asin!r} is not in {split_path}"
                )
        targets.append(position[target])
        reference = file_image(image_dir, f"{candidate}{ext}", f"{caption_path} entry {index} (candidate)")
        pairs.extend((reference, text) for text in CAPTION_MODES[mode](*captions))
    if not targets:
        raise BenchmarkDataError(f"{caption_path}: no queries")
    per_query = len(pairs) // len(targets)
    if per_query > 1 and context.similarity != "cosine":
        raise ValueError(f"caption_mode {mode!r} averages normalised embeddings; it needs cosine similarity")
    embedded = context.embedder.embed(images, pairs)
    queries = embedded.queries[embedded.query_index]
    queries = combine_queries(queries, per_query) if per_query > 1 else queries
    gallery = embedded.gallery[embedded.gallery_index]
    # the reference is NOT removed from the FashionIQ gallery (specs/cir-benchmarks.md §2.3)
    _, ranked = context.search(queries, gallery, max(KS))
    relevance = ranking_relevance(ranked, torch.tensor(targets, dtype=torch.long))
    metrics = {f"recall@{k}": 100.0 * recall_at_k(relevance, k) for k in KS}
    info = {"split": split, "num_queries": len(targets), "gallery_size": len(asins), "caption_mode": mode}
    return TaskResult(metrics, info)


@register_benchmark(
    "fashioniq",
    tasks=(*CATEGORIES, "average"),
    metric_keys=tuple(f"recall@{k}" for k in KS),
    options={"split": "val", "caption_mode": "both_orders", "image_ext": ".jpg"},
)
def evaluate_fashioniq(context: EvalContext, tasks: tuple[str, ...]) -> dict[str, TaskResult]:
    """FashionIQ: R@10/R@50 per category (reference kept) and their mean over dress/shirt/toptee."""
    needed = list(
        dict.fromkeys([t for t in tasks if t != "average"] + (list(CATEGORIES) if "average" in tasks else []))
    )
    results = {category: _evaluate_category(context, category) for category in needed}
    if "average" in tasks:
        # the mean of the three category recalls, not one pooled number (specs §2.3)
        average = {f"recall@{k}": sum(results[c].metrics[f"recall@{k}"] for c in CATEGORIES) / 3 for k in KS}
        results["average"] = TaskResult(average, {"split": context.option("split"), "tasks": list(CATEGORIES)})
    return {t: results[t] for t in tasks}
