"""GeneCIS export: the four tasks in the official JSON layout (``specs/genecis.md`` §1–2).

Attribute tasks follow the Visual Genome convention: whole scenes in ``VG_100K_all/<image_id>.jpg`` and entries
``{"image_id": str, "instance_bbox": [x, y, w, h], "object_name": shape}`` that evaluators crop (0.7 dilation toward
the top-left, then a black square pad). Object tasks follow the COCO convention: whole scenes in
``val2017/<12-digit id>.jpg`` and entries ``{"val_image_id": int}``. Each template lists ``target`` apart from its
``gallery`` (the evaluator puts the target first, so it is index 0 of the candidates): 9 gallery entries for
attribute tasks, 14 for object tasks.

Hard distractors follow GeneCIS's intent and are built so that no shortcut works: every candidate shares the same
number of visible attributes with the reference (an image-only match ties), and every candidate shows the condition's
word (a text-only match ties); only the condition, applied to the reference, singles out the target.
``WorldConfig.distractor_hardness`` is the fraction of distractors built this way; the rest are random images that
merely fail the condition.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cir_data.synth.exports.common import ExportSettings, ImageJob, write_images, write_json, write_manifest
from cir_data.synth.scene import ObjectSpec, Scene, compose_scene, random_spec, scene_rng
from cir_data.synth.vocab import CONTEXTS, values_of

TASKS = ("focus_attribute", "change_attribute", "focus_object", "change_object")
ATTRIBUTE_GALLERY = 9  # + target = 10 candidates [paper, unverified]
OBJECT_GALLERY = 14  # + target = 15 candidates [data]
VG_FOLDER = "VG_100K_all"
COCO_FOLDER = "val2017"
# visible axes of an attribute crop: size is not (the crop scales with the box), the backdrop is
CROP_AXES = ("shape", "colour", "texture", "context")
FOCUS_WORDS = {"colour": "color", "shape": "shape", "texture": "texture"}
CHANGE_AXES = ("colour", "texture")

Candidate = tuple[ObjectSpec, str]  # an attribute-crop look: the instance's spec and the scene context


def _other(rng: np.random.Generator, axis: str, value: str) -> str:
    return str(rng.choice([v for v in values_of(axis) if v != value]))


def _look(rng: np.random.Generator, ref: Candidate, share: set[str], fixed: dict[str, str]) -> Candidate:
    """A crop look sharing exactly the ``share`` axes with ``ref``, with ``fixed`` axes pinned, others different."""
    ref_values = {"shape": ref[0].shape, "colour": ref[0].colour, "texture": ref[0].texture, "context": ref[1]}
    values = {}
    for axis in CROP_AXES:
        if axis in fixed:
            values[axis] = fixed[axis]
        elif axis in share:
            values[axis] = ref_values[axis]
        else:
            values[axis] = _other(rng, axis, ref_values[axis])
    spec = ObjectSpec(values["shape"], values["colour"], str(rng.choice(values_of("size"))), values["texture"])
    return spec, values["context"]


def _random_look(rng: np.random.Generator) -> Candidate:
    return random_spec(rng), str(rng.choice(list(CONTEXTS)))


def _axis_value(look: Candidate, axis: str) -> str:
    return look[1] if axis == "context" else str(getattr(look[0], axis))


def focus_attribute_looks(rng: np.random.Generator, hardness: float) -> tuple[str, list[Candidate]]:
    """Condition and looks [reference, target, *gallery]: the target shares the reference's value on the axis."""
    axis = str(rng.choice(list(FOCUS_WORDS)))
    ref = _random_look(rng)
    others = [a for a in CROP_AXES if a != axis]
    target = _look(rng, ref, {axis, str(rng.choice(others))}, {})
    gallery = []
    for _ in range(ATTRIBUTE_GALLERY):
        if rng.random() < hardness:
            keep = {str(a) for a in rng.choice(others, size=2, replace=False)}
            gallery.append(_look(rng, ref, keep, {}))
        else:
            while _axis_value(look := _random_look(rng), axis) == _axis_value(ref, axis):
                pass
            gallery.append(look)
    return FOCUS_WORDS[axis], [ref, target, *gallery]


def change_attribute_looks(rng: np.random.Generator, hardness: float) -> tuple[str, list[Candidate]]:
    """Condition (a new value) and looks: the target is the reference's kind of object with that value."""
    axis = str(rng.choice(list(CHANGE_AXES)))
    kept = "texture" if axis == "colour" else "colour"
    ref = _random_look(rng)
    new_value = _other(rng, axis, _axis_value(ref, axis))
    target = _look(rng, ref, {"shape", kept}, {axis: new_value})
    gallery = []
    for _ in range(ATTRIBUTE_GALLERY):
        if rng.random() < hardness:
            gallery.append(_look(rng, ref, {kept, "context"}, {axis: new_value}))
        else:
            while (look := _random_look(rng))[0].shape == ref[0].shape and _axis_value(look, axis) == new_value:
                pass
            gallery.append(look)
    return new_value, [ref, target, *gallery]


