"""CIRR export (``specs/cir-benchmarks.md`` §1), laid out as SEARLE/LinCIR expect with ``<out>/cirr`` as the root.

Annotations as on the ``cirr_dataset`` branch, checked out at ``<root>/cirr/``: ``cirr/captions/cap.rc2.<split>.json``
and ``cirr/image_splits/split.rc2.<split>.json`` (name -> path relative to the root); PNG images at ``<root>/dev/``,
``<root>/test1/`` and ``<root>/train/<n>/``.

Each image set holds 6 members: a base scene and five distinct single edits of it. A query pairs the base with one
edit and describes that edit; the other members are the hard negatives that Recall_subset ranks. ``test1`` omits
``target_hard``, ``target_soft`` and ``img_set.target_rank`` as the official file does. Side files the official
layout lacks: ``scene_graphs.json`` (image name -> graph) and ``edits.rc2.<split>.json`` (pairid -> edit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cir_data.synth.exports.common import ExportSettings, ImageJob, write_images, write_json, write_manifest
from cir_data.synth.exports.edits import (
    SceneSpec,
    apply_edit,
    canonical,
    describe_edit,
    distinct_shapes_scene,
    random_edit,
)
from cir_data.synth.scene import compose_scene, scene_rng

SPLITS = {"train": "train", "val": "dev", "test1": "test1"}  # split -> image name prefix and folder
SET_SIZE = 6
QUERIES_PER_SET = 2


def _image_set(settings: ExportSettings, split: str, set_id: int) -> tuple[list[SceneSpec], list[dict[str, Any]], Any]:
    rng = scene_rng(settings.seed, set_id, f"cirr/{split}")
    config = settings.config
    base = distinct_shapes_scene(rng, config.min_objects, config.max_objects)
    members, edits, seen = [base], [], {canonical(base)}
    while len(members) < SET_SIZE:
        edit = random_edit(rng, base, config.max_objects)
        edited = apply_edit(base, edit)
        if canonical(edited) not in seen:
            seen.add(canonical(edited))
            members.append(edited)
            edits.append(edit)
    return members, edits, rng


def export_cirr(settings: ExportSettings) -> Path:
    """Write the CIRR root ``<out>/cirr``: train, val and test1 splits, ``settings.queries`` queries in val, test1."""
    root = settings.out_dir / "cirr"
    annotations = root / "cirr"
    jobs: list[ImageJob] = []
    graphs: dict[str, Any] = {}
    files: list[Path] = []
    counts: dict[str, int] = {}
    for split, prefix in SPLITS.items():
        sets = -(-settings.queries // QUERIES_PER_SET) * (2 if split == "train" else 1)
        split_paths: dict[str, str] = {}
        captions: list[dict[str, Any]] = []
        edit_records: dict[str, Any] = {}
        for set_id in range(sets):
            members, edits, rng = _image_set(settings, split, set_id)
            # names are shuffled so that a name never tells the base from its edits
            names = [f"{prefix}-{set_id}-{j // 2}-img{j % 2}" for j in (int(k) for k in rng.permutation(SET_SIZE))]
            for name, member in zip(names, members, strict=True):
                folder = f"train/{set_id % 100}" if split == "train" else prefix
                split_paths[name] = f"./{folder}/{name}.png"
                scene = compose_scene(rng, member[0], member[1], p_on=settings.config.p_on)
                graphs[name] = scene.graph(settings.size)
                jobs.append(ImageJob(f"{folder}/{name}.png", scene, settings.size, fmt="png"))
            order = [int(k) for k in rng.permutation(SET_SIZE)]
            shown = [names[k] for k in order]
            for k in range(1, 1 + QUERIES_PER_SET):
                pairid = len(captions)
                entry: dict[str, Any] = {
                    "pairid": pairid,
                    "reference": names[0],
                    "target_hard": names[k],
                    "target_soft": {names[k]: 1.0},
                    "caption": describe_edit(rng, members[0], edits[k - 1]),
                    "img_set": {
                        "id": set_id,
                        "members": shown,
                        "reference_rank": shown.index(names[0]),
                        "target_rank": shown.index(names[k]),
                    },
                }
                if split == "test1":  # the public test file has no ground truth
                    del entry["target_hard"], entry["target_soft"], entry["img_set"]["target_rank"]
                captions.append(entry)
                edit_records[str(pairid)] = edits[k - 1]
        files.append(write_json(annotations / "captions" / f"cap.rc2.{split}.json", captions))
        files.append(write_json(annotations / "image_splits" / f"split.rc2.{split}.json", split_paths))
        files.append(write_json(root / f"edits.rc2.{split}.json", edit_records))
        counts[f"{split}_queries"] = len(captions)
        counts[f"{split}_images"] = len(split_paths)
    files.append(write_json(root / "scene_graphs.json", graphs))
    write_images(jobs, root, settings, "cirr images")
    write_manifest(root, "cirr", settings, counts, files)
    return root
