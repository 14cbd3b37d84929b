"""Ground-truth oracles over GeneCIS-format templates, computed from the exported scene graphs (no model, no torch).

Each oracle scores the candidates of a template in evaluation order, ``[target] + gallery`` (target = index 0):

- ``condition``: knows the condition and the scene graphs; its unique best candidate is the target.
- ``image_only``: ignores the condition; counts what a candidate visibly shares with the reference (for an
  attribute crop: shape, colour, texture and backdrop; for a whole scene: the backdrop and each reference object
  that reappears with the same shape, colour and texture), every item weighing one.
- ``image_only_backdrop``: the same, but the backdrop outweighs everything else, as it does for a learned image
  embedding (the backdrop fills most pixels): a gallery that only ties with the target under equal weights, while
  the target alone keeps the reference's backdrop, is caught here.
- ``text_only``: ignores the reference; counts the condition's words that name something in the candidate.

Scores are integers; ties are meant to be broken at random, as an unstable sort would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cir_data.synth.vocab import values_of

Graphs = dict[str, dict[str, dict[str, Any]]]
Template = dict[str, Any]
FOCUS_AXIS = {"color": "colour", "shape": "shape", "texture": "texture"}
CROP_AXES = ("shape", "colour", "texture", "context")


def load_genecis(root: str | Path) -> tuple[dict[str, list[Template]], Graphs]:
    """Templates of the four tasks and the scene graphs of a GeneCIS export folder."""
    folder = Path(root)
    tasks = {}
    for task in ("focus_attribute", "change_attribute", "focus_object", "change_object"):
        tasks[task] = json.loads((folder / f"{task}.json").read_text())
    graphs = json.loads((folder / "scene_graphs.json").read_text())
    return tasks, graphs


def crop_look(entry: dict[str, Any], graphs: Graphs) -> dict[str, str]:
    """Visible attributes of a VG-style entry: the object whose box is ``instance_bbox``, plus the backdrop."""
    graph = graphs["VG_100K_all"][str(entry["image_id"])]
    matches = [o for o in graph["objects"] if o["bbox"] == list(entry["instance_bbox"])]
    if len(matches) != 1:
        raise ValueError(f"image {entry['image_id']}: {len(matches)} objects have bbox {entry['instance_bbox']}")
    obj = matches[0]
    return {"shape": obj["shape"], "colour": obj["colour"], "texture": obj["texture"], "context": graph["context"]}


def scene_of(entry: dict[str, Any], graphs: Graphs) -> dict[str, Any]:
    """Scene graph of a COCO-style entry."""
    return graphs["val2017"][str(entry["val_image_id"])]


def _identities(graph: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(o["shape"], o["colour"], o["texture"]) for o in graph["objects"]]


def candidates(template: Template) -> list[dict[str, Any]]:
    """Entries in evaluation order: target first, then the gallery in file order."""
    return [template["target"], *template["gallery"]]


def _axis_of_value(word: str) -> str:
    for axis in ("colour", "texture", "shape"):
        if word in values_of(axis):
            return axis
    raise ValueError(f"condition {word!r} names no attribute value")


def _condition_focus_attribute(t: Template, g: Graphs) -> list[int]:
    axis = FOCUS_AXIS[t["condition"]]
    ref = crop_look(t["reference"], g)
    return [int(crop_look(c, g)[axis] == ref[axis]) for c in candidates(t)]


def _condition_change_attribute(t: Template, g: Graphs) -> list[int]:
    axis = _axis_of_value(t["condition"])
    ref = crop_look(t["reference"], g)
    looks = [crop_look(c, g) for c in candidates(t)]
    return [int(look["shape"] == ref["shape"]) + int(look[axis] == t["condition"]) for look in looks]


def _condition_focus_object(t: Template, g: Graphs) -> list[int]:
    ref = scene_of(t["reference"], g)
    focus = [i for i in _identities(ref) if i[0] == t["condition"]]
    if len(focus) != 1:
        raise ValueError(f"reference {t['reference']}: {len(focus)} objects are a {t['condition']!r}")
    return [int(focus[0] in _identities(scene_of(c, g))) for c in candidates(t)]


def _condition_change_object(t: Template, g: Graphs) -> list[int]:
    ref = scene_of(t["reference"], g)
    scores = []
    for c in candidates(t):
        graph = scene_of(c, g)
        has_new = any(o["shape"] == t["condition"] for o in graph["objects"])
        scores.append(int(graph["context"] == ref["context"]) + int(has_new))
    return scores


# Weight of a shared backdrop in ``image_only_backdrop``: more than all other visible items of a scene together.
BACKDROP_WEIGHT = 100


def _image_only(task: str, backdrop: int = 1) -> Callable[[Template, Graphs], list[int]]:
    weights = {axis: backdrop if axis == "context" else 1 for axis in CROP_AXES}

    def attribute(t: Template, g: Graphs) -> list[int]:
        ref = crop_look(t["reference"], g)
        return [sum(w * (crop_look(c, g)[a] == ref[a]) for a, w in weights.items()) for c in candidates(t)]

    def whole_scene(t: Template, g: Graphs) -> list[int]:
        ref = scene_of(t["reference"], g)
        scores = []
        for c in candidates(t):
            graph = scene_of(c, g)
            present = set(_identities(graph))
            shared = sum(i in present for i in _identities(ref))
            scores.append(backdrop * int(graph["context"] == ref["context"]) + shared)
        return scores

    return attribute if task.endswith("attribute") else whole_scene


def _words(look_or_graph: dict[str, Any]) -> set[str]:
    if "objects" not in look_or_graph:
        return set(look_or_graph.values())
    words = {look_or_graph["context"]}
    for o in look_or_graph["objects"]:
        words |= {o["shape"], o["colour"], o["texture"], o["size"]}
    return words


def _text_only(task: str) -> Callable[[Template, Graphs], list[int]]:
    def score(t: Template, g: Graphs) -> list[int]:
        tokens = t["condition"].split()
        looks = [crop_look(c, g) if task.endswith("attribute") else scene_of(c, g) for c in candidates(t)]
        return [sum(token in _words(look) for token in tokens) for look in looks]

    return score


CONDITION_ORACLES: dict[str, Callable[[Template, Graphs], list[int]]] = {
    "focus_attribute": _condition_focus_attribute,
    "change_attribute": _condition_change_attribute,
    "focus_object": _condition_focus_object,
    "change_object": _condition_change_object,
}

ORACLES: dict[str, Callable[[str], Callable[[Template, Graphs], list[int]]]] = {
    "condition": lambda task: CONDITION_ORACLES[task],
    "image_only": _image_only,
    "image_only_backdrop": lambda task: _image_only(task, BACKDROP_WEIGHT),
    "text_only": _text_only,
}


def oracle_scores(oracle: str, task: str, templates: list[Template], graphs: Graphs) -> np.ndarray:
    """Scores of ``oracle`` on every template of ``task``: shape (templates, candidates), target in column 0."""
    if oracle not in ORACLES:
        raise KeyError(f"unknown oracle {oracle!r}; known: {sorted(ORACLES)}")
    if task not in CONDITION_ORACLES:
        raise KeyError(f"unknown GeneCIS task {task!r}; known: {sorted(CONDITION_ORACLES)}")
    scorer = ORACLES[oracle](task)
    return np.asarray([scorer(t, graphs) for t in templates], dtype=np.float64)
