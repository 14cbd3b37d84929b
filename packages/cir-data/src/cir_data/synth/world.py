"""One item of the world by (seed, index): its scene, image bytes, captions and scene graph, computed independently."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from cir_data.synth.captions import caption_scene
from cir_data.synth.render import encode_jpeg, render_scene
from cir_data.synth.scene import DEFAULT_WORLD, Scene, WorldConfig, sample_scene, scene_rng


@dataclass(frozen=True)
class WorldItem:
    """A rendered training item: JPEG bytes, at least three captions, and the ground-truth scene graph."""

    index: int
    jpeg: bytes
    captions: list[str]
    graph: dict[str, Any]
    size: int

    @property
    def sha256(self) -> str:
        """Hex digest of the JPEG bytes."""
        return hashlib.sha256(self.jpeg).hexdigest()


def world_scene(seed: int, index: int, config: WorldConfig = DEFAULT_WORLD) -> Scene:
    """Scene number ``index`` of the world under ``seed``."""
    return sample_scene(scene_rng(seed, index, "world"), config)


def make_item(seed: int, index: int, size: int = 64, config: WorldConfig = DEFAULT_WORLD) -> WorldItem:
    """Item ``index`` of the world under ``seed``: same arguments, same bytes, in any process and any order."""
    scene = world_scene(seed, index, config)
    captions = caption_scene(scene, scene_rng(seed, index, "captions"), count=3, noise=config.caption_noise)
    return WorldItem(index, encode_jpeg(render_scene(scene, size)), captions, scene.graph(size), size)


def _make_item_packed(job: tuple[int, int, int, WorldConfig]) -> WorldItem:
    return make_item(*job)


def iter_items(
    seed: int,
    indices: range,
    size: int = 64,
    config: WorldConfig = DEFAULT_WORLD,
    processes: int = 1,
    block: int = 2048,
) -> Iterator[WorldItem]:
    """Items for ``indices`` in order, rendered by ``processes`` workers; at most ``block`` items are in flight."""
    if processes <= 1:
        for index in indices:
            yield make_item(seed, index, size, config)
        return
    with get_context("spawn").Pool(processes) as pool:
        for start in range(0, len(indices), block):
            jobs = [(seed, index, size, config) for index in indices[start : start + block]]
            yield from pool.imap(_make_item_packed, jobs, chunksize=32)
