"""Zero-shot image classification as MERU reports it (``specs/hyperbolic.md`` §7.1, §12).

Layout (ImageFolder style; the task is the split folder)::

    <root>/<split>/<class folder>/<image>.jpg     images (jpg, jpeg, png, bmp, webp, gif, tif, tiff)
    <root>/classes.txt                            optional: label order, one class per line,
                                                  "<folder>" or "<folder><TAB><class name>"
    <root>/prompts.json                           optional: a list of templates holding "{}", or
                                                  an object {class name: [prompt, ...]}

Without ``classes.txt`` the classes are the split's folders in sorted order, named by the folder
with ``_`` read as a space. Each class embedding is the ensemble of its prompts' ``encode_text``
outputs (:func:`cir_eval.text.ensemble_prompts`); an image is assigned the best-scoring class under
the encoder's similarity (ties: lower class index). Both accuracies are reported: micro top-1 and
the mean per-class accuracy that MERU calls "accuracy" (torchmetrics' macro default).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from cir_eval.annotations import load_json
from cir_eval.context import EvalContext
from cir_eval.errors import AnnotationError, BenchmarkDataError
from cir_eval.images import ImageRef, file_image, resolve_inside
from cir_eval.metrics import mean_per_class_accuracy, top1_accuracy
from cir_eval.protocol import prepare_embeddings
from cir_eval.registry import TaskResult, register_benchmark
from cir_eval.text import ensemble_prompts, require_text_encoder, run_encode_text

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"})
DEFAULT_TEMPLATES = ("a photo of a {}.",)


@dataclass(frozen=True)
class LabelledImages:
    """A split: class names (label order), their folders, and the images with their labels."""

    names: list[str]
    folders: list[str]
    images: list[ImageRef]
    labels: list[int]


def read_classes(root: Path, split_dir: Path, classes_file: str) -> tuple[list[str], list[str]]:
    """Return (folders, names) in label order, from ``classes_file`` when present, else the sorted folders."""
    path = root / classes_file
    found = sorted(p.name for p in split_dir.iterdir() if p.is_dir())
    if not path.is_file():
        return found, [folder.replace("_", " ") for folder in found]
    folders: list[str] = []
    names: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        folder, _, name = line.partition("\t")
        folder, name = folder.strip(), (name.strip() or folder.strip())
        if folder in folders:
            raise AnnotationError(path, f"line {number}", "folder", f"class folder {folder!r} is listed twice")
        folders.append(folder)
        names.append(name)
    unknown = sorted(set(found) - set(folders))
    if unknown:
        raise BenchmarkDataError(f"{split_dir}: class folders {unknown} are not listed in {path}")
    if not folders:
        raise BenchmarkDataError(f"{path}: no classes")
    return folders, names


def read_split(root: Path, split: str, classes_file: str) -> LabelledImages:
    """Return a split's images (sorted within each class folder) and labels."""
    split_dir = root / split
    if not split_dir.is_dir():
        raise FileNotFoundError(f"missing split folder {split_dir}")
    folders, names = read_classes(root, split_dir, classes_file)
    images: list[ImageRef] = []
    labels: list[int] = []
    for label, folder in enumerate(folders):
        class_dir = resolve_inside(split_dir, folder, f"{root / classes_file} class {folder!r}")
        if not class_dir.is_dir():
            continue
        for file in sorted(p.name for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            images.append(file_image(split_dir, f"{folder}/{file}", f"{split_dir} class {folder!r}"))
            labels.append(label)
    if not images:
        raise BenchmarkDataError(f"{split_dir}: no images in any class folder")
    return LabelledImages(names, folders, images, labels)


def _templates(templates: list[Any], origin: str, path: Path | None) -> list[str]:
    for index, template in enumerate(templates):
        if not isinstance(template, str) or "{}" not in template:
            problem = f"expected a template string holding '{{}}', got {template!r}"
            if path is not None:
                raise AnnotationError(path, index, "template", problem)
            raise ValueError(f"{origin}, template {index}: {problem}")
    if not templates:
        raise ValueError(f"{origin}: no prompt templates")
    return templates


def read_prompts(root: Path, prompts: Any, names: list[str]) -> tuple[list[list[str]], str]:
    """Return each class's prompts and where they came from.

    ``prompts``: ``None`` (``<root>/prompts.json`` if present, else ``"a photo of a {}."``), a
    path to such a JSON file (relative to ``root`` or absolute), a list of templates, or a dict
    ``{class name: [prompt, ...]}``.
    """
    path: Path | None = None
    source = "argument"
    if prompts is None:
        default = root / "prompts.json"
        prompts, source = (str(default), str(default)) if default.is_file() else (list(DEFAULT_TEMPLATES), "default")
    if isinstance(prompts, (str, Path)):
        path = Path(prompts) if Path(prompts).is_absolute() else root / prompts
        prompts, source = load_json(path, (list, dict)), str(path)
    if isinstance(prompts, (list, tuple)):
        templates = _templates(list(prompts), f"prompts ({source})", path)
        return [[template.replace("{}", name) for template in templates] for name in names], source
    if isinstance(prompts, dict):
        missing = [name for name in names if name not in prompts]
        if missing:
            raise BenchmarkDataError(f"prompts ({source}): no prompts for classes {missing[:5]}")
        for name in names:
            entry = prompts[name]
            if not isinstance(entry, list) or not entry or not all(isinstance(t, str) for t in entry):
                if path is not None:
                    raise AnnotationError(path, name, name, f"expected a non-empty list of prompts, got {entry!r}")
                raise ValueError(f"prompts for class {name!r}: expected a non-empty list of strings, got {entry!r}")
        return [list(prompts[name]) for name in names], source
    raise TypeError(f"prompts must be None, a JSON path, a list of templates or a dict, got {type(prompts).__name__}")


def class_embeddings(context: EvalContext, prompts: list[list[str]]) -> torch.Tensor:
    """Return prepared class embeddings [C, D]: each class's prompts encoded, then ensembled."""
    flat = [prompt for class_prompts in prompts for prompt in class_prompts]
    features = run_encode_text(
        context.encoder, flat, batch_size=context.options.batch_size, progress=context.options.progress
    )
    per_class = torch.split(features, [len(p) for p in prompts])
    classes = torch.stack([ensemble_prompts(context.encoder, f, context.similarity) for f in per_class])
    return prepare_embeddings(classes, context.similarity)


@register_benchmark(
    "zeroshot_classification",
    tasks=("val", "test"),
    default_tasks=("val",),
    metric_keys=("top1_accuracy", "mean_per_class_accuracy"),
    options={"classes_file": "classes.txt", "prompts": None},
)
def evaluate_zeroshot_classification(context: EvalContext, tasks: tuple[str, ...]) -> dict[str, TaskResult]:
    """Zero-shot classification (ImageFolder layout): prompt-ensembled classes, top-1 and mean per-class accuracy."""
    require_text_encoder(context.encoder, "zeroshot_classification")
    results = {}
    for split in tasks:
        data = read_split(context.root, split, context.option("classes_file"))
        prompts, source = read_prompts(context.root, context.option("prompts"), data.names)
        classes = class_embeddings(context, prompts)
        embedded = context.embedder.embed(data.images, [])
        images = embedded.gallery[embedded.gallery_index]
        _, ranked = context.search(images, classes, 1)
        predictions, labels = ranked[:, 0], torch.tensor(data.labels, dtype=torch.long)
        metrics = {
            "top1_accuracy": 100.0 * top1_accuracy(predictions, labels),
            # MERU's "accuracy" is this macro mean (specs/hyperbolic.md §7.1 metric trap)
            "mean_per_class_accuracy": 100.0 * mean_per_class_accuracy(predictions, labels),
        }
        info = {
            "split": split,
            "num_images": len(data.images),
            "num_classes": len(data.names),
            "classes_without_images": len(data.names) - len(set(data.labels)),
            "prompts_per_class": sorted({len(p) for p in prompts}),
            "prompts": source,
        }
        results[split] = TaskResult(metrics, info)
    return results
