"""What every export shares: its settings, deterministic JSON, parallel image writing and the manifest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, NamedTuple

from tqdm import tqdm

from cir_data.synth.render import encode_jpeg, encode_png, render_product, render_scene
from cir_data.synth.scene import Scene, WorldConfig
from cir_data.synth.vocab import GENERATOR_VERSION


@dataclass(frozen=True)
class ExportSettings:
    """Where and how an export writes: output root, seed, image size, world knobs, workers, progress bars."""

    out_dir: Path
    seed: int = 0
    size: int = 64
    config: WorldConfig = field(default_factory=WorldConfig)
    processes: int = 1
    progress: bool = True
    queries: int = 100
    gallery: int | None = None  # GeneCIS: keep only the first N gallery entries (training sets); None: full size


class ImageJob(NamedTuple):
    """One image to write: path relative to the export folder, the scene, pixel side, style and file format."""

    path: str
    scene: Scene
    size: int
    style: str = "scene"
    fmt: str = "jpg"


def encode_image(job: ImageJob) -> bytes:
    """Render and encode one job (a top-level function so worker processes can run it)."""
    image = render_scene(job.scene, job.size) if job.style == "scene" else render_product(job.scene, job.size)
    return encode_png(image) if job.fmt == "png" else encode_jpeg(image)


def write_images(jobs: list[ImageJob], root: Path, settings: ExportSettings, desc: str) -> None:
    """Render ``jobs`` (in parallel when ``settings.processes`` > 1) and write them under ``root``."""
    for folder in sorted({(root / job.path).parent for job in jobs}):
        folder.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=len(jobs), desc=desc, unit="img", disable=not settings.progress)
    if settings.processes <= 1:
        encoded: Iterable[bytes] = map(encode_image, jobs)
        for job, payload in zip(jobs, encoded, strict=True):
            (root / job.path).write_bytes(payload)
            bar.update()
    else:
        with get_context("spawn").Pool(settings.processes) as pool:
            for job, payload in zip(jobs, pool.imap(encode_image, jobs, chunksize=16), strict=True):
                (root / job.path).write_bytes(payload)
                bar.update()
    bar.close()


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as JSON with a fixed layout, so the same data always gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=True) + "\n", encoding="utf-8")
    return path


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(
    export_dir: Path, name: str, settings: ExportSettings, counts: dict[str, int], annotation_files: list[Path]
) -> Path:
    """``manifest.json``: benchmark name, counts, seed, generator version, knobs and the annotation files' sha256."""
    manifest = {
        "benchmark": name,
        "generator": "cir_data.synth",
        "generator_version": GENERATOR_VERSION,
        "seed": settings.seed,
        "image_size": settings.size,
        "knobs": asdict(settings.config),
        "counts": counts,
        "annotation_sha256": {
            path.relative_to(export_dir).as_posix(): sha256_file(path) for path in sorted(annotation_files)
        },
    }
    return write_json(export_dir / "manifest.json", manifest)
