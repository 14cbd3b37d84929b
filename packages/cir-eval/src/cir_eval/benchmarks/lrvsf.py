"""LRVS-F (Lepage et al., arXiv 2306.02928): referred visual search among growing numbers of distractors.

Layout: the official benchmark's ``data/`` folder, unchanged (``specs/condvit-lrvsf.md`` §3.3)::

    <root>/products.parquet         one row per test product: SIMPLE_IMG, COMPLEX_IMG (JPEG bytes),
                                    CATEGORY, blip2_caption1
    <root>/distractors/*.parquet    distractor images in column ``dist_img_col`` (default ``jpg``)

``<root>`` may also be the folder holding ``data/``. The official folds ``bootstrapped_indices.pt``
(int [folds, draws] of product rows; it ships with the benchmark code) are read from ``<root>`` or
``<root>/data`` when present. The query is the complex image conditioned on
the product's ``CATEGORY`` (or ``blip2_caption1`` with ``conditioning="text"``); the target is its
simple image; targets **and distractors** are encoded without a condition (``encode_gallery``).
Gallery = targets first, then distractors, so an exact tie between a target and a distractor
ranks the target first (our tie rule). Pad-to-square with white is the encoder's preprocessing.

The two official protocols are incompatible (§4.4, trap 10) and are separate tasks, never mixed:

- ``full``: the original repository's sweep (§4.3): every product is a query, against the **first**
  N distractors in file order (files sorted by path, then rows) for each N of ``full_levels``
  below the number available, plus all of them. Keys ``recall@K|N``.
- ``bootstrap``: the public benchmark (§4.2): folds of product rows drawn with replacement (the
  official ``bootstrapped_indices.pt``, else ``folds`` × ``fold_size`` drawn with ``seed``); per
  fold the unique products are the queries and targets and each hit is weighted by its
  multiplicity; per level N, N distractors are drawn with replacement. The official draws are
  unseeded; ours use ``seed`` so numbers are reproducible. Keys ``recall@K|N`` (mean over folds)
  and ``recall_std@K|N`` (unbiased std over folds).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from cir_eval.context import EvalContext
from cir_eval.errors import AnnotationError, BenchmarkDataError
from cir_eval.images import ImageRef
from cir_eval.metrics import ranking_relevance, recall_at_k
from cir_eval.parquet import bytes_image, image_bytes, read_columns
from cir_eval.registry import TaskResult, register_benchmark

# category index order of the official code (specs/condvit-lrvsf.md §1.2); index 0 is "Bags"
CATEGORIES = (
    "Bags", "Feet", "Hands", "Head", "Lower Body", "Neck", "Outwear", "Upper Body", "Waist", "Whole Body"
)
CONDITION_COLUMNS = {"category": "CATEGORY", "text": "blip2_caption1"}
# the original sweep (§4.3) stops at "all" (2,000,015 there); ours always adds the number available
FULL_LEVELS = (0, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000)
BOOTSTRAP_LEVELS = (10_000, 100_000, 500_000, 1_000_000)
NFOLDS = 20
INDICES_FILE = "bootstrapped_indices.pt"


@dataclass(frozen=True)
class Products:
    """The test products in file order: target (simple) and query (complex) images, and conditions."""

    path: Path
    simple: list[ImageRef]
    complex: list[ImageRef]
    conditions: list[str]


def find_data_dir(root: Path) -> Path:
    """Return the folder holding ``products.parquet``: ``root`` itself or ``root/data``."""
    for candidate in (root, root / "data"):
        if (candidate / "products.parquet").is_file():
            return candidate
    raise FileNotFoundError(f"no products.parquet in {root} or {root / 'data'} (LRVS-F benchmark layout)")


def read_products(data_dir: Path, conditioning: str) -> Products:
    """Return the products of ``products.parquet``, checking images and conditions row by row."""
    if conditioning not in CONDITION_COLUMNS:
        raise ValueError(f"conditioning must be one of {sorted(CONDITION_COLUMNS)}, got {conditioning!r}")
    path = data_dir / "products.parquet"
    condition_column = CONDITION_COLUMNS[conditioning]
    columns = read_columns(path, ["SIMPLE_IMG", "COMPLEX_IMG", condition_column])
    simple, complex_, conditions = [], [], []
    for row, (s, c, condition) in enumerate(zip(*columns.values(), strict=True)):
        simple.append(bytes_image(path, row, "SIMPLE_IMG", image_bytes(s, path, row, "SIMPLE_IMG")))
        complex_.append(bytes_image(path, row, "COMPLEX_IMG", image_bytes(c, path, row, "COMPLEX_IMG")))
        if not isinstance(condition, str) or not condition:
            raise AnnotationError(path, row, condition_column, f"expected a non-empty string, got {condition!r}")
        if conditioning == "category" and condition not in CATEGORIES:
            raise AnnotationError(path, row, condition_column, f"unknown category {condition!r}; known: {CATEGORIES}")
        conditions.append(condition)
    if not simple:
        raise BenchmarkDataError(f"{path}: no products")
    return Products(path, simple, complex_, conditions)


def distractor_files(data_dir: Path) -> list[Path]:
    """Return the distractor parquet files sorted by relative path (their order is the "first N" order)."""
    folder = data_dir / "distractors"
    if not folder.is_dir():
        raise FileNotFoundError(f"missing distractor folder {folder} (LRVS-F benchmark layout)")
    return sorted(folder.rglob("*.parquet"), key=lambda p: p.relative_to(folder).as_posix())


def embed_products(context: EvalContext, products: Products) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (queries, targets) [P, D]: conditioned complex images, unconditioned simple images."""
    pairs = list(zip(products.complex, products.conditions, strict=True))
    embedded = context.embedder.embed(products.simple, pairs)
    return embedded.queries[embedded.query_index], embedded.gallery[embedded.gallery_index]


