"""FashionIQ export (``specs/cir-benchmarks.md`` §2): three categories of single-object "product" images.

Layout under ``<out>/fashioniq``: ``captions/cap.<cat>.<split>.json`` (lists of ``candidate``, ``target``,
``captions`` with exactly two strings; no ``target`` in test), ``image_splits/split.<cat>.<split>.json`` (ASIN
lists) and ``images/<ASIN>.jpg``. A category is a family of shapes; within a split, every product look
(shape, colour, texture) appears once, so the target is the only gallery image that matches the captions.
Side file: ``products.json`` (ASIN -> category and look).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cir_data.synth.exports.common import ExportSettings, ImageJob, write_images, write_json, write_manifest
from cir_data.synth.scene import ObjectSpec, product_scene, scene_rng
from cir_data.synth.vocab import COLOURS, TEXTURES

CATEGORIES: dict[str, tuple[str, ...]] = {
    "dress": ("triangle", "diamond", "heart"),
    "shirt": ("square", "cross", "hexagon"),
    "toptee": ("circle", "star", "pentagon"),
}
SPLITS = ("train", "val", "test")
TEXTURE_PHRASES = {"striped": "has stripes", "dotted": "has dots", "plain": "is plain with no pattern"}


def _looks(category: str) -> list[ObjectSpec]:
    return [ObjectSpec(s, c, "large", t) for s in CATEGORIES[category] for c in COLOURS for t in TEXTURES]


def _changes(ref: ObjectSpec, target: ObjectSpec) -> int:
    return sum(getattr(ref, axis) != getattr(target, axis) for axis in ("shape", "colour", "texture"))


def _phrases(ref: ObjectSpec, target: ObjectSpec, rng: np.random.Generator) -> list[str]:
    """One phrase per attribute that changes from ``ref`` to ``target``, each in a random wording."""
    phrases = []
    if ref.colour != target.colour:
        options = [f"is {target.colour}", f"is {target.colour} instead of {ref.colour}", f"{target.colour} colour"]
        phrases.append(options[int(rng.integers(len(options)))])
    if ref.texture != target.texture:
        phrases.append(TEXTURE_PHRASES[target.texture])
    if ref.shape != target.shape:
        options = [f"is {target.shape} shaped", f"has a {target.shape} cut"]
        phrases.append(options[int(rng.integers(len(options)))])
    return phrases


def _captions(ref: ObjectSpec, target: ObjectSpec, rng: np.random.Generator) -> list[str]:
    """Two relative captions that together state every change (as annotators split the work)."""
    phrases = _phrases(ref, target, rng)
    if len(phrases) == 1:
        return [phrases[0], _phrases(ref, target, rng)[0] + (" please" if rng.random() < 0.3 else "")]
    if len(phrases) == 2:
        return phrases if rng.random() < 0.5 else [" and ".join(phrases), phrases[1]]
    return [" and ".join(phrases[:2]), phrases[2]]


def export_fashioniq(settings: ExportSettings) -> Path:
    """Write ``<out>/fashioniq``: per category and split, captions, image splits and product images."""
    root = settings.out_dir / "fashioniq"
    jobs: list[ImageJob] = []
    products: dict[str, Any] = {}
    files: list[Path] = []
    counts: dict[str, int] = {}
    for c_index, category in enumerate(CATEGORIES):
        for s_index, split in enumerate(SPLITS):
            rng = scene_rng(settings.seed, c_index * 10 + s_index, "fashioniq")
            looks = _looks(category)
            gallery_size = min(len(looks), max(8, settings.queries))
            chosen = [looks[int(k)] for k in rng.permutation(len(looks))[:gallery_size]]
            asins = [f"B{c_index}{s_index}{settings.seed % 100:02d}{k:05X}" for k in range(gallery_size)]
            for asin, look in zip(asins, chosen, strict=True):
                products[asin] = {
                    "category": category,
                    "shape": look.shape,
                    "colour": look.colour,
                    "texture": look.texture,
                }
                jobs.append(ImageJob(f"images/{asin}.jpg", product_scene(rng, look), settings.size, style="product"))
            triplets = []
            for _ in range(settings.queries):
                ref_k = int(rng.integers(gallery_size))
                close = sorted(
                    (k for k in range(gallery_size) if k != ref_k), key=lambda k: _changes(chosen[ref_k], chosen[k])
                )
                target_k = close[int(rng.integers(min(len(close), 12)))]  # among the most similar products
                entry: dict[str, Any] = {
                    "candidate": asins[ref_k],
                    "target": asins[target_k],
                    "captions": _captions(chosen[ref_k], chosen[target_k], rng),
                }
                if split == "test":  # the public test files carry no target
                    del entry["target"]
                triplets.append(entry)
            files.append(write_json(root / "captions" / f"cap.{category}.{split}.json", triplets))
            files.append(write_json(root / "image_splits" / f"split.{category}.{split}.json", asins))
            counts[f"{category}_{split}_queries"] = len(triplets)
            counts[f"{category}_{split}_images"] = gallery_size
    files.append(write_json(root / "products.json", products))
    write_images(jobs, root, settings, "fashioniq images")
    write_manifest(root, "fashioniq", settings, counts, files)
    return root
