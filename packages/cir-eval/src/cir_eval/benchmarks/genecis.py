"""GeneCIS (Vaze et al., CVPR 2023): four conditional-similarity tasks, each template its own gallery.

Layout (``specs/genecis.md`` §1): ``<root>/<task>.json`` (a list of templates with ``reference``,
``target``, ``gallery``, ``condition``), COCO val2017 images in ``<root>/val2017/<12-digit id>.jpg``
and Visual Genome images in ``<root>/VG_100K_all/<image_id>.jpg`` (folders are options).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from cir_eval.annotations import load_json, require_field, resolve_dir
from cir_eval.context import EvalContext
from cir_eval.errors import AnnotationError, BenchmarkDataError
from cir_eval.images import ImageRef, file_image
from cir_eval.metrics import recall_at_k
from cir_eval.registry import TaskResult, register_benchmark
from cir_eval.search import candidate_scores, sort_by_score

TASKS = ("focus_attribute", "change_attribute", "focus_object", "change_object")
KS = (1, 2, 3)


def _coco_image(entry: Any, where: str, path: Path, index: int, folders: dict[str, Path]) -> ImageRef:
    image_id = require_field(entry, "val_image_id", int, path, index)
    return file_image(folders["coco"], f"{image_id:012d}.jpg", f"{path} entry {index} ({where})")


def _vg_image(entry: Any, where: str, path: Path, index: int, folders: dict[str, Path]) -> ImageRef:
    image_id = require_field(entry, "image_id", (str, int), path, index)
    bbox = require_field(entry, "instance_bbox", list, path, index)
    if len(bbox) != 4 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox):
        raise AnnotationError(path, index, f"{where}.instance_bbox", f"expected [x, y, w, h] numbers, got {bbox!r}")
    # VAW crop with the top-left-only dilation quirk, then a black square pad (specs/genecis.md §2.2)
    box = (float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3]))
    return file_image(folders["vg"], f"{image_id}.jpg", f"{path} entry {index} ({where})", bbox=box, pad=0)


ImageReader = Callable[[Any, str, Path, int, dict[str, Path]], ImageRef]
_IMAGE_READERS: dict[str, ImageReader] = {
    "focus_attribute": _vg_image,
    "change_attribute": _vg_image,
    "focus_object": _coco_image,
    "change_object": _coco_image,
}
_FOLDER_OPTION = {"vg": "vg_dir", "coco": "coco_dir"}
_TASK_FOLDER = {"focus_attribute": "vg", "change_attribute": "vg", "focus_object": "coco", "change_object": "coco"}


@dataclass(frozen=True)
class Templates:
    """One task's templates: query pairs and per-template candidates ([target] + gallery)."""

    queries: list[tuple[ImageRef, str]]
    candidates: list[list[ImageRef]]


def read_templates(path: Path, task: str, folders: dict[str, Path]) -> Templates:
    """Return the templates of one GeneCIS task file, validating every field it uses."""
    reader = _IMAGE_READERS[task]
    queries: list[tuple[ImageRef, str]] = []
    candidates: list[list[ImageRef]] = []
    for index, entry in enumerate(load_json(path, list)):
        condition = require_field(entry, "condition", str, path, index)
        reference = reader(require_field(entry, "reference", dict, path, index), "reference", path, index, folders)
        target_entry = entry.get("target") if isinstance(entry, dict) else None
        if not isinstance(target_entry, dict):
            raise BenchmarkDataError(f"{path}, entry {index}: the template has no target (field 'target')")
        gallery = require_field(entry, "gallery", list, path, index)
        if not gallery:
            raise BenchmarkDataError(f"{path}, entry {index}: empty gallery (field 'gallery')")
        target = reader(target_entry, "target", path, index, folders)
        items = [reader(g, f"gallery[{j}]", path, index, folders) for j, g in enumerate(gallery)]
        # the raw condition string is the query text: no prompt template (specs/genecis.md §2.3)
        queries.append((reference, condition))
        # the target is always index 0 of its candidates (specs/genecis.md §3.1)
        candidates.append([target, *items])
    if not queries:
        raise BenchmarkDataError(f"{path}: no templates")
    return Templates(queries, candidates)


def template_recalls(scores: torch.Tensor, ks: tuple[int, ...] = KS) -> dict[str, float]:
    """Return ``recall@k`` (%) where each row scores [target, *gallery] (padding = -inf).

    Ties rank by candidate position, so a target duplicated in its gallery (change_object item 19)
    ranks at index 0 and counts as a hit; the official CUDA sort leaves this undefined.
    Duplicate templates are all counted, never removed (specs/genecis.md §11.7).
    """
    positions = torch.arange(scores.shape[1]).expand_as(scores)
    _, ranked = sort_by_score(scores, positions)
    relevance = ranked == 0
    return {f"recall@{k}": 100.0 * recall_at_k(relevance, k) for k in ks}


@register_benchmark(
    "genecis",
    tasks=(*TASKS, "average"),
    default_tasks=(*TASKS, "average"),
    metric_keys=tuple(f"recall@{k}" for k in KS),
    options={"coco_dir": "val2017", "vg_dir": "VG_100K_all", "annotation_dir": "."},
)
def evaluate_genecis(context: EvalContext, tasks: tuple[str, ...]) -> dict[str, TaskResult]:
    """GeneCIS: R@1/2/3 per task, target at index 0 of [target]+gallery; average = mean of the 4 R@1."""
    real = [t for t in tasks if t != "average"]
    if "average" in tasks:
        real = list(dict.fromkeys([*real, *TASKS]))
    folders = {
        key: resolve_dir(context.root, context.option(_FOLDER_OPTION[key]))
        for key in sorted({_TASK_FOLDER[t] for t in real})
    }
    templates = {}
    for task in real:
        templates[task] = read_templates(
            context.root / context.option("annotation_dir") / f"{task}.json", task, folders
        )
    # one embedding pass over all tasks: shared images are decoded and encoded once
    gallery = [ref for t in real for cands in templates[t].candidates for ref in cands]
    pairs = [pair for t in real for pair in templates[t].queries]
    embedded = context.embedder.embed(gallery, pairs)
    results: dict[str, TaskResult] = {}
    g_offset = q_offset = 0
    for task in real:
        cands = templates[task].candidates
        width = max(len(c) for c in cands)
        index = torch.full((len(cands), width), -1, dtype=torch.long)
        for row, cand in enumerate(cands):
            index[row, : len(cand)] = embedded.gallery_index[g_offset : g_offset + len(cand)]
            g_offset += len(cand)
        q_rows = embedded.query_index[q_offset : q_offset + len(cands)]
        q_offset += len(cands)
        scores = candidate_scores(embedded.queries[q_rows], embedded.gallery, index, context.similarity)
        info = {"split": "test", "num_queries": len(cands), "gallery_size": width}
        results[task] = TaskResult(template_recalls(scores), info)
    if "average" in tasks:
        mean = sum(results[t].metrics["recall@1"] for t in TASKS) / len(TASKS)
        results["average"] = TaskResult({"recall@1": mean}, {"split": "test", "tasks": list(TASKS)})
    return {t: results[t] for t in tasks}
