"""UnED style export (``specs/uned.md`` §1–2): eight domains, domain-local class ids, query and index info files.

Layout under ``<out>/uned``: ``info_files/<domain>/<split>.json`` (JSON lists of ``{"path", "class_id"}``, paths
relative to ``data/images``) and the images at ``data/images/<domain>/<split>/<class_id>/<n>.jpg``. A domain is a
drawing style (a backdrop or a white product shot); a class is an object look (shape, colour, texture), rendered
several times with jitter. Splits follow the spec's table: cars, sop and inshop have class-disjoint splits; inshop
and gldv2 add a separate ``index``; met's test ``index`` is its whole train set and its val index is
``small_index`` (= ``small_train``); elsewhere the test query set is also the index. sop and rp2k share a style on
purpose: a match counts only when label and domain both agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cir_data.synth.exports.common import ExportSettings, ImageJob, write_images, write_json, write_manifest
from cir_data.synth.scene import ObjectSpec, compose_scene, product_scene, scene_rng
from cir_data.synth.vocab import COLOURS, SHAPES, TEXTURES, values_of

# domain -> backdrop (None: white product shot); order as UnED's DATASET_INFO ids 0..7
DOMAINS: dict[str, str | None] = {
    "cars": "street",
    "sop": None,
    "inshop": "snow",
    "inat": "forest",
    "met": "desert",
    "gldv2": "beach",
    "food2k": "kitchen",
    "rp2k": None,
}
CLASS_DISJOINT = {"cars", "sop", "inshop"}
SEPARATE_INDEX = {"inshop", "gldv2"}
IMAGES_PER_CLASS = 4


def _render_class(
    rng: np.random.Generator, domain: str, look: ObjectSpec, count: int, size: int, folder: str
) -> list[ImageJob]:
    jobs = []
    for n in range(count):
        spec = look._replace(size=str(rng.choice(values_of("size"))))
        context = DOMAINS[domain]
        if context is None:
            scene, style = product_scene(rng, spec), "product"
        else:
            scene, style = compose_scene(rng, context, [spec]), "scene"
        jobs.append(ImageJob(f"data/images/{folder}/{n}.jpg", scene, size, style=style))
    return jobs


class _SplitMaker:
    """Renders the images of one domain's splits, queueing jobs and returning info-file entries."""

    def __init__(
        self, rng: np.random.Generator, domain: str, looks: list[ObjectSpec], size: int, jobs: list[ImageJob]
    ) -> None:
        self.rng, self.domain, self.looks, self.size, self.jobs = rng, domain, looks, size, jobs

    def render(self, split: str, class_ids: list[int], per_class: int) -> list[dict[str, Any]]:
        """Entries ``{"path", "class_id"}`` for ``per_class`` new images of each class in ``class_ids``."""
        entries = []
        for c in class_ids:
            folder = f"{self.domain}/{split}/{c}"
            class_jobs = _render_class(self.rng, self.domain, self.looks[c], per_class, self.size, folder)
            self.jobs.extend(class_jobs)
            entries += [{"path": job.path.removeprefix("data/images/"), "class_id": c} for job in class_jobs]
        return entries


def export_uned(settings: ExportSettings) -> Path:
    """Write ``<out>/uned``: per domain, train/val/test (and index variants) info files and their images."""
    root = settings.out_dir / "uned"
    looks = [ObjectSpec(s, c, "large", t) for s in SHAPES for c in COLOURS for t in TEXTURES]
    n_train, n_val, n_test = (
        max(4, settings.queries // 4),
        max(3, settings.queries // 10),
        max(4, settings.queries // 5),
    )
    jobs: list[ImageJob] = []
    files: list[Path] = []
    counts: dict[str, int] = {}
    classes: dict[str, dict[str, list[str]]] = {}
    for d_index, domain in enumerate(DOMAINS):
        rng = scene_rng(settings.seed, d_index, "uned")
        order = [looks[int(k)] for k in rng.permutation(len(looks))]
        disjoint = domain in CLASS_DISJOINT
        train_ids = list(range(n_train))
        val_ids = list(range(n_train, n_train + n_val)) if disjoint else train_ids[:n_val]
        test_start = n_train + n_val
        test_ids = list(range(test_start, test_start + n_test)) if disjoint else train_ids[:n_test]
        classes[domain] = {
            str(c): [order[c].shape, order[c].colour, order[c].texture]
            for c in sorted({*train_ids, *val_ids, *test_ids})
        }
        splits: dict[str, list[dict[str, Any]]] = {}
        split_maker = _SplitMaker(rng, domain, order, settings.size, jobs)
        render = split_maker.render
        splits["train"] = render("train", train_ids, IMAGES_PER_CLASS)
        splits["val"] = render("val", val_ids, 3)
        if domain == "met":
            small = set(train_ids[: max(n_val, n_train // 2)])  # holds every val class
            splits["small_train"] = splits["small_index"] = [e for e in splits["train"] if e["class_id"] in small]
            splits["test"] = render("test", test_ids, 1)
            splits["index"] = splits["train"]  # met's test index is its whole train set (specs/uned.md §1)
        elif domain in SEPARATE_INDEX:
            splits["test"] = render("test", test_ids, 1)
            splits["index"] = render("index", test_ids, IMAGES_PER_CLASS - 1)
        else:
            splits["test"] = render("test", test_ids, IMAGES_PER_CLASS)
        for split, entries in splits.items():
            files.append(write_json(root / "info_files" / domain / f"{split}.json", entries))
            counts[f"{domain}_{split}"] = len(entries)
    files.append(write_json(root / "classes.json", classes))
    write_images(jobs, root, settings, "uned images")
    write_manifest(root, "uned", settings, counts, files)
    return root
