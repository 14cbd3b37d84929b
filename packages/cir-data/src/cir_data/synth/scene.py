"""Scenes of the synthetic world: objects with attributes on a backdrop, their relations, and their scene graph.

Every random choice, jitter included, is drawn when a scene is composed, so rendering is a pure function of the
scene and any image can be regenerated from (seed, index) alone.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from cir_data.synth.geometry import bounding_box, outline
from cir_data.synth.vocab import COLOURS, CONTEXTS, SHAPES, SIZES, TEXTURES


class ObjectSpec(NamedTuple):
    """The visible identity of an object: what a caption or a condition can name."""

    shape: str
    colour: str
    size: str
    texture: str


@dataclass(frozen=True)
class SceneObject:
    """One placed object: its spec plus position (fractions of the canvas) and rendering jitter."""

    spec: ObjectSpec
    x: float
    y: float
    radius: float
    rotation: float
    tint: tuple[float, float, float]
    rests_on: int | None = None

    def polygon(self, canvas: float) -> np.ndarray:
        """Outline in pixels of a canvas of side ``canvas``."""
        return outline(self.spec.shape, self.x * canvas, self.y * canvas, self.radius * canvas, self.rotation)


class Relation(NamedTuple):
    """A spatial relation ``subject relation object`` between object indices."""

    subject: int
    relation: str
    object: int


@dataclass(frozen=True)
class Scene:
    """A backdrop context, its objects and pairwise relations, and global jitter (lighting, backdrop phase)."""

    context: str
    objects: tuple[SceneObject, ...]
    lighting: float
    backdrop_phase: float
    relations: tuple[Relation, ...] = field(default=())

    @property
    def specs(self) -> tuple[ObjectSpec, ...]:
        """Object specs in drawing order."""
        return tuple(obj.spec for obj in self.objects)

    def graph(self, canvas: int) -> dict[str, Any]:
        """Ground-truth scene graph as JSON-ready data; boxes are (x, y, w, h) in pixels of a ``canvas`` image."""
        objects = []
        for index, obj in enumerate(self.objects):
            x, y, w, h = bounding_box(obj.polygon(canvas))
            objects.append(
                {
                    "id": index,
                    "shape": obj.spec.shape,
                    "colour": obj.spec.colour,
                    "size": obj.spec.size,
                    "texture": obj.spec.texture,
                    "bbox": [round(x), round(y), max(1, round(w)), max(1, round(h))],
                    "center": [round(obj.x, 4), round(obj.y, 4)],
                }
            )
        relations = [{"subject": r.subject, "relation": r.relation, "object": r.object} for r in self.relations]
        return {"context": self.context, "objects": objects, "relations": relations}


@dataclass(frozen=True)
class WorldConfig:
    """Difficulty knobs of the world: objects per scene, caption noise, distractor hardness."""

    min_objects: int = 1
    max_objects: int = 4
    caption_noise: float = 0.0
    distractor_hardness: float = 1.0
    p_on: float = 0.2

    def __post_init__(self) -> None:
        if not 1 <= self.min_objects <= self.max_objects <= 4:
            raise ValueError(f"need 1 <= min_objects <= max_objects <= 4, got {self.min_objects}, {self.max_objects}")
        for name in ("caption_noise", "distractor_hardness", "p_on"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")


DEFAULT_WORLD = WorldConfig()


def scene_rng(seed: int, index: int, stream: str = "world") -> np.random.Generator:
    """Independent generator for item ``index`` of ``stream`` under ``seed`` (so items render in any order)."""
    return np.random.default_rng([seed, index, zlib.crc32(stream.encode())])


def random_spec(rng: np.random.Generator, **fixed: str) -> ObjectSpec:
    """Uniformly random object spec; keyword arguments pin axes (e.g. ``colour="red"``)."""
    values = {
        "shape": str(rng.choice(list(SHAPES))),
        "colour": str(rng.choice(list(COLOURS))),
        "size": str(rng.choice(list(SIZES))),
        "texture": str(rng.choice(list(TEXTURES))),
    }
    values.update(fixed)
    return ObjectSpec(**values)


def random_context(rng: np.random.Generator, exclude: tuple[str, ...] = ()) -> str:
    """A backdrop context drawn uniformly, avoiding ``exclude``."""
    return str(rng.choice([c for c in CONTEXTS if c not in exclude]))


def _relation(a: SceneObject, b: SceneObject) -> str:
    """Relation of ``a`` to ``b`` from their positions (image y grows downward)."""
    dx, dy = b.x - a.x, b.y - a.y
    if abs(dx) >= abs(dy):
        if abs(dx) < a.radius + b.radius + 0.06:
            return "next to"
        return "left of" if dx > 0 else "right of"
    return "above" if dy > 0 else "below"


def _relations(objects: tuple[SceneObject, ...]) -> tuple[Relation, ...]:
    """One relation per unordered pair, with the later-drawn object as subject when it rests on the other."""
    relations = []
    for i in range(len(objects)):
        for j in range(i + 1, len(objects)):
            if objects[j].rests_on == i:
                relations.append(Relation(j, "on", i))
            else:
                relations.append(Relation(i, _relation(objects[i], objects[j]), j))
    return tuple(relations)


def _place(
    rng: np.random.Generator,
    spec: ObjectSpec,
    placed: list[SceneObject],
    p_on: float,
    avoid: tuple[float, float, float, float] | None,
) -> SceneObject | None:
    """Position one object without overlapping the placed ones (or the ``avoid`` box); None when it cannot fit."""
    radius = SIZES[spec.size][0] / 2 * float(rng.uniform(0.9, 1.1))
    rotation = float(rng.uniform(-25.0, 25.0))
    tint = tuple(float(v) for v in rng.normal(0.0, 10.0, size=3))
    supports = [i for i, o in enumerate(placed) if o.spec.size == "large" and o.rests_on is None]
    if spec.size == "small" and supports and avoid is None and rng.random() < p_on:
        base = placed[int(rng.choice(supports))]
        x = base.x + float(rng.uniform(-0.3, 0.3)) * base.radius
        y = base.y - base.radius * 0.8 - radius * 0.9
        clear = all(np.hypot(x - o.x, y - o.y) > (radius + o.radius) * 1.05 for o in placed if o is not base)
        if radius <= x <= 1 - radius and radius <= y and clear:
            return SceneObject(spec, x, y, radius, rotation, tint, rests_on=placed.index(base))  # type: ignore[arg-type]
    for _ in range(60):
        x = float(rng.uniform(radius + 0.02, 1 - radius - 0.02))
        y = float(rng.uniform(radius + 0.02, 1 - radius - 0.02))
        clear = all(np.hypot(x - o.x, y - o.y) > (radius + o.radius) * 1.05 for o in placed)
        if avoid is not None:
            ax, ay, aw, ah = avoid
            clear = clear and not (
                x + radius > ax and x - radius < ax + aw and y + radius > ay and y - radius < ay + ah
            )
        if clear:
            return SceneObject(spec, x, y, radius, rotation, tint)  # type: ignore[arg-type]
    return None


def _crop_box(obj: SceneObject) -> tuple[float, float, float, float]:
    """GeneCIS's dilated crop of an object, as (x, y, w, h) fractions, padded a little for rotation."""
    side = 2.0 * obj.radius
    x0, y0 = obj.x - obj.radius, obj.y - obj.radius
    return (x0 - 0.75 * side, y0 - 0.75 * side, 1.8 * side, 1.8 * side)


