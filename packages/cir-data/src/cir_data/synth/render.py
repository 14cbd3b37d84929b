"""Pillow renderer: draws a scene at several times the output size, then averages down (anti-aliasing)."""

from __future__ import annotations

import io
import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

from cir_data.synth.scene import Scene, SceneObject
from cir_data.synth.vocab import COLOURS

JPEG_QUALITY = 90


def supersampling(size: int) -> int:
    """Drawing scale for an output of ``size`` pixels: 4x for small images, 2x from 128 px up."""
    return 4 if size < 128 else 2


def _shade(rgb: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(int(max(0, min(255, c * factor))) for c in rgb)  # type: ignore[return-value]


def _beach(draw: ImageDraw.ImageDraw, side: int, phase: float) -> None:
    horizon = int(side * (0.38 + 0.06 * phase))
    draw.rectangle((0, 0, side, horizon), fill=(70, 150, 205))
    draw.rectangle((0, horizon, side, side), fill=(236, 212, 150))
    step = max(2, side // 10)
    for k in range(4):
        y = int(horizon * (k + 0.5) / 4)
        for x0 in range(-step + int(phase * step), side, 2 * step):
            draw.arc(
                (x0, y - step // 3, x0 + step, y + step // 3), 200, 340, fill=(200, 230, 245), width=max(1, side // 90)
            )


def _kitchen(draw: ImageDraw.ImageDraw, side: int, phase: float) -> None:
    tile = side // 8
    offset = int(phase * tile)
    for row in range(-1, 9):
        for col in range(-1, 9):
            colour = (232, 228, 214) if (row + col) % 2 == 0 else (150, 176, 196)
            x, y = col * tile + offset, row * tile + offset
            draw.rectangle((x, y, x + tile, y + tile), fill=colour)


def _street(draw: ImageDraw.ImageDraw, side: int, phase: float) -> None:
    draw.rectangle((0, 0, side, side), fill=(88, 88, 94))
    kerb = int(side * 0.82)
    draw.rectangle((0, kerb, side, side), fill=(170, 165, 155))
    dash = side // 6
    y = int(side * (0.45 + 0.05 * phase))
    for x0 in range(-dash + int(phase * dash), side, 2 * dash):
        draw.rectangle((x0, y, x0 + dash, y + max(2, side // 40)), fill=(240, 240, 240))


def _forest(draw: ImageDraw.ImageDraw, side: int, phase: float) -> None:
    draw.rectangle((0, 0, side, side), fill=(64, 118, 60))
    trunk = max(3, side // 16)
    gap = side // 4
    for x0 in range(int(phase * gap) - gap, side, gap):
        draw.rectangle((x0, 0, x0 + trunk, side), fill=(92, 64, 40))
        draw.ellipse((x0 - trunk * 2, -trunk, x0 + trunk * 3, trunk * 3), fill=(40, 90, 40))


def _snow(draw: ImageDraw.ImageDraw, side: int, phase: float) -> None:
    draw.rectangle((0, 0, side, side), fill=(214, 226, 240))
    draw.ellipse((-side // 2, int(side * 0.55), side, int(side * 1.6)), fill=(246, 248, 252))
    draw.ellipse((side // 3, int(side * (0.62 + 0.05 * phase)), int(side * 1.5), int(side * 1.7)), fill=(236, 241, 248))
    flake = max(1, side // 70)
    step = side // 7
    for row in range(8):
        for col in range(8):
            x = (col * step + (row % 2) * step // 2 + int(phase * step)) % side
            y = row * step + step // 3
            draw.ellipse((x - flake, y - flake, x + flake, y + flake), fill=(255, 255, 255))


def _desert(draw: ImageDraw.ImageDraw, side: int, phase: float) -> None:
    draw.rectangle((0, 0, side, side), fill=(228, 186, 118))
    width = max(1, side // 60)
    for k in range(5):
        base = side * (0.2 + 0.18 * k)
        points = [
            (x, base + side * 0.04 * math.sin(2 * math.pi * (x / side * 1.5 + phase + 0.3 * k)))
            for x in range(0, side + 1, max(1, side // 32))
        ]
        draw.line(points, fill=(196, 146, 84), width=width)


BACKDROPS: dict[str, Callable[[ImageDraw.ImageDraw, int, float], None]] = {
    "beach": _beach,
    "kitchen": _kitchen,
    "street": _street,
    "forest": _forest,
    "snow": _snow,
    "desert": _desert,
}


def _texture_layer(obj: SceneObject, box: tuple[int, int, int, int], fill: tuple[int, int, int]) -> Image.Image:
    """The object's surface (fill plus stripes or dots) over its pixel box."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    layer = Image.new("RGB", (w, h), fill)
    texture = obj.spec.texture
    if texture == "plain":
        return layer
    accent = _shade(fill, 0.55) if sum(fill) > 200 else _shade((fill[0] + 120, fill[1] + 120, fill[2] + 120), 1.0)
    draw = ImageDraw.Draw(layer)
    period = max(4.0, max(w, h) / 4.5)
    if texture == "striped":
        theta = math.radians(obj.rotation + 45.0)
        ux, uy = math.cos(theta), math.sin(theta)
        reach = int(math.hypot(w, h))
        cx, cy = w / 2, h / 2
        for k in range(-int(reach / period) - 1, int(reach / period) + 2):
            px, py = cx + k * period * -uy, cy + k * period * ux
            draw.line(
                [(px - ux * reach, py - uy * reach), (px + ux * reach, py + uy * reach)],
                fill=accent,
                width=max(1, int(period * 0.4)),
            )
    elif texture == "dotted":
        dot = period * 0.22
        for row in range(int(h / period) + 2):
            for col in range(int(w / period) + 2):
                px = col * period + (row % 2) * period / 2
                py = row * period + period / 3
                draw.ellipse((px - dot, py - dot, px + dot, py + dot), fill=accent)
    else:
        raise KeyError(f"unknown texture {texture!r}")
    return layer


def _draw_object(canvas: Image.Image, obj: SceneObject, side: int) -> None:
    polygon = obj.polygon(side)
    x0, y0 = np.floor(polygon.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(polygon.max(axis=0)).astype(int) + 2
    box = (int(x0), int(y0), int(x1), int(y1))
    base = COLOURS[obj.spec.colour][0]
    fill = tuple(int(max(0, min(255, c + t))) for c, t in zip(base, obj.tint, strict=True))
    surface = _texture_layer(obj, box, fill)  # type: ignore[arg-type]
    mask = Image.new("L", surface.size, 0)
    local = [(float(px - x0), float(py - y0)) for px, py in polygon]
    ImageDraw.Draw(mask).polygon(local, fill=255)
    edge = _shade(fill, 0.45) if sum(fill) > 120 else (110, 110, 110)  # type: ignore[arg-type]
    ImageDraw.Draw(surface).line([*local, local[0]], fill=edge, width=max(1, side // 110), joint="curve")
    canvas.paste(surface, box[:2], mask)


def render_scene(scene: Scene, size: int = 64) -> Image.Image:
    """RGB image of ``scene``, ``size`` x ``size`` pixels, anti-aliased and lit by the scene's lighting jitter."""
    scale = supersampling(size)
    side = size * scale
    canvas = Image.new("RGB", (side, side))
    if scene.context not in BACKDROPS:
        raise KeyError(f"no backdrop for context {scene.context!r}; known: {sorted(BACKDROPS)}")
    BACKDROPS[scene.context](ImageDraw.Draw(canvas), side, scene.backdrop_phase)
    for obj in scene.objects:
        _draw_object(canvas, obj, side)
    small = canvas.reduce(scale)
    lit = np.asarray(small, dtype=np.float32) * scene.lighting
    return Image.fromarray(np.clip(lit + 0.5, 0, 255).astype(np.uint8))


def render_product(scene: Scene, size: int = 64) -> Image.Image:
    """A 'product shot': the scene's objects drawn on plain white (used for LRVS-F and FashionIQ style images)."""
    scale = supersampling(size)
    side = size * scale
    canvas = Image.new("RGB", (side, side), (255, 255, 255))
    for obj in scene.objects:
        _draw_object(canvas, obj, side)
    return canvas.reduce(scale)


def encode_jpeg(image: Image.Image) -> bytes:
    """JPEG bytes at a fixed quality (deterministic for a given Pillow build)."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def encode_png(image: Image.Image) -> bytes:
    """PNG bytes (CIRR ships PNG images)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
