"""Image references: what to decode, an identity key for de-duplication and caching, and who asked.

A benchmark describes every image it needs as an :class:`ImageRef`; the embedding stage decodes
each distinct key once. Paths from annotations never leave the data root.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path

from PIL import Image

from cir_eval.errors import BenchmarkDataError

__all__ = ["ImageRef", "file_image", "forget_resolved_paths", "genecis_crop_box", "pad_to_square", "resolve_inside"]


@dataclass(frozen=True)
class ImageRef:
    """One image to decode: ``key`` is its identity (path + transform); ``origin`` names who wanted it."""

    key: str
    load: Callable[[], Image.Image] = field(compare=False, hash=False, repr=False)
    origin: str = field(default="", compare=False, hash=False)
    path: Path | None = field(default=None, compare=False, hash=False)

    def fingerprint(self) -> str:
        """Return the key plus the file's size and mtime (for the disk cache; stale files miss)."""
        if self.path is None:
            return self.key
        try:
            stat = self.path.stat()
        except OSError:
            return self.key
        return f"{self.key}|{stat.st_size}|{stat.st_mtime_ns}"


def resolve_inside(root: Path, relative: str, origin: str) -> Path:
    """Return ``root / relative`` resolved, refusing a path that escapes ``root`` (``..``, absolute, symlink).

    Annotation files name the same images many times (GeneCIS: ~20 references per image), and
    ``Path.resolve`` costs an ``lstat`` per path component, so each root and each (root, path) pair is
    resolved once per process and remembered: a symlink changed after its first use is not seen again.
    """
    resolved_root = _resolved_root(root, "" if root.is_absolute() else os.getcwd())
    path = _resolved_under(resolved_root, relative)
    if path is None:
        raise BenchmarkDataError(f"{origin}: image path {relative!r} points outside the data root {resolved_root}")
    return path


def forget_resolved_paths() -> None:
    """Drop the remembered root and path resolutions (after moving files or symlinks in a long-lived process)."""
    _resolved_root.cache_clear()
    _resolved_under.cache_clear()


@lru_cache(maxsize=1024)
def _resolved_root(root: Path, cwd: str) -> Path:
    """The data root with symlinks resolved; a relative root is keyed by the working directory too."""
    return Path(cwd, root).resolve()


@lru_cache(maxsize=1 << 20)
def _resolved_under(root: Path, relative: str) -> Path | None:
    """``root / relative`` resolved, or None when it lands outside the (already resolved) ``root``."""
    path = (root / relative).resolve()
    return path if path == root or root in path.parents else None


def pad_to_square(image: Image.Image, fill: int = 0) -> Image.Image:
    """Return ``image`` pasted on a square canvas of its longer side, offset by Δ//2 (GeneCIS ``expand2square``)."""
    width, height = image.size
    if width == height:
        return image
    side = max(width, height)
    canvas = Image.new(image.mode, (side, side), (fill,) * len(image.getbands()))
    canvas.paste(image, (0, (width - height) // 2) if width > height else ((height - width) // 2, 0))
    return canvas


def genecis_crop_box(
    bbox: tuple[float, float, float, float], size: tuple[int, int], dilation: float = 0.7
) -> tuple[float, float, float, float]:
    """Return the GeneCIS VAW crop box (left, top, right, bottom) for ``bbox`` = (x, y, w, h).

    The quirk is reproduced on purpose (``specs/genecis.md`` §2.2): right and bottom are measured from
    the *already shifted* left/top edge, so the box grows by 0.7·w and 0.7·h toward the top-left only.
    The float box goes to ``Image.crop``, which rounds each edge with Python ``round()``.
    """
    x, y, w, h = bbox
    width, height = size
    left = max(0.0, x - dilation * w)
    top = max(0.0, y - dilation * h)
    right = min(float(width), left + (1.0 + dilation) * w)
    bottom = min(float(height), top + (1.0 + dilation) * h)
    return left, top, right, bottom


def _open_rgb(path: Path, origin: str) -> Image.Image:
    if not path.is_file():
        raise FileNotFoundError(f"missing image {path} (wanted by {origin})")
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except OSError as err:
        raise BenchmarkDataError(f"cannot decode image {path} (wanted by {origin}): {err}") from err


def _load_file(path: Path, origin: str, bbox: tuple[float, float, float, float] | None, pad: int | None) -> Image.Image:
    image = _open_rgb(path, origin)
    if bbox is not None:
        image = image.crop(genecis_crop_box(bbox, image.size))
    if pad is not None:
        image = pad_to_square(image, fill=pad)
    return image


def file_image(
    root: Path,
    relative: str,
    origin: str,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    pad: int | None = None,
) -> ImageRef:
    """Return a reference to ``root/relative`` (kept inside ``root``), optionally GeneCIS-cropped and padded."""
    path = resolve_inside(root, relative, origin)
    key = str(path)
    if bbox is not None:
        key += "|genecis_crop=" + ",".join(repr(float(v)) for v in bbox)
    if pad is not None:
        key += f"|pad={pad}"
    return ImageRef(key=key, load=partial(_load_file, path, origin, bbox, pad), origin=origin, path=path)