def embed_distractors(context: EvalContext, files: list[Path], column: str, dim: int) -> torch.Tensor:
    """Return distractor embeddings [N, D] in file order, one file in memory at a time."""
    blocks = [torch.empty(0, dim)]
    for path in files:
        values = read_columns(path, [column])[column]
        refs = [bytes_image(path, row, column, image_bytes(v, path, row, column)) for row, v in enumerate(values)]
        if refs:
            embedded = context.embedder.embed(refs, [])
            blocks.append(embedded.gallery[embedded.gallery_index])
    return torch.cat(blocks)


def load_folds(path: Path, num_products: int) -> torch.Tensor:
    """Return the official bootstrap folds [F, S] (product rows), checked against the product count."""
    folds = torch.load(path, weights_only=True)
    if not isinstance(folds, torch.Tensor) or folds.ndim != 2 or folds.is_floating_point() or folds.numel() == 0:
        raise BenchmarkDataError(f"{path}: expected a non-empty 2-D integer tensor [folds, draws]")
    folds = folds.long()
    if int(folds.min()) < 0 or int(folds.max()) >= num_products:
        raise BenchmarkDataError(
            f"{path}: product rows must lie in [0, {num_products}), found {int(folds.min())}..{int(folds.max())}"
        )
    return folds


def generate_folds(num_products: int, folds: int, fold_size: int | None, generator: torch.Generator) -> torch.Tensor:
    """Return ``folds`` × ``fold_size`` product rows drawn with replacement (default size: half the products).

    Half, because the official file draws 1000 of the 2000 test products per fold (§4.2).
    """
    size = fold_size if fold_size is not None else max(1, num_products // 2)
    if size < 1:
        raise ValueError(f"fold_size must be >= 1, got {size}")
    return torch.randint(0, num_products, (folds, size), generator=generator)


def recalls(
    context: EvalContext,
    queries: torch.Tensor,
    targets: torch.Tensor,
    distractors: torch.Tensor,
    ks: list[int],
    weights: torch.Tensor | None = None,
) -> dict[int, float]:
    """Return R@K fractions of queries whose own target (same row) ranks in the top K of targets + distractors."""
    gallery = torch.cat([targets, distractors])
    _, ranked = context.search(queries, gallery, max(ks))
    relevance = ranking_relevance(ranked, torch.arange(queries.shape[0]))
    return {k: recall_at_k(relevance, k, weights) for k in ks}


def evaluate_full(
    context: EvalContext, queries: torch.Tensor, targets: torch.Tensor, distractors: torch.Tensor, ks: list[int]
) -> TaskResult:
    """The original sweep: all products against the first N distractors, N growing (§4.3)."""
    available = distractors.shape[0]
    asked = sorted(set(context.option("full_levels")))
    levels = [n for n in asked if n < available] + [available]
    metrics = {}
    for n in levels:
        for k, value in recalls(context, queries, targets, distractors[:n], ks).items():
            metrics[f"recall@{k}|{n}"] = 100.0 * value
    info = {
        "protocol": "full sweep, first N distractors in file order (original repository)",
        "num_queries": queries.shape[0],
        "distractors_available": available,
        "levels": levels,
        "levels_skipped": [n for n in asked if n > available],
    }
    return TaskResult(metrics, info)


def _bootstrap_folds(context: EvalContext, num_products: int, generator: torch.Generator) -> tuple[torch.Tensor, str]:
    choice = context.option("bootstrap_indices")
    if choice == "generate":
        path = None
    elif choice is None:
        found = [d / INDICES_FILE for d in (context.root, context.root / "data")]
        path = next((p for p in found if p.is_file()), None)
    else:
        path = Path(choice) if Path(choice).is_absolute() else context.root / choice
        if not path.is_file():
            raise FileNotFoundError(f"missing bootstrap indices file {path}")
    if path is not None:
        return load_folds(path, num_products), str(path)
    folds = generate_folds(num_products, context.option("folds"), context.option("fold_size"), generator)
    return folds, f"generated (seed {context.option('seed')})"


def evaluate_bootstrap(
    context: EvalContext, queries: torch.Tensor, targets: torch.Tensor, distractors: torch.Tensor, ks: list[int]
) -> TaskResult:
    """The public benchmark: bootstrap folds × distractors drawn with replacement, mean ± std (§4.2)."""
    generator = torch.Generator().manual_seed(int(context.option("seed")))
    folds, source = _bootstrap_folds(context, queries.shape[0], generator)
    if folds.shape[0] < 2:
        raise BenchmarkDataError(f"LRVS-F bootstrap needs at least 2 folds for a std, got {folds.shape[0]}")
    levels = list(context.option("bootstrap_levels"))
    available = distractors.shape[0]
    if available == 0 and any(levels):
        raise BenchmarkDataError("LRVS-F bootstrap: no distractors to draw from")
    if available < max(levels):
        warnings.warn(
            f"LRVS-F bootstrap: {available} distractors for levels up to {max(levels)}; they are drawn with "
            "replacement as the official benchmark does, but the benchmark is meant for at least 1M",
            stacklevel=2,
        )
    per_fold: dict[str, list[float]] = {}
    for n in levels:
        # official order: for each level, for each fold, a fresh draw of n distractors (§4.2)
        for fold in folds:
            rows, counts = torch.unique(fold, return_counts=True)
            drawn = torch.randint(0, max(available, 1), (n,), generator=generator)
            fold_values = recalls(context, queries[rows], targets[rows], distractors[drawn], ks, counts)
            for k, value in fold_values.items():
                per_fold.setdefault(f"recall@{k}|{n}", []).append(100.0 * value)
    metrics = {}
    for key, values in per_fold.items():
        tensor = torch.tensor(values, dtype=torch.float64)
        metrics[key] = tensor.mean().item()
        metrics[key.replace("recall@", "recall_std@", 1)] = tensor.std(correction=1).item()
    info = {
        "protocol": "bootstrap folds, distractors drawn with replacement (public benchmark)",
        "folds": source,
        "num_folds": folds.shape[0],
        "unique_products_per_fold": [int(torch.unique(f).numel()) for f in folds],
        "seed": context.option("seed"),
        "distractors_available": available,
        "levels": levels,
        "fold_recalls": per_fold,
    }
    return TaskResult(metrics, info)


_PROTOCOLS = {"full": evaluate_full, "bootstrap": evaluate_bootstrap}


def _ks(value: Any) -> list[int]:
    ks = sorted(set(value))
    if not ks or not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in ks):
        raise ValueError(f"ks must be positive integers, got {value!r}")
    return ks


