"""CIRCO (Baldrati, Agnolucci et al., ICCV 2023): composed retrieval with several ground truths.

Layout (``specs/cir-benchmarks.md`` §3.1): ``<root>/annotations/{val,test}.json``,
``<root>/COCO2017_unlabeled/annotations/image_info_unlabeled2017.json`` (the gallery, in its
``images`` order) and ``<root>/COCO2017_unlabeled/unlabeled2017/<file_name>``. Tasks are splits.
``query_text``: ``caption`` (SEARLE/LinCIR, default) or ``shared_concept`` (MagicLens/MMRet:
"find {shared_concept} but {relative_caption}"); the two are not comparable (§3.6).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import torch

from cir_eval.annotations import load_json, require_field
from cir_eval.context import EvalContext
from cir_eval.errors import AnnotationError, BenchmarkDataError
from cir_eval.images import ImageRef, file_image
from cir_eval.metrics import average_precision_at_k, ranking_relevance, recall_at_k
from cir_eval.registry import TaskResult, register_benchmark

KS = (5, 10, 25, 50)
TOP = 50

QUERY_TEXTS: dict[str, Callable[[dict[str, str]], str]] = {
    "caption": lambda entry: entry["relative_caption"],
    "shared_concept": lambda entry: f"find {entry['shared_concept']} but {entry['relative_caption']}",
}


def circo_relevance(ranked_ids: torch.Tensor, ground_truths: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (relevance [Q, K], number of ground truths [Q]) of ranked image ids."""
    rows = [[i in set(gts) for i in row] for row, gts in zip(ranked_ids.tolist(), ground_truths, strict=True)]
    counts = torch.tensor([len(set(g)) for g in ground_truths], dtype=torch.long)
    return torch.tensor(rows, dtype=torch.bool).reshape(len(ground_truths), -1), counts


@register_benchmark(
    "circo",
    tasks=("val", "test"),
    default_tasks=("val",),
    metric_keys=(*(f"map@{k}" for k in KS), *(f"recall@{k}" for k in KS)),
    options={"query_text": "caption", "submission_name": "circo"},
)
def evaluate_circo(context: EvalContext, tasks: tuple[str, ...]) -> dict[str, TaskResult]:
    """CIRCO: mAP@5/10/25/50 (÷ min(K, #GT)) and R@K on target_img_id; test writes the submission."""
    mode = context.option("query_text")
    if mode not in QUERY_TEXTS:
        raise ValueError(f"unknown query_text {mode!r}; choose from {sorted(QUERY_TEXTS)}")
    info_path = context.root / "COCO2017_unlabeled" / "annotations" / "image_info_unlabeled2017.json"
    image_dir = context.root / "COCO2017_unlabeled" / "unlabeled2017"
    listing = require_field(load_json(info_path, dict), "images", list, info_path, "<root>")
    if not listing:
        raise BenchmarkDataError(f"{info_path}: empty gallery")
    ids, images = [], []
    for index, item in enumerate(listing):
        image_id = require_field(item, "id", int, info_path, index)
        name = item.get("file_name", f"{image_id:012d}.jpg")
        if not isinstance(name, str):
            raise AnnotationError(info_path, index, "file_name", f"expected a string, got {name!r}")
        ids.append(image_id)
        images.append(file_image(image_dir, name, f"{info_path} entry {index}"))
    position = {image_id: i for i, image_id in enumerate(ids)}
    if len(position) != len(ids):
        raise BenchmarkDataError(f"{info_path}: duplicate image ids in the gallery")
    results = {}
    for split in tasks:
        results[split] = _evaluate_split(context, split, mode, ids, images, position)
    return results


def _evaluate_split(
    context: EvalContext, split: str, mode: str, ids: list[int], images: list[ImageRef], position: dict[int, int]
) -> TaskResult:
    """Evaluate (val) or write the submission (test) for one CIRCO split."""
    path = context.root / "annotations" / f"{split}.json"
    pairs, query_ids, gts, targets = [], [], [], []
    labelled = split != "test"
    for index, entry in enumerate(load_json(path, list)):
        query_ids.append(require_field(entry, "id", int, path, index))
        reference = require_field(entry, "reference_img_id", int, path, index)
        require_field(entry, "relative_caption", str, path, index)
        if mode == "shared_concept":
            require_field(entry, "shared_concept", str, path, index)
        if reference not in position:
            raise BenchmarkDataError(
                f"{path}, entry {index}, field 'reference_img_id': {reference} is not in the gallery"
            )
        pairs.append((images[position[reference]], QUERY_TEXTS[mode](entry)))
        if labelled:
            if "target_img_id" not in entry:
                raise BenchmarkDataError(f"{path}, entry {index}: missing target (field 'target_img_id')")
            target = require_field(entry, "target_img_id", int, path, index)
            gt = require_field(entry, "gt_img_ids", list, path, index)
            if not gt or not all(isinstance(g, int) for g in gt):
                raise AnnotationError(path, index, "gt_img_ids", f"expected a non-empty list of ints, got {gt!r}")
            missing = [g for g in [target, *gt] if g not in position]
            if missing:
                raise BenchmarkDataError(f"{path}, entry {index}: ground truth {missing} not in the gallery")
            gts.append(gt)
            targets.append(target)
    if not pairs:
        raise BenchmarkDataError(f"{path}: no queries")
    embedded = context.embedder.embed(images, pairs)
    gallery = embedded.gallery[embedded.gallery_index]
    # the reference is NOT removed (SEARLE/LinCIR pipeline, specs §3.4)
    _, ranked = context.search(embedded.queries[embedded.query_index], gallery, TOP)
    ranked_ids = torch.tensor(ids, dtype=torch.long)[ranked]
    info = {"split": split, "num_queries": len(pairs), "gallery_size": len(ids), "query_text": mode}
    if not labelled:
        return TaskResult({}, info, [_write_submission(context, split, query_ids, ranked_ids)])
    relevance, counts = circo_relevance(ranked_ids, gts)
    metrics = {f"map@{k}": 100.0 * average_precision_at_k(relevance, counts, k) for k in KS}
    target_rel = ranking_relevance(ranked_ids, torch.tensor(targets, dtype=torch.long))
    metrics.update({f"recall@{k}": 100.0 * recall_at_k(target_rel, k) for k in KS})
    return TaskResult(metrics, info)


def _write_submission(context: EvalContext, split: str, query_ids: list[int], ranked_ids: torch.Tensor) -> str:
    """Write ``{str(id): top-50 image ids}`` for every query (the server asserts ids 0..N-1)."""
    if sorted(query_ids) != list(range(len(query_ids))):
        raise BenchmarkDataError(f"CIRCO {split}: query ids must be 0..{len(query_ids) - 1}")
    out = context.out_dir
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{context.option('submission_name')}_{split}.json"
    payload = {str(q): row for q, row in zip(query_ids, ranked_ids[:, :TOP].tolist(), strict=True)}
    path.write_text(json.dumps(payload), encoding="utf-8")
    return str(path)
