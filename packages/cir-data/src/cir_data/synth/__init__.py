"""The synthetic world: seeded scenes of coloured shapes, their captions and scene graphs, training shards in
img2dataset's layout, exports into the official layouts of GeneCIS, CIRR, FashionIQ, CIRCO, LRVS-F and UnED, and
ground-truth oracles for tests.

Example::

    from pathlib import Path
    from cir_data.synth import ExportSettings, iter_items, run_export, write_shards

    write_shards(iter_items(seed=0, indices=range(1000)), "out/shards", total=1000, seed=0)
    run_export("genecis", ExportSettings(Path("out"), seed=0, queries=100))
"""

from __future__ import annotations

from cir_data.synth.captions import caption_scene
from cir_data.synth.exports import EXPORTS, ExportSettings, list_exports, run_export
from cir_data.synth.oracles import ORACLES, load_genecis, oracle_scores
from cir_data.synth.render import encode_jpeg, render_product, render_scene
from cir_data.synth.scene import (
    ObjectSpec,
    Relation,
    Scene,
    SceneObject,
    WorldConfig,
    compose_scene,
    product_scene,
    random_spec,
    sample_scene,
    scene_rng,
)
from cir_data.synth.training_shards import ShardSummary, sample_key, write_shards
from cir_data.synth.vocab import GENERATOR_VERSION
from cir_data.synth.world import WorldItem, iter_items, make_item, world_scene

__all__ = [
    "EXPORTS",
    "GENERATOR_VERSION",
    "ORACLES",
    "ExportSettings",
    "ObjectSpec",
    "Relation",
    "Scene",
    "SceneObject",
    "ShardSummary",
    "WorldConfig",
    "WorldItem",
    "caption_scene",
    "compose_scene",
    "encode_jpeg",
    "iter_items",
    "list_exports",
    "load_genecis",
    "make_item",
    "oracle_scores",
    "product_scene",
    "random_spec",
    "render_product",
    "render_scene",
    "run_export",
    "sample_key",
    "sample_scene",
    "scene_rng",
    "world_scene",
    "write_shards",
]
