"""Training triplets shaped like the four GeneCIS tasks, drawn from the synthetic world on a training seed.

The synthetic world knows its ground truth, so the legitimate "mining" here is to generate GeneCIS-style
templates with cir-data's own generators on a **different seed** than the evaluation export: every template
gives (reference, condition, target) and its hard distractors (same look, condition not met). Images are read
exactly as cir-eval reads the benchmark (attribute tasks: the VAW crop with its black pad; object tasks: whole
scenes), re-encoded as JPEG into webdataset shards, and the triplets go to a parquet table in cir-data's
layout (one row per distractor, ``kind`` = the task), which the ``combiner`` recipe trains on.

Train/eval split: the training seed must differ from the evaluation seed, and :func:`assert_disjoint` checks
that no training template (its condition and the scene graphs of its reference and target) and no training
image (its scene graph) also occurs in the evaluation export.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from cir_data.mining import write_triplets
from cir_data.shards import ShardWriter
from cir_data.synth import ExportSettings, run_export
from cir_data.synth.oracles import load_genecis
from cir_eval.benchmarks.genecis import TASKS, read_templates
from cir_trainer.cache import stage_folder

__all__ = ["TaskTripletSpec", "assert_disjoint", "ensure_task_triplets"]

FOLDERS = {"coco": "val2017", "vg": "VG_100K_all"}


@dataclass(frozen=True)
class TaskTripletSpec:
    """How many GeneCIS-style training templates per task, on which seed, with how many distractor rows each."""

    templates: int = 3000
    seed: int = 1
    distractors: int = 2  # rows per template, each with one of its first gallery entries (only these are drawn)


def _fingerprints(root: Path) -> tuple[set[str], set[str]]:
    """Template fingerprints (condition + reference and target graphs) and image graph fingerprints."""
    tasks, graphs = load_genecis(root)
    folder = {"focus_attribute": "VG_100K_all", "change_attribute": "VG_100K_all"}

    def graph(task: str, entry: dict[str, Any]) -> str:
        if task in folder:
            return json.dumps([graphs["VG_100K_all"][str(entry["image_id"])], entry["instance_bbox"]], sort_keys=True)
        return json.dumps(graphs["val2017"][str(entry["val_image_id"])], sort_keys=True)

    templates = {
        json.dumps([task, t["condition"], graph(task, t["reference"]), graph(task, t["target"])])
        for task, items in tasks.items()
        for t in items
    }
    images = {json.dumps(g, sort_keys=True) for by_id in graphs.values() for g in by_id.values()}
    return templates, images


def assert_disjoint(train_root: Path, eval_root: Path) -> None:
    """Raise if a training template or image of ``train_root`` also occurs in the evaluation export."""
    train_templates, train_images = _fingerprints(train_root)
    eval_templates, eval_images = _fingerprints(eval_root)
    shared_templates = len(train_templates & eval_templates)
    shared_images = len(train_images & eval_images)
    if shared_templates or shared_images:
        raise RuntimeError(
            f"train/eval leak: {shared_templates} template(s) and {shared_images} image(s) of {train_root} "
            f"also occur in the evaluation export {eval_root}"
        )


def _jpeg(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def _write(export: Path, out: Path, spec: TaskTripletSpec, progress: bool) -> None:
    folders = {name: export / sub for name, sub in FOLDERS.items()}
    columns: dict[str, list[Any]] = {name: [] for name in (
        "seed", "reference_key", "target_key", "distractor_key", "condition", "kind",
        "reference_row", "target_row", "distractor_row")}
    keys: dict[str, str] = {}
    with ShardWriter(out / "shards", max_count=5000) as writer:

        def key_of(ref: Any) -> str:
            if ref.key not in keys:
                keys[ref.key] = writer.write({"jpg": _jpeg(ref.load())}, key=f"{len(keys):07d}")
            return keys[ref.key]

        for task in TASKS:
            templates = read_templates(export / f"{task}.json", task, folders)
            rows = zip(templates.queries, templates.candidates, strict=True)
            for index, ((reference, condition), (target, *gallery)) in enumerate(
                tqdm(rows, total=len(templates.queries), desc=f"{task} triplets", disable=not progress)
            ):
                for distractor in gallery[: spec.distractors]:
                    for name, value in (("seed", index), ("reference_key", key_of(reference)),
                                        ("target_key", key_of(target)), ("distractor_key", key_of(distractor)),
                                        ("condition", condition), ("kind", task), ("reference_row", -1),
                                        ("target_row", -1), ("distractor_row", -1)):
                        columns[name].append(value)
    write_triplets(columns, out / "triplets.parquet")


def ensure_task_triplets(
    cache: Path, eval_root: Path, eval_seed: int, spec: TaskTripletSpec, size: int, processes: int,
    progress: bool = True,
) -> tuple[Path, Path]:
    """The cached (shard folder, triplet table) of GeneCIS-style training templates; checks the split."""
    if spec.seed == eval_seed:
        raise ValueError(f"tasks.seed={spec.seed}: the training templates need a seed other than the world's")
    settings = {**asdict(spec), "eval_seed": eval_seed, "size": size, "eval": eval_root.parent.name}

    def build(out: Path) -> None:
        export = ExportSettings(out, seed=spec.seed, size=size, processes=processes, progress=progress,
                                queries=spec.templates, gallery=spec.distractors)
        root = run_export("genecis", export)
        assert_disjoint(root, eval_root)
        _write(root, out, spec, progress)

    folder = stage_folder(cache / "tasks", "tasks", settings, build)
    return folder / "shards", folder / "triplets.parquet"
