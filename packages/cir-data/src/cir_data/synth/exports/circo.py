"""CIRCO export (``specs/cir-benchmarks.md`` §3): several ground truths per query in a large unlabeled gallery.

Layout under ``<out>/CIRCO``: ``annotations/{val,test}.json`` (``id``, ``reference_img_id``, ``target_img_id``,
``relative_caption``, ``shared_concept``, ``gt_img_ids``, ``semantic_aspects``; test keeps only the first,
second, fourth and fifth), ``COCO2017_unlabeled/annotations/image_info_unlabeled2017.json`` and
``COCO2017_unlabeled/unlabeled2017/<12-digit id>.jpg``. A query is a predicate on scene graphs (the shared
concept plus the change); ``gt_img_ids`` lists every gallery image that satisfies it, the reference excluded,
with the image the caption was written for first. Filler images never satisfy any query.
Side file: ``scene_graphs.json`` (image id -> graph) and ``predicates.json`` (split -> query id -> predicate).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cir_data.synth.exports.common import ExportSettings, ImageJob, write_images, write_json, write_manifest
from cir_data.synth.scene import ObjectSpec, WorldConfig, compose_scene, random_spec, sample_scene, scene_rng
from cir_data.synth.vocab import CONTEXTS, values_of

ASPECTS = ("addition", "cardinality", "spatial_relations_background", "negation", "compare_change")
MAX_GROUND_TRUTHS = 23  # the most any official split has (SEARLE pads to it)
FILLERS_PER_QUERY = 20
Predicate = dict[str, Any]


def satisfies(graph: dict[str, Any], predicate: Predicate) -> bool:
    """Whether a scene graph meets a CIRCO-style query: its shared concept and its relative change.

    The concept is an object look (shape, colour, texture); conjunctions keep accidental matches rare, while
    every image that does match is listed as a ground truth.
    """
    shape, colour, aspect, value = predicate["shape"], predicate["colour"], predicate["aspect"], predicate["value"]
    texture = predicate["texture"]
    looks = _looks(graph)
    concept = looks.count((shape, colour, texture))
    if aspect == "addition":
        return concept > 0 and any(look[0] == value for look in looks)
    if aspect == "cardinality":
        return concept == 2
    if aspect == "spatial_relations_background":
        return concept > 0 and graph["context"] == value
    if aspect == "negation":
        return concept == 1 and len(looks) == 1
    if aspect == "compare_change":
        return (shape, value, texture) in looks and graph["context"] == predicate["context"]
    raise ValueError(f"unknown CIRCO aspect {aspect!r}; known: {ASPECTS}")


def _looks(graph: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(o["shape"], o["colour"], o["texture"]) for o in graph["objects"]]


def required_look(predicate: Predicate) -> tuple[str, str, str]:
    """The object look every image satisfying ``predicate`` must contain (used to index the gallery)."""
    colour = predicate["value"] if predicate["aspect"] == "compare_change" else predicate["colour"]
    return predicate["shape"], colour, predicate["texture"]


def _wording(rng: np.random.Generator, predicate: Predicate) -> tuple[str, str]:
    """(relative caption, shared concept) for a predicate."""
    shape, colour, aspect, value = predicate["shape"], predicate["colour"], predicate["aspect"], predicate["value"]
    options = {
        "addition": [f"also has a {value}", f"has a {value} next to it"],
        "cardinality": ["has two of them", "shows a pair of them"],
        "spatial_relations_background": [f"is at the {value}", f"is in a {value} instead"],
        "negation": ["is shown alone with nothing else", "has no other shapes around it"],
        "compare_change": [f"is {value} instead", f"is {value} rather than {colour}"],
    }[aspect]
    texture = "" if predicate["texture"] == "plain" else f"{predicate['texture']} "
    if aspect == "compare_change":
        concept = f"a {texture}{shape} at the {predicate['context']}"
    else:
        concept = f"a {colour} {texture}{shape}"
    return options[int(rng.integers(len(options)))], concept


def _others(rng: np.random.Generator, count: int, banned_shapes: set[str]) -> list[ObjectSpec]:
    return [
        random_spec(rng, shape=str(rng.choice([s for s in values_of("shape") if s not in banned_shapes])))
        for _ in range(count)
    ]


def _query(rng: np.random.Generator, config: WorldConfig) -> tuple[Predicate, tuple[str, list[ObjectSpec]]]:
    """A predicate and a reference scene description that does not satisfy it."""
    concept = random_spec(rng)
    aspect = str(rng.choice(list(ASPECTS)))
    value: str | None = None
    if aspect == "addition":
        value = str(rng.choice([s for s in values_of("shape") if s != concept.shape]))
    elif aspect == "spatial_relations_background":
        value = str(rng.choice(list(CONTEXTS)))
    elif aspect == "compare_change":
        value = str(rng.choice([c for c in values_of("colour") if c != concept.colour]))
    context = str(rng.choice([c for c in CONTEXTS if c != value]))
    predicate = {
        "shape": concept.shape,
        "colour": concept.colour,
        "texture": concept.texture,
        "aspect": aspect,
        "value": value,
        "context": context,
    }
    banned = {concept.shape} | ({value} if aspect == "addition" and value is not None else set())
    extra = int(rng.integers(1, max(2, config.max_objects)))
    return predicate, (context, [concept, *_others(rng, extra, banned)])


def _ground_truth(rng: np.random.Generator, predicate: Predicate, max_objects: int) -> tuple[str, list[ObjectSpec]]:
    """A scene description built to satisfy ``predicate``."""
    shape, colour, aspect, value = predicate["shape"], predicate["colour"], predicate["aspect"], predicate["value"]
    texture = predicate["texture"]
    context = {"spatial_relations_background": value, "compare_change": predicate["context"]}.get(
        aspect, str(rng.choice(list(CONTEXTS)))
    )
    if aspect == "negation":
        return context, [random_spec(rng, shape=shape, colour=colour, texture=texture)]
    core = [random_spec(rng, shape=shape, colour=value if aspect == "compare_change" else colour, texture=texture)]
    if aspect == "addition":
        core.append(random_spec(rng, shape=value))
    if aspect == "cardinality":
        core.append(random_spec(rng, shape=shape, colour=colour, texture=texture))
    extra = int(rng.integers(0, max(0, max_objects - len(core)) + 1))
    return context, core + _others(rng, extra, {shape} | ({value} if aspect == "addition" else set()))


def _key(predicate: Predicate) -> tuple[Any, ...]:
    return predicate["shape"], predicate["colour"], predicate["texture"], predicate["aspect"]


def export_circo(settings: ExportSettings) -> Path:
    """Write ``<out>/CIRCO``: val and test queries (``settings.queries`` each) over one shared gallery."""
    root = settings.out_dir / "CIRCO"
    config = settings.config
    scenes: list[Any] = []  # gallery scenes in creation order
    queries: dict[str, list[tuple[Predicate, int, list[int], str, str]]] = {}
    used: set[tuple[Any, ...]] = set()
    for split in ("val", "test"):
        queries[split] = []
        for qid in range(settings.queries):
            rng = scene_rng(settings.seed, qid, f"circo/{split}")
            predicate, ref_spec = _query(rng, config)
            while _key(predicate) in used:  # two queries asking the same thing would share all their images
                predicate, ref_spec = _query(rng, config)
            used.add(_key(predicate))
            ref_scene = compose_scene(rng, ref_spec[0], ref_spec[1], p_on=config.p_on)
            if satisfies(ref_scene.graph(settings.size), predicate):
                raise AssertionError(f"CIRCO {split} query {qid}: reference satisfies its own predicate")
            scenes.append(ref_scene)
            designed = []
            for _ in range(int(rng.integers(1, 7))):
                spec = _ground_truth(rng, predicate, config.max_objects)
                scenes.append(compose_scene(rng, spec[0], spec[1], p_on=config.p_on))
                designed.append(len(scenes) - 1)
            caption, concept = _wording(rng, predicate)
            queries[split].append((predicate, len(scenes) - len(designed) - 1, designed, caption, concept))
    by_look: dict[tuple[str, str, str], list[Predicate]] = {}
    for split_queries in queries.values():
        for query in split_queries:
            by_look.setdefault(required_look(query[0]), []).append(query[0])
    filler_rng = scene_rng(settings.seed, 0, "circo/fillers")
    for _ in range(FILLERS_PER_QUERY * len(used)):
        while True:
            scene = sample_scene(filler_rng, config)
            graph = scene.graph(settings.size)
            if not any(satisfies(graph, p) for look in _looks(graph) for p in by_look.get(look, ())):
                break
        scenes.append(scene)
    graphs = [scene.graph(settings.size) for scene in scenes]
    with_look: dict[tuple[str, str, str], list[int]] = {}
    for k, graph in enumerate(graphs):
        for look in sorted(set(_looks(graph))):
            with_look.setdefault(look, []).append(k)
    id_rng = scene_rng(settings.seed, 0, "circo/ids")
    image_ids = [int(i) + 1 for i in id_rng.choice(10**6, size=len(scenes), replace=False)]
    files: list[Path] = []
    counts: dict[str, int] = {"gallery_images": len(scenes)}
    for split, split_queries in queries.items():
        annotations = []
        for qid, (predicate, ref, designed, caption, concept) in enumerate(split_queries):
            holders = with_look.get(required_look(predicate), [])
            extra = [k for k in holders if k != ref and k not in designed and satisfies(graphs[k], predicate)]
            ground_truth = [image_ids[k] for k in designed + extra]
            if len(ground_truth) > MAX_GROUND_TRUTHS:
                raise AssertionError(f"CIRCO {split} query {qid}: {len(ground_truth)} ground truths")
            entry: dict[str, Any] = {
                "id": qid,
                "reference_img_id": image_ids[ref],
                "target_img_id": ground_truth[0],
                "relative_caption": caption,
                "shared_concept": concept,
                "gt_img_ids": ground_truth,
                "semantic_aspects": [predicate["aspect"]],
            }
            if split == "test":  # the public test file carries no ground truth
                entry = {k: entry[k] for k in ("id", "reference_img_id", "relative_caption", "shared_concept")}
            annotations.append(entry)
        files.append(write_json(root / "annotations" / f"{split}.json", annotations))
        counts[f"{split}_queries"] = len(annotations)
    gallery_dir = "COCO2017_unlabeled/unlabeled2017"
    info = {
        "info": {"description": "cir synthetic world, COCO unlabeled2017 layout", "version": "1.0"},
        "licenses": [],
        "images": [
            {"id": i, "file_name": f"{i:012d}.jpg", "width": settings.size, "height": settings.size} for i in image_ids
        ],
    }
    files.append(write_json(root / "COCO2017_unlabeled/annotations/image_info_unlabeled2017.json", info))
    files.append(write_json(root / "scene_graphs.json", {str(i): g for i, g in zip(image_ids, graphs, strict=True)}))
    files.append(write_json(root / "predicates.json", {s: [q[0] for q in qs] for s, qs in queries.items()}))
    jobs = [
        ImageJob(f"{gallery_dir}/{i:012d}.jpg", scene, settings.size)
        for i, scene in zip(image_ids, scenes, strict=True)
    ]
    write_images(jobs, root, settings, "circo images")
    write_manifest(root, "circo", settings, counts, files)
    return root
