"""The synthetic world: training shards and a GeneCIS export (the default run), and the exports recipes train on.

Everything is generated once and cached under a hash of its settings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from cir_data.synth import GENERATOR_VERSION, ExportSettings, WorldConfig, iter_items, run_export, write_shards
from cir_trainer.cache import stage_folder

__all__ = ["RECIPE_EXPORTS", "WorldSpec", "ensure_export", "ensure_world"]


@dataclass(frozen=True)
class WorldSpec:
    """What the default run generates: training images (their objects per scene) and GeneCIS templates."""

    images: int = 6000
    size: int = 64
    seed: int = 0
    queries: int = 200  # templates per GeneCIS task
    min_objects: int = 1
    max_objects: int = 4
    processes: int = 2


def ensure_world(cache: Path, spec: WorldSpec, progress: bool = True) -> Path:
    """The cached world folder for ``spec`` (``shards/`` and ``genecis/``), generating it if needed."""
    settings = {**asdict(spec), "generator": GENERATOR_VERSION}
    settings.pop("processes")

    def build(out: Path) -> None:
        train_world = WorldConfig(min_objects=spec.min_objects, max_objects=spec.max_objects)
        items = iter_items(spec.seed, range(spec.images), spec.size, train_world, processes=spec.processes)
        write_shards(items, out / "shards", spec.images, spec.seed, progress=progress)
        # The benchmark keeps the world's default difficulty whatever the training scenes look like.
        export = ExportSettings(out, seed=spec.seed, size=spec.size, processes=spec.processes,
                                progress=progress, queries=spec.queries)
        run_export("genecis", export)

    return stage_folder(cache / "synth", "world", settings, build)


# Recipe -> the synthetic benchmark export it trains on when ``data.root`` is empty (the others: the world's shards).
RECIPE_EXPORTS = {"condvit": "lrvsf", "universal": "uned"}
# Products (LRVS-F) or the class budget (UnED) of those exports: enough for the tiny recipes' few hundred samples.
RECIPE_EXPORT_QUERIES = 100


def ensure_export(cache: Path, name: str, spec: WorldSpec, progress: bool = True) -> Path:
    """The cached synthetic export ``name`` (``lrvsf``, ``uned``, ...) on the world's seed and image size."""
    settings = {"export": name, "seed": spec.seed, "size": spec.size, "queries": RECIPE_EXPORT_QUERIES,
                "generator": GENERATOR_VERSION}

    def build(out: Path) -> None:
        run_export(name, ExportSettings(out, seed=spec.seed, size=spec.size, processes=spec.processes,
                                        progress=progress, queries=RECIPE_EXPORT_QUERIES))

    return stage_folder(cache / "synth", name, settings, build) / name
