"""Edits of a scene description (recolour, retexture, resize, reshape, add, remove, move) and their wordings.

A scene description is a context plus object specs; composed-retrieval exports pair a reference with the scene an
edit produces, and the edit's wording becomes the relative caption.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cir_data.synth.captions import article
from cir_data.synth.scene import ObjectSpec, random_spec
from cir_data.synth.vocab import CONTEXTS, SHAPES, values_of

SceneSpec = tuple[str, tuple[ObjectSpec, ...]]
Edit = dict[str, Any]
EDIT_OPS = ("colour", "texture", "size", "shape", "add", "remove", "context")


def canonical(scene: SceneSpec) -> tuple[str, tuple[ObjectSpec, ...]]:
    """Order-free form of a scene description: equal forms describe the same picture up to layout."""
    return scene[0], tuple(sorted(scene[1]))


def random_edit(rng: np.random.Generator, scene: SceneSpec, max_objects: int = 4) -> Edit:
    """A random edit applicable to ``scene`` (objects keep distinct shapes so captions can name them)."""
    context, specs = scene
    shapes = {s.shape for s in specs}
    ops = [op for op in EDIT_OPS if not (op == "add" and len(specs) >= max_objects)]
    ops = [op for op in ops if not (op == "remove" and len(specs) < 2)]
    op = str(rng.choice(ops))
    index = int(rng.integers(len(specs)))
    current = specs[index]
    if op in ("colour", "texture", "size"):
        value: Any = str(rng.choice([v for v in values_of(op) if v != getattr(current, op)]))
    elif op == "shape":
        value = str(rng.choice([v for v in SHAPES if v not in shapes]))
    elif op == "add":
        value = list(random_spec(rng, shape=str(rng.choice([v for v in SHAPES if v not in shapes]))))
    elif op == "context":
        value = str(rng.choice([c for c in CONTEXTS if c != context]))
    else:
        value = None
    return {"op": op, "object": index, "value": value}


def apply_edit(scene: SceneSpec, edit: Edit) -> SceneSpec:
    """The scene description after ``edit``."""
    context, specs = scene[0], list(scene[1])
    op, index, value = edit["op"], edit["object"], edit["value"]
    if op in ("colour", "texture", "size", "shape"):
        specs[index] = specs[index]._replace(**{op: value})
    elif op == "add":
        specs.append(ObjectSpec(*value))
    elif op == "remove":
        del specs[index]
    elif op == "context":
        context = value
    else:
        raise ValueError(f"unknown edit op {op!r}; known: {EDIT_OPS}")
    return context, tuple(specs)


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def describe_edit(rng: np.random.Generator, scene: SceneSpec, edit: Edit) -> str:
    """A relative caption for ``edit`` applied to ``scene``, in one of several wordings."""
    op, value = edit["op"], edit["value"]
    spec = scene[1][edit["object"]]
    noun = _pick(rng, list(SHAPES[spec.shape][:2]))
    the = f"the {noun}" if rng.random() < 0.5 else f"the {spec.colour} {noun}"
    if op == "colour":
        return _pick(rng, [f"make {the} {value}", f"change {the} to {value}", f"{the} should be {value} instead"])
    if op == "texture":
        wording = {
            "striped": "give {0} stripes",
            "dotted": "cover {0} with dots",
            "plain": "remove the pattern from {0}",
        }
        return _pick(rng, [wording[value].format(the), f"make {the} {value}"])
    if op == "size":
        bigger = value == "large"
        return _pick(
            rng, [f"make {the} {'bigger' if bigger else 'smaller'}", f"{'enlarge' if bigger else 'shrink'} {the}"]
        )
    if op == "shape":
        return _pick(rng, [f"turn {the} into a {value}", f"replace {the} with a {spec.colour} {value}"])
    if op == "add":
        new = ObjectSpec(*value)
        phrase = article(f"{new.size} {new.colour} {new.texture} {new.shape}".replace(" plain", ""))
        return _pick(rng, [f"add {phrase}", f"put {phrase} in the picture", f"include {phrase} as well"])
    if op == "remove":
        return _pick(rng, [f"remove {the}", f"take away {the}", f"get rid of {the}"])
    if op == "context":
        word = CONTEXTS[value][0]
        return _pick(rng, [f"move everything to the {word}", f"change the background to {article(word)}"])
    raise ValueError(f"unknown edit op {op!r}; known: {EDIT_OPS}")


def distinct_shapes_scene(rng: np.random.Generator, min_objects: int, max_objects: int) -> SceneSpec:
    """A random scene description whose objects all have different shapes."""
    count = int(rng.integers(min_objects, max_objects + 1))
    shapes = rng.choice(list(SHAPES), size=count, replace=False)
    return str(rng.choice(list(CONTEXTS))), tuple(random_spec(rng, shape=str(s)) for s in shapes)