def _identity(spec: ObjectSpec) -> tuple[str, str, str]:
    """What makes two objects 'the same object' in the object tasks: shape, colour and texture (not size)."""
    return spec.shape, spec.colour, spec.texture


def _fresh_specs(
    rng: np.random.Generator, count: int, banned_identities: set[tuple[str, str, str]], banned_shapes: set[str]
) -> list[ObjectSpec]:
    specs: list[ObjectSpec] = []
    while len(specs) < count:
        spec = random_spec(rng)
        if _identity(spec) not in banned_identities and spec.shape not in banned_shapes:
            specs.append(spec)
    return specs


def _copy(rng: np.random.Generator, spec: ObjectSpec) -> ObjectSpec:
    return spec._replace(size=str(rng.choice(values_of("size"))))


def _reference_scene(rng: np.random.Generator, settings: ExportSettings) -> tuple[str, list[ObjectSpec]]:
    config = settings.config
    if config.max_objects < 2:
        raise ValueError("GeneCIS object tasks need max_objects >= 2 (a reference, a condition and a distractor)")
    count = int(rng.integers(max(2, config.min_objects), config.max_objects + 1))
    shapes = rng.choice(list(values_of("shape")), size=count, replace=False)
    specs = [random_spec(rng, shape=str(shape)) for shape in shapes]
    return str(rng.choice(list(CONTEXTS))), specs


SceneSpec = tuple[str, list[ObjectSpec]]


def _random_scene_spec(rng: np.random.Generator, settings: ExportSettings) -> SceneSpec:
    count = int(rng.integers(settings.config.min_objects, settings.config.max_objects + 1))
    return str(rng.choice(list(CONTEXTS))), [random_spec(rng) for _ in range(count)]


def focus_object_scenes(
    rng: np.random.Generator, settings: ExportSettings, reference: SceneSpec
) -> tuple[str, list[SceneSpec]]:
    """Condition (a shape in the reference) and scenes [target, *gallery]: the target holds the same object."""
    context, ref_specs = reference
    ref_ids = {_identity(s) for s in ref_specs}
    focus = ref_specs[int(rng.integers(len(ref_specs)))]
    others = [s for s in ref_specs if s is not focus]
    limit = settings.config.max_objects
    extra = int(rng.integers(0, limit))
    target = (_other(rng, "context", context), [_copy(rng, focus), *_fresh_specs(rng, extra, ref_ids, {focus.shape})])
    gallery: list[SceneSpec] = []
    for _ in range(OBJECT_GALLERY):
        if rng.random() < settings.config.distractor_hardness:
            decoy = random_spec(rng, shape=focus.shape, colour=_other(rng, "colour", focus.colour))
            if others and rng.random() < 0.5:
                specs = [decoy, _copy(rng, others[int(rng.integers(len(others)))])]
                scene_context = _other(rng, "context", context)
            else:
                specs, scene_context = [decoy], context
            specs += _fresh_specs(rng, int(rng.integers(0, limit - len(specs) + 1)), ref_ids, {focus.shape})
            gallery.append((scene_context, specs))
        else:
            scene = _random_scene_spec(rng, settings)
            while _identity(focus) in {_identity(s) for s in scene[1]}:
                scene = _random_scene_spec(rng, settings)
            gallery.append(scene)
    return focus.shape, [target, *gallery]


def change_object_scenes(
    rng: np.random.Generator, settings: ExportSettings, reference: SceneSpec
) -> tuple[str, list[SceneSpec]]:
    """Condition (a shape to add) and scenes [target, *gallery]: the target adds it in the reference's context.

    Hard distractors come in two kinds, half each. Look-alikes keep the reference's backdrop and the target's
    copies of reference objects but add another shape instead (an image-only match ties with them whatever it
    weighs; the backdrop fills most pixels, so it weighs most). Word-alikes add the shape but on another backdrop,
    with one more reference object (a text-only match ties with them; so does an equal-weight image match).
    """
    context, ref_specs = reference
    ref_ids = {_identity(s) for s in ref_specs}
    ref_shapes = {r.shape for r in ref_specs}
    new_shape = str(rng.choice([s for s in values_of("shape") if s not in ref_shapes]))
    limit = settings.config.max_objects
    kept = int(rng.integers(0, min(len(ref_specs) - 1, limit - 2) + 1))

    def with_added(scene_context: str, copies: int, added: str) -> SceneSpec:
        order = rng.permutation(len(ref_specs))[:copies]
        specs = [random_spec(rng, shape=added), *(_copy(rng, ref_specs[int(i)]) for i in order)]
        banned = ref_shapes | {new_shape, added}
        specs += _fresh_specs(rng, int(rng.integers(0, limit - len(specs) + 1)), ref_ids, banned)
        return scene_context, specs

    target = with_added(context, kept, new_shape)
    substitutes = [s for s in values_of("shape") if s not in ref_shapes | {new_shape}]
    gallery: list[SceneSpec] = []
    for _ in range(OBJECT_GALLERY):
        if rng.random() < settings.config.distractor_hardness:
            if rng.random() < 0.5:
                gallery.append(with_added(context, kept, str(rng.choice(substitutes))))
            else:
                gallery.append(with_added(_other(rng, "context", context), kept + 1, new_shape))
        else:
            while (scene := _random_scene_spec(rng, settings))[0] == context and new_shape in {
                s.shape for s in scene[1]
            }:
                pass
            gallery.append(scene)
    return new_shape, [target, *gallery]