@register_benchmark(
    "lrvsf",
    tasks=("full", "bootstrap"),
    metric_keys=("recall@1|N", "recall@5|N", "recall@10|N", "recall_std@1|N", "recall_std@5|N", "recall_std@10|N"),
    options={
        "conditioning": "category",
        "dist_img_col": "jpg",
        "ks": [1, 5, 10],
        "full_levels": list(FULL_LEVELS),
        "bootstrap_levels": list(BOOTSTRAP_LEVELS),
        "bootstrap_indices": None,
        "folds": NFOLDS,
        "fold_size": None,
        "seed": 0,
    },
)
def evaluate_lrvsf(context: EvalContext, tasks: tuple[str, ...]) -> dict[str, TaskResult]:
    """LRVS-F: R@K vs N distractors; 'full' sweep and 'bootstrap' folds (mean, std) kept apart."""
    ks = _ks(context.option("ks"))
    data_dir = find_data_dir(context.root)
    products = read_products(data_dir, context.option("conditioning"))
    queries, targets = embed_products(context, products)
    files = distractor_files(data_dir)
    distractors = embed_distractors(context, files, context.option("dist_img_col"), targets.shape[1])
    results = {}
    for task in tasks:
        result = _PROTOCOLS[task](context, queries, targets, distractors, ks)
        result.info.update(
            {"conditioning": context.option("conditioning"), "embedding_dim": targets.shape[1],
             "num_products": len(products.simple), "distractor_files": len(files)}
        )
        results[task] = result
    return results