def compose_scene(
    rng: np.random.Generator,
    context: str,
    specs: list[ObjectSpec] | tuple[ObjectSpec, ...],
    *,
    p_on: float = 0.2,
    required: int | None = None,
    clear_crop_of_first: bool = False,
) -> Scene:
    """Place ``specs`` on ``context`` with jitter; the first ``required`` specs (default all) must fit, extras may drop.

    With ``clear_crop_of_first``, optional objects keep out of the first object's GeneCIS crop (its box grown by
    0.7 of its size toward the top-left, ``specs/genecis.md`` §2.2), so that crop shows one object.
    """
    if context not in CONTEXTS:
        raise KeyError(f"unknown context {context!r}; known: {sorted(CONTEXTS)}")
    required = len(specs) if required is None else required
    for _attempt in range(50):
        placed: list[SceneObject] = []
        for position, spec in enumerate(specs):
            avoid = _crop_box(placed[0]) if clear_crop_of_first and placed and position >= required else None
            obj = _place(rng, spec, placed, p_on, avoid)
            if obj is None and position < required:
                break
            if obj is not None:
                placed.append(obj)
        else:
            objects = tuple(placed)
            return Scene(
                context=context,
                objects=objects,
                lighting=float(rng.uniform(0.85, 1.15)),
                backdrop_phase=float(rng.uniform(0.0, 1.0)),
                relations=_relations(objects),
            )
    raise RuntimeError(f"could not place {required} objects on one canvas: {list(specs)[:required]}")


def sample_scene(rng: np.random.Generator, config: WorldConfig = DEFAULT_WORLD) -> Scene:
    """A random scene: a context and ``min_objects``..``max_objects`` random objects."""
    count = int(rng.integers(config.min_objects, config.max_objects + 1))
    context = random_context(rng)
    specs = [random_spec(rng) for _ in range(count)]
    return compose_scene(rng, context, specs, p_on=config.p_on)


def product_scene(rng: np.random.Generator, spec: ObjectSpec) -> Scene:
    """A product shot: one object, centred and large, slightly jittered (rendered on white by ``render_product``)."""
    obj = SceneObject(
        spec,
        x=0.5 + float(rng.uniform(-0.03, 0.03)),
        y=0.5 + float(rng.uniform(-0.03, 0.03)),
        radius=float(rng.uniform(0.36, 0.42)),
        rotation=float(rng.uniform(-10.0, 10.0)),
        tint=tuple(float(v) for v in rng.normal(0.0, 8.0, size=3)),  # type: ignore[arg-type]
    )
    return Scene(context="snow", objects=(obj,), lighting=1.0, backdrop_phase=0.0)
