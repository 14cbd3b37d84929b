"""UnED (ICCV 2023): one universal 64-d descriptor, kNN over a merged index of all 8 domains.

Layout (``specs/uned.md`` §2): ``<root>/info_files/<domain>/<split>.json`` (a list of entries with
``path`` relative to ``<root>/data/images`` and ``class_id``, an int or a list of ints), read in
JSON order. Queries and index items are both encoded with ``encode_gallery`` (the universal
descriptor; there is no condition). Tasks are the domains plus ``average``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch

from cir_eval.annotations import load_json, require_field
from cir_eval.context import EvalContext
from cir_eval.errors import AnnotationError, BenchmarkDataError
from cir_eval.images import ImageRef, file_image
from cir_eval.metrics import average_precision_at_k, modified_precision_at_k, recall_at_k
from cir_eval.registry import TaskResult, register_benchmark

DOMAINS = ("cars", "sop", "inshop", "inat", "met", "gldv2", "food2k", "rp2k")
K = 5
# which info file is the index for each query split (specs/uned.md §1 and trap 3); default: the query split
INDEX_SPLIT = {
    "test": {"inshop": "index", "gldv2": "index", "met": "index"},
    "val": {"met": "small_index"},
}


@dataclass(frozen=True)
class DomainSplit:
    """One domain's entries of one info file: images and label sets."""

    images: list[ImageRef]
    labels: list[frozenset[int]]


def read_info(root: Path, domain: str, split: str) -> DomainSplit:
    """Return a domain's info file entries, validating ``path`` and ``class_id``."""
    path = root / "info_files" / domain / f"{split}.json"
    images, labels = [], []
    for index, entry in enumerate(load_json(path, list)):
        rel = require_field(entry, "path", str, path, index)
        class_id = require_field(entry, "class_id", (int, list), path, index)
        ids = class_id if isinstance(class_id, list) else [class_id]
        if not ids or not all(isinstance(c, int) and not isinstance(c, bool) for c in ids):
            raise AnnotationError(path, index, "class_id", f"expected an int or a list of ints, got {class_id!r}")
        images.append(file_image(root / "data" / "images", rel, f"{path} entry {index}"))
        labels.append(frozenset(ids))
    if not images:
        raise BenchmarkDataError(f"{path}: no entries")
    return DomainSplit(images, labels)


def uned_scores(
    ranked: torch.Tensor,
    item_domain: list[int],
    item_labels: list[frozenset[int]],
    query_domain: int,
    query_labels: list[frozenset[int]],
    num_positives: torch.Tensor,
) -> dict[str, float]:
    """Return fractions ``recall@1``, ``mmp@5``, ``map@5`` for one domain's self-excluded rankings.

    Relevant = same domain AND any shared label (labels are domain-local, trap 1).
    """
    relevance = torch.tensor(
        [
            [item_domain[i] == query_domain and bool(item_labels[i] & labels) for i in row]
            for row, labels in zip(ranked.tolist(), query_labels, strict=True)
        ],
        dtype=torch.bool,
    ).reshape(len(query_labels), -1)
    return {
        "recall@1": recall_at_k(relevance, 1),
        f"mmp@{K}": modified_precision_at_k(relevance, num_positives, K),
        f"map@{K}": average_precision_at_k(relevance, num_positives, K),
    }


@register_benchmark(
    "uned",
    tasks=(*DOMAINS, "average"),
    metric_keys=("recall@1", f"mmp@{K}", f"map@{K}"),
    options={"split": "test", "domains": list(DOMAINS), "descriptor_dim": 64},
)
def evaluate_uned(context: EvalContext, tasks: tuple[str, ...]) -> dict[str, TaskResult]:
    """UnED: merged index over all domains; per-domain and average mMP@5 and R@1 (query excluded by identity)."""
    split = context.option("split")
    domains = list(context.option("domains"))
    wanted = [t for t in tasks if t != "average"]
    if "average" in tasks:
        wanted = list(dict.fromkeys([*wanted, *domains]))
    missing = [d for d in wanted if d not in domains]
    if missing:
        raise ValueError(f"tasks {missing} are not among the indexed domains {domains}")
    queries: dict[str, DomainSplit] = {}
    offsets: dict[str, int] = {}
    index_images: list[ImageRef] = []
    item_domain: list[int] = []
    item_labels: list[frozenset[int]] = []
    self_index: dict[str, bool] = {}
    for d, domain in enumerate(domains):
        queries[domain] = read_info(context.root, domain, split)
        index_split = INDEX_SPLIT.get(split, {}).get(domain, split)
        self_index[domain] = index_split == split
        index = queries[domain] if self_index[domain] else read_info(context.root, domain, index_split)
        offsets[domain] = len(index_images)
        index_images += index.images
        item_domain += [d] * len(index.images)
        item_labels += index.labels
    query_images = [ref for domain in wanted for ref in queries[domain].images]
    embedded = context.embedder.embed([*index_images, *query_images], [])
    descriptors = embedded.gallery[embedded.gallery_index]
    expected_dim = context.option("descriptor_dim")
    if expected_dim and descriptors.shape[1] != expected_dim:
        raise BenchmarkDataError(
            f"UnED descriptors must be {expected_dim}-d, the encoder gives {descriptors.shape[1]}-d"
        )
    index_emb = descriptors[: len(index_images)]
    counts = Counter((dom, label) for dom, labels in zip(item_domain, item_labels, strict=True) for label in labels)
    results: dict[str, TaskResult] = {}
    q_start = len(index_images)
    for domain in wanted:
        d = domains.index(domain)
        split_data = queries[domain]
        n = len(split_data.images)
        q_emb = descriptors[q_start : q_start + n]
        q_start += n
        is_self = self_index[domain]
        # the query is removed from its own results by identity (its index position), never by
        # dropping the first hit (specs/uned.md trap 2)
        exclude = torch.arange(n) + offsets[domain] if is_self else torch.full((n,), -1, dtype=torch.long)
        _, ranked = context.search(q_emb, index_emb, K, exclude=exclude)
        # n_q: positives within the query's domain, per-label counts summed, minus self (§3.3)
        num_pos = torch.tensor(
            [sum(counts[(d, label)] for label in labels) - int(is_self) for labels in split_data.labels],
            dtype=torch.long,
        )
        fractions = uned_scores(ranked, item_domain, item_labels, d, split_data.labels, num_pos)
        info = {
            "split": split,
            "num_queries": n,
            "gallery_size": len(index_images),
            "queries_without_positive": int((num_pos == 0).sum()),
            "fractions": fractions,
        }
        results[domain] = TaskResult({k: 100.0 * v for k, v in fractions.items()}, info)
    if "average" in tasks:
        # unweighted mean over domains of per-domain values rounded to 3 decimals (§3.3, trap 9)
        average = {
            key: 100.0 * sum(round(results[dm].info["fractions"][key], 3) for dm in domains) / len(domains)
            for key in ("recall@1", f"mmp@{K}", f"map@{K}")
        }
        results["average"] = TaskResult(average, {"split": split, "tasks": domains})
    return {t: results[t] for t in tasks}
