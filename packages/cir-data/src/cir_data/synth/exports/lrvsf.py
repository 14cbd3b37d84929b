"""LRVS-F style export (``specs/condvit-lrvsf.md`` §3.3, §4.2): complex scenes -> single-object "product" images.

Layout under ``<out>/lrvsf/data``: ``products.parquet`` (one row per test product: ``PRODUCT_ID``,
``SIMPLE_IMG`` and ``COMPLEX_IMG`` JPEG bytes, ``CATEGORY``, ``blip2_caption1``) and ``distractors/dist_<k>.parquet``
(column ``jpg``, plus ``key``). The query is the complex scene conditioned on the target's ``CATEGORY``; the target is
the product shot of that object. Distractors are product shots of looks no product has, written in files whose
running totals are the distractor levels listed in the manifest (each level 4x the previous).
A category is a shape; side file ``products.json`` records each product's complex-scene graph and look.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cir_data.synth.captions import article
from cir_data.synth.exports.common import ExportSettings, ImageJob, encode_image, write_json, write_manifest
from cir_data.synth.scene import ObjectSpec, compose_scene, product_scene, random_spec, scene_rng
from cir_data.synth.vocab import COLOURS, SHAPES, TEXTURES

# LRVS-F's 10 categories in index order (specs/condvit-lrvsf.md §1.2), each drawn as one shape
CATEGORY_SHAPES: dict[str, str] = {
    "Bags": "circle",
    "Feet": "crescent",
    "Hands": "star",
    "Head": "triangle",
    "Lower Body": "square",
    "Neck": "heart",
    "Outwear": "hexagon",
    "Upper Body": "pentagon",
    "Waist": "cross",
    "Whole Body": "diamond",
}
SHAPE_CATEGORIES = {shape: category for category, shape in CATEGORY_SHAPES.items()}
DISTRACTOR_LEVELS = 3
LOOKS = len(SHAPES) * len(COLOURS) * len(TEXTURES)


def _look(spec: ObjectSpec) -> tuple[str, str, str]:
    return spec.shape, spec.colour, spec.texture


def _product_caption(spec: ObjectSpec) -> str:
    """A BLIP-2-like caption of a product shot (no size word: product shots are scaled to fill the frame)."""
    texture = "" if spec.texture == "plain" else f" {spec.texture}"
    return f"{article(spec.colour + texture + ' ' + spec.shape)} on a white background"


def _write_parquet(path: Path, columns: dict[str, list[Any]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path, compression="none")
    return path


def export_lrvsf(settings: ExportSettings) -> Path:
    """Write ``<out>/lrvsf``: ``settings.queries`` products (at most half of all looks) and growing distractor sets."""
    root = settings.out_dir / "lrvsf"
    count = min(settings.queries, LOOKS // 2)
    rng = scene_rng(settings.seed, 0, "lrvsf/products")
    config = settings.config
    used: set[tuple[str, str, str]] = set()
    rows: dict[str, list[Any]] = {
        k: [] for k in ("PRODUCT_ID", "SIMPLE_IMG", "COMPLEX_IMG", "CATEGORY", "blip2_caption1")
    }
    side: dict[str, Any] = {}
    for k in range(count):
        target = random_spec(rng)
        while _look(target) in used:
            target = random_spec(rng)
        used.add(_look(target))
        others_count = int(rng.integers(max(1, config.min_objects - 1), max(1, config.max_objects - 1) + 1))
        shapes = rng.choice([s for s in SHAPES if s != target.shape], size=others_count, replace=False)
        specs = [target, *(random_spec(rng, shape=str(s)) for s in shapes)]
        order = [int(i) for i in rng.permutation(len(specs))]
        complex_scene = compose_scene(
            rng, str(rng.choice(["beach", "street", "forest", "kitchen"])), [specs[i] for i in order]
        )
        simple_scene = product_scene(rng, target)
        product_id = f"P{k:06d}"
        rows["PRODUCT_ID"].append(product_id)
        rows["SIMPLE_IMG"].append(encode_image(ImageJob("", simple_scene, settings.size, style="product")))
        rows["COMPLEX_IMG"].append(encode_image(ImageJob("", complex_scene, settings.size)))
        rows["CATEGORY"].append(SHAPE_CATEGORIES[target.shape])
        rows["blip2_caption1"].append(_product_caption(target))
        side[product_id] = {"look": list(_look(target)), "complex_graph": complex_scene.graph(settings.size)}
    files = [_write_parquet(root / "data" / "products.parquet", rows), write_json(root / "products.json", side)]
    free = [ObjectSpec(s, c, "large", t) for s in SHAPES for c in COLOURS for t in TEXTURES if (s, c, t) not in used]
    levels = [max(1, count) * 4**k for k in range(DISTRACTOR_LEVELS)]
    dist_rng = scene_rng(settings.seed, 0, "lrvsf/distractors")
    written = 0
    distractor_looks: dict[str, list[str]] = {}
    for level_index, level in enumerate(levels):
        keys, images = [], []
        for d in range(written, level):
            spec = free[int(dist_rng.integers(len(free)))]
            keys.append(f"D{d:07d}")
            images.append(encode_image(ImageJob("", product_scene(dist_rng, spec), settings.size, style="product")))
            distractor_looks[keys[-1]] = list(_look(spec))
        files.append(
            _write_parquet(
                root / "data" / "distractors" / f"dist_{level_index:03d}.parquet", {"key": keys, "jpg": images}
            )
        )
        written = level
    files.append(write_json(root / "distractors.json", distractor_looks))
    write_manifest(
        root,
        "lrvsf",
        settings,
        {"products": count, "distractors": written} | {f"level_{i}": n for i, n in enumerate(levels)},
        files,
    )
    return root
