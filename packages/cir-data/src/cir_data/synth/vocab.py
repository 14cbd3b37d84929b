"""The vocabulary of the synthetic world: shapes, colours, sizes, textures, contexts, relations and their words."""

from __future__ import annotations

# Bump when anything changes what a seed generates (pixels, captions, graphs or export layouts).
GENERATOR_VERSION = "1.1.0"  # 1.1.0: change_object look-alike distractors

# shape -> words used in captions (the first is the canonical name used in graphs and conditions)
SHAPES: dict[str, tuple[str, ...]] = {
    "circle": ("circle", "disc", "round shape"),
    "square": ("square", "block", "box"),
    "triangle": ("triangle", "triangle", "wedge"),
    "star": ("star", "star shape", "star"),
    "hexagon": ("hexagon", "hexagon", "six-sided shape"),
    "diamond": ("diamond", "rhombus", "diamond shape"),
    "cross": ("cross", "plus sign", "cross shape"),
    "pentagon": ("pentagon", "pentagon", "five-sided shape"),
    "heart": ("heart", "heart shape", "heart"),
    "crescent": ("crescent", "moon shape", "crescent"),
}

# colour -> (RGB, caption words)
COLOURS: dict[str, tuple[tuple[int, int, int], tuple[str, ...]]] = {
    "red": ((214, 40, 40), ("red", "red", "crimson")),
    "green": ((46, 160, 67), ("green", "green", "emerald")),
    "blue": ((37, 99, 235), ("blue", "blue", "navy")),
    "yellow": ((245, 205, 30), ("yellow", "yellow", "golden")),
    "orange": ((245, 130, 20), ("orange", "orange", "tangerine")),
    "purple": ((128, 60, 170), ("purple", "violet", "purple")),
    "pink": ((240, 120, 180), ("pink", "pink", "rose")),
    "brown": ((120, 72, 35), ("brown", "brown", "chocolate")),
    "white": ((245, 245, 245), ("white", "white", "snow-white")),
    "black": ((25, 25, 25), ("black", "black", "jet-black")),
}

SIZES: dict[str, tuple[float, tuple[str, ...]]] = {
    "small": (0.2, ("small", "little", "tiny")),
    "large": (0.34, ("large", "big", "huge")),
}

# texture -> caption words as (adjective, prepositional phrase); plain is often left unsaid
TEXTURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "plain": (("plain", "solid", "plain"), ("in a solid colour", "with no pattern")),
    "striped": (("striped", "stripy", "striped"), ("with stripes", "with a striped pattern")),
    "dotted": (("dotted", "spotted", "polka-dot"), ("with dots", "with spots")),
}

# context (backdrop drawn as a distinct pattern) -> caption words
CONTEXTS: dict[str, tuple[str, ...]] = {
    "beach": ("beach", "seaside", "shore"),
    "kitchen": ("kitchen", "kitchen", "tiled kitchen"),
    "street": ("street", "road", "street"),
    "forest": ("forest", "woods", "forest"),
    "snow": ("snowfield", "snowy field", "snow"),
    "desert": ("desert", "desert", "dunes"),
}

# relation -> caption phrasings
RELATIONS: dict[str, tuple[str, ...]] = {
    "left of": ("to the left of", "left of", "on the left side of"),
    "right of": ("to the right of", "right of", "on the right side of"),
    "above": ("above", "over", "higher than"),
    "below": ("below", "under", "beneath"),
    "next to": ("next to", "beside", "by"),
    "on": ("on", "on top of", "resting on"),
}

# attribute axes an object carries, in graph field order
OBJECT_AXES: tuple[str, ...] = ("shape", "colour", "size", "texture")


def values_of(axis: str) -> tuple[str, ...]:
    """Canonical values of one attribute axis, in vocabulary order."""
    table: dict[str, tuple[str, ...]] = {
        "shape": tuple(SHAPES),
        "colour": tuple(COLOURS),
        "size": tuple(SIZES),
        "texture": tuple(TEXTURES),
        "context": tuple(CONTEXTS),
    }
    if axis not in table:
        raise KeyError(f"unknown attribute axis {axis!r}; known: {sorted(table)}")
    return table[axis]
