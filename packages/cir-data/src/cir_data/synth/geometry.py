"""Outlines of the shapes as polygons, so drawing, masks and bounding boxes share one definition."""

from __future__ import annotations

import math

import numpy as np

Point = tuple[float, float]


def _regular(n: int, start: float = -90.0) -> list[Point]:
    return [
        (math.cos(math.radians(start + 360.0 * k / n)), math.sin(math.radians(start + 360.0 * k / n))) for k in range(n)
    ]


def _star() -> list[Point]:
    points = []
    for k in range(10):
        radius = 1.0 if k % 2 == 0 else 0.45
        angle = math.radians(-90.0 + 36.0 * k)
        points.append((radius * math.cos(angle), radius * math.sin(angle)))
    return points


def _cross() -> list[Point]:
    a, b = 0.35, 1.0
    return [(-a, -b), (a, -b), (a, -a), (b, -a), (b, a), (a, a), (a, b), (-a, b), (-a, a), (-b, a), (-b, -a), (-a, -a)]


def _heart() -> list[Point]:
    points = []
    for k in range(40):
        t = 2.0 * math.pi * k / 40
        x = 16 * math.sin(t) ** 3
        y = -(13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t))
        points.append((x / 17.0, (y + 2.5) / 17.0))
    return points


def _crescent() -> list[Point]:
    outer = [(math.cos(math.radians(a)), math.sin(math.radians(a))) for a in range(40, 321, 10)]
    inner = [(0.45 + 0.75 * math.cos(math.radians(a)), 0.75 * math.sin(math.radians(a))) for a in range(250, 109, -10)]
    return outer + inner


# unit outlines (radius about 1, centred at 0, y pointing down)
UNIT_OUTLINES: dict[str, list[Point]] = {
    "circle": _regular(48),
    "square": [(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)],
    "triangle": _regular(3),
    "star": _star(),
    "hexagon": _regular(6, 0.0),
    "diamond": [(0.0, -1.0), (0.7, 0.0), (0.0, 1.0), (-0.7, 0.0)],
    "cross": _cross(),
    "pentagon": _regular(5),
    "heart": _heart(),
    "crescent": _crescent(),
}


def outline(shape: str, cx: float, cy: float, radius: float, rotation_deg: float) -> np.ndarray:
    """Polygon of ``shape`` as an (N, 2) array, rotated by ``rotation_deg`` about (cx, cy) and scaled by radius."""
    if shape not in UNIT_OUTLINES:
        raise KeyError(f"unknown shape {shape!r}; known: {sorted(UNIT_OUTLINES)}")
    unit = np.asarray(UNIT_OUTLINES[shape], dtype=np.float64)
    theta = math.radians(rotation_deg)
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    return unit @ rot.T * radius + np.array([cx, cy])


def bounding_box(points: np.ndarray) -> tuple[float, float, float, float]:
    """Axis-aligned box (x, y, w, h) of a polygon."""
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)
