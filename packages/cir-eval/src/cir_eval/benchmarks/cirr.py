"""CIRR (Liu et al., ICCV 2021): composed retrieval over the whole split gallery, reference removed.

Layout (``specs/cir-benchmarks.md`` §1.1–1.3): ``<root>/cirr/captions/cap.rc2.<split>.json``,
``<root>/cirr/image_splits/split.rc2.<split>.json`` (name → ``./dev/...png``) and the images at
``<root>/<that relative path>``. Tasks are splits: ``val`` (local metrics) and ``test1`` (the two
server submission files).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from cir_eval.annotations import load_json, require_field
from cir_eval.context import EvalContext
from cir_eval.errors import AnnotationError, BenchmarkDataError
from cir_eval.images import ImageRef, file_image
from cir_eval.metrics import ranking_relevance, recall_at_k
from cir_eval.registry import TaskResult, register_benchmark
from cir_eval.search import candidate_scores, sort_by_score

KS = (1, 5, 10, 50)
SUBSET_KS = (1, 2, 3)


@dataclass(frozen=True)
class CirrSplit:
    """One split: gallery names and images, and per query its reference, caption, target and subset."""

    names: list[str]
    images: list[ImageRef]
    pair_ids: list[int]
    references: list[int]
    captions: list[str]
    targets: list[int] | None
    subsets: list[list[int]]


def _gallery_index(name: object, position: dict[str, int], path: Path, index: int, field: str) -> int:
    if not isinstance(name, str):
        raise AnnotationError(path, index, field, f"expected an image name, got {name!r}")
    if name not in position:
        raise BenchmarkDataError(f"{path}, entry {index}, field {field!r}: image {name!r} is not in the split gallery")
    return position[name]


def read_split(root: Path, split: str, with_targets: bool) -> CirrSplit:
    """Return a CIRR split read from the official files; every name is checked against the gallery."""
    split_path = root / "cirr" / "image_splits" / f"split.rc2.{split}.json"
    caption_path = root / "cirr" / "captions" / f"cap.rc2.{split}.json"
    relpaths = load_json(split_path, dict)
    if not relpaths:
        raise BenchmarkDataError(f"{split_path}: empty gallery")
    names = list(relpaths)
    for name, rel in relpaths.items():
        if not isinstance(rel, str):
            raise AnnotationError(split_path, name, name, f"expected a relative path, got {rel!r}")
    images = [file_image(root, relpaths[n], f"{split_path} entry {n!r}") for n in names]
    position = {name: i for i, name in enumerate(names)}
    pair_ids, references, captions, subsets = [], [], [], []
    targets: list[int] | None = [] if with_targets else None
    for index, entry in enumerate(load_json(caption_path, list)):
        pair_ids.append(require_field(entry, "pairid", int, caption_path, index))
        reference = _gallery_index(
            require_field(entry, "reference", str, caption_path, index), position, caption_path, index, "reference"
        )
        references.append(reference)
        captions.append(require_field(entry, "caption", str, caption_path, index))
        if targets is not None:
            target = entry.get("target_hard") if isinstance(entry, dict) else None
            if target is None:
                raise BenchmarkDataError(f"{caption_path}, entry {index}: missing target (field 'target_hard')")
            targets.append(_gallery_index(target, position, caption_path, index, "target_hard"))
        img_set = require_field(entry, "img_set", dict, caption_path, index)
        members = require_field(img_set, "members", list, caption_path, index)
        member_ids = [_gallery_index(m, position, caption_path, index, "img_set.members") for m in members]
        # the subset is the members minus the reference: 5 candidates (specs/cir-benchmarks.md §1.5)
        subsets.append([m for m in member_ids if m != reference])
    if not pair_ids:
        raise BenchmarkDataError(f"{caption_path}: no queries")
    return CirrSplit(names, images, pair_ids, references, captions, targets, subsets)


def _subset_ranking(
    queries: torch.Tensor, gallery: torch.Tensor, subsets: list[list[int]], context: EvalContext
) -> torch.Tensor:
    width = max(len(s) for s in subsets)
    members = torch.full((len(subsets), width), -1, dtype=torch.long)
    for row, subset in enumerate(subsets):
        members[row, : len(subset)] = torch.tensor(subset, dtype=torch.long)
    scores = candidate_scores(queries, gallery, members, context.similarity)
    # same order as the reference-free global ranking: score desc, then gallery index asc
    _, ranked = sort_by_score(scores, members.masked_fill(members < 0, torch.iinfo(torch.long).max))
    return ranked


@register_benchmark(
    "cirr",
    tasks=("val", "test1"),
    default_tasks=("val",),
    metric_keys=(*(f"recall@{k}" for k in KS), *(f"recall_subset@{k}" for k in SUBSET_KS)),
    options={"submission_name": "cirr"},
)
def evaluate_cirr(context: EvalContext, tasks: tuple[str, ...]) -> dict[str, TaskResult]:
    """CIRR: R@1/5/10/50 and R_subset@1/2/3 with the reference removed; test1 writes both submission files."""
    results = {}
    for split in tasks:
        data = read_split(context.root, split, with_targets=split != "test1")
        pairs = [(data.images[r], c) for r, c in zip(data.references, data.captions, strict=True)]
        embedded = context.embedder.embed(data.images, pairs)
        gallery = embedded.gallery[embedded.gallery_index]
        queries = embedded.queries[embedded.query_index]
        # the reference is removed from its own ranking before cutting to top K (specs §1.5, trap 7.1)
        exclude = torch.tensor(data.references, dtype=torch.long)
        _, ranked = context.search(queries, gallery, max(KS), exclude=exclude)
        subset_ranked = _subset_ranking(queries, gallery, data.subsets, context)
        info = {"split": split, "num_queries": len(pairs), "gallery_size": len(data.names)}
        if data.targets is None:
            files = _write_submissions(context, split, data, ranked, subset_ranked)
            results[split] = TaskResult({}, info, files)
            continue
        targets = torch.tensor(data.targets, dtype=torch.long)
        metrics = {f"recall@{k}": 100.0 * recall_at_k(ranking_relevance(ranked, targets), k) for k in KS}
        subset_rel = ranking_relevance(subset_ranked, targets)
        metrics.update({f"recall_subset@{k}": 100.0 * recall_at_k(subset_rel, k) for k in SUBSET_KS})
        results[split] = TaskResult(metrics, info)
    return results


def _write_submissions(
    context: EvalContext, split: str, data: CirrSplit, ranked: torch.Tensor, subset_ranked: torch.Tensor
) -> list[str]:
    """Write the server's two files: top-50 names (``recall``) and top-3 subset names (``recall_subset``)."""
    out = context.out_dir
    out.mkdir(parents=True, exist_ok=True)
    name = context.option("submission_name")
    files = []
    for metric, ranking, k, filename in (
        ("recall", ranked, 50, f"{name}_{split}.json"),
        ("recall_subset", subset_ranked, 3, f"subset_{name}_{split}.json"),
    ):
        payload: dict[str, object] = {"version": "rc2", "metric": metric}
        for pair_id, row in zip(data.pair_ids, ranking[:, :k].tolist(), strict=True):
            payload[str(pair_id)] = [data.names[i] for i in row if 0 <= i < len(data.names)]
        path = out / filename
        path.write_text(json.dumps(payload, sort_keys=True), encoding="utf-8")
        files.append(str(path))
    return files
