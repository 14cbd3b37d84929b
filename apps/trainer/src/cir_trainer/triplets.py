"""Triplets for the Combiner, mined from the synthetic world's ground-truth scene graphs with cir-data's miners.

Each training image's JSON carries its exact scene graph (objects with shape, colour, size and
texture; spatial relations). It is read into the two forms cir-data mines from:

- GeneCIS relation rows (``cir_data.mining.RelationMiner``, ``specs/genecis.md`` §8): subject =
  the object's look ("red striped circle"), relation, object = its shape; the condition is
  "relation shape", the target keeps the subject's look in another image;
- entities with attributes (``cir_data.attribute_mining.AttributeMiner``): head = shape,
  attributes = colour and texture; ``change_attribute`` (condition: the new value) and
  ``focus_attribute`` (condition: "color" or "texture").

No concreteness filter: every word of the world is a concrete noun or adjective.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cir_data.attribute_mining import AttributeMiner
from cir_data.mining import TRIPLET_COLUMNS, RelationMiner, RelationRows, write_triplets
from cir_data.shards import iter_samples, list_shards
from cir_data.synth.vocab import COLOURS, TEXTURES
from cir_trainer.cache import stage_folder

__all__ = ["MiningSpec", "ensure_triplets", "graph_records"]

# Attribute axes of the world, named as GeneCIS's focus conditions name them ("color").
WORLD_AXES = {"color": tuple(COLOURS), "texture": tuple(TEXTURES)}


@dataclass(frozen=True)
class MiningSpec:
    """How many triplets of each kind the default run mines (seeds 0..n-1 per kind)."""

    relation: int = 20000
    change_attribute: int = 20000
    focus_attribute: int = 20000
    min_images: int = 5


def _look(obj: dict[str, Any]) -> str:
    return f"{obj['colour']} {obj['texture']} {obj['shape']}"


def graph_records(shard_dir: Path) -> Iterator[dict[str, Any]]:
    """One record per training image: its key, GeneCIS-form relations and attribute entities."""
    for sample in iter_samples(list_shards(shard_dir), required=("json",)):
        graph = sample["json"]["scene_graph"]
        objects = graph["objects"]
        relations = [
            {
                "subject": _look(objects[r["subject"]]),
                "relation": r["relation"],
                "object": objects[r["object"]]["shape"],
            }
            for r in graph["relations"]
        ]
        entities = [{"head": o["shape"], "attributes": [o["colour"], o["texture"]]} for o in objects]
        yield {"key": sample["__key__"], "relations": relations, "graph": {"entities": entities}}


def _concat(tables: list[dict[str, list[Any]]]) -> dict[str, list[Any]]:
    return {name: [value for table in tables for value in table[name]] for name in TRIPLET_COLUMNS}


def ensure_triplets(cache: Path, world: Path, spec: MiningSpec, progress: bool = True) -> Path:
    """The cached triplet table (``triplets.parquet``) mined from ``world``'s shards as ``spec`` says."""
    settings = {**asdict(spec), "world": world.name}

    def build(out: Path) -> None:
        records = list(graph_records(world / "shards"))
        tables = []
        if spec.relation:
            miner = RelationMiner(RelationRows.from_records(records), min_images=spec.min_images, concreteness=None)
            tables.append(miner.mine(range(spec.relation), progress=progress))
        attributes = AttributeMiner(records, axes=WORLD_AXES)
        for kind in ("change_attribute", "focus_attribute"):
            count = getattr(spec, kind)
            if count:
                tables.append(attributes.mine(range(count), kind, progress=progress))
        write_triplets(_concat(tables), out / "triplets.parquet")

    return stage_folder(cache / "triplets", "triplets", settings, build) / "triplets.parquet"