class _Writer:
    """Allocates image ids, queues renders and collects scene graphs for one GeneCIS export."""

    def __init__(self, settings: ExportSettings) -> None:
        self.settings = settings
        self.jobs: list[ImageJob] = []
        self.graphs: dict[str, dict[str, Any]] = {VG_FOLDER: {}, COCO_FOLDER: {}}

    def vg_entry(self, rng: np.random.Generator, look: Candidate) -> dict[str, Any]:
        canvas = 2 * self.settings.size  # crops of larger scenes, as in Visual Genome
        config = self.settings.config
        extras = [random_spec(rng) for _ in range(int(rng.integers(config.min_objects, config.max_objects + 1)) - 1)]
        scene = compose_scene(rng, look[1], [look[0], *extras], p_on=0.0, required=1, clear_crop_of_first=True)
        image_id = str(len(self.graphs[VG_FOLDER]) + 1)
        graph = scene.graph(canvas)
        self.graphs[VG_FOLDER][image_id] = graph
        self.jobs.append(ImageJob(f"{VG_FOLDER}/{image_id}.jpg", scene, canvas))
        first = graph["objects"][0]
        return {"image_id": image_id, "instance_bbox": first["bbox"], "object_name": first["shape"]}

    def coco_entry(self, rng: np.random.Generator, scene_spec: SceneSpec) -> dict[str, int]:
        scene: Scene = compose_scene(rng, scene_spec[0], scene_spec[1], p_on=self.settings.config.p_on)
        image_id = len(self.graphs[COCO_FOLDER]) + 1
        self.graphs[COCO_FOLDER][str(image_id)] = scene.graph(self.settings.size)
        self.jobs.append(ImageJob(f"{COCO_FOLDER}/{image_id:012d}.jpg", scene, self.settings.size))
        return {"val_image_id": image_id}


def _template(condition: str, entries: list[Any]) -> dict[str, Any]:
    return {"condition": condition, "gallery": entries[2:], "reference": entries[0], "target": entries[1]}


def _attribute_templates(
    writer: _Writer, task: str, build: Callable[[np.random.Generator, float], tuple[str, list[Candidate]]]
) -> list[dict[str, Any]]:
    settings = writer.settings
    templates = []
    for i in range(settings.queries):
        rng = scene_rng(settings.seed, i, f"genecis/{task}")
        condition, looks = build(rng, settings.config.distractor_hardness)
        looks = looks[: None if settings.gallery is None else 2 + settings.gallery]
        templates.append(_template(condition, [writer.vg_entry(rng, look) for look in looks]))
    return templates


def export_genecis(settings: ExportSettings) -> Path:
    """Write ``<out>/genecis``: the four task JSONs, both image folders, scene graphs and a manifest."""
    root = settings.out_dir / "genecis"
    writer = _Writer(settings)
    files = [
        write_json(
            root / "focus_attribute.json", _attribute_templates(writer, "focus_attribute", focus_attribute_looks)
        ),
        write_json(
            root / "change_attribute.json", _attribute_templates(writer, "change_attribute", change_attribute_looks)
        ),
    ]
    focus: list[dict[str, Any]] = []
    change: list[dict[str, Any]] = []
    for i in range(settings.queries):
        rng = scene_rng(settings.seed, i, "genecis/object_reference")
        reference = _reference_scene(rng, settings)
        ref_entry = writer.coco_entry(rng, reference)  # focus_object[i] and change_object[i] share the reference
        for task, build, out in (
            ("focus_object", focus_object_scenes, focus),
            ("change_object", change_object_scenes, change),
        ):
            task_rng = scene_rng(settings.seed, i, f"genecis/{task}")
            condition, scenes = build(task_rng, settings, reference)
            scenes = scenes[: None if settings.gallery is None else 1 + settings.gallery]
            out.append(_template(condition, [ref_entry, *(writer.coco_entry(task_rng, s) for s in scenes)]))
    files.append(write_json(root / "focus_object.json", focus))
    files.append(write_json(root / "change_object.json", change))
    files.append(write_json(root / "scene_graphs.json", writer.graphs))
    write_images(writer.jobs, root, settings, "genecis images")
    counts = {task: settings.queries for task in TASKS}
    counts |= {"vg_images": len(writer.graphs[VG_FOLDER]), "coco_images": len(writer.graphs[COCO_FOLDER])}
    write_manifest(root, "genecis", settings, counts, files)
    return root
