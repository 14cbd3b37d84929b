"""CIRR, FashionIQ, CIRCO, LRVS-F and UnED exports, read back the way the specs' loaders read them."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from cir_data.synth.exports import ExportSettings, list_exports, run_export
from cir_data.synth.exports.circo import satisfies
from cir_data.synth.exports.edits import apply_edit
from cir_data.synth.scene import ObjectSpec

QUERIES = 12


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("exports")
    settings = ExportSettings(root, seed=5, queries=QUERIES, progress=False)
    for name in ("cirr", "fashioniq", "circo", "lrvsf", "uned"):
        run_export(name, settings)
    return root


def _load(path: Path):
    return json.loads(path.read_text())


def _specs(graph) -> tuple[str, tuple[ObjectSpec, ...]]:
    return graph["context"], tuple(
        ObjectSpec(o["shape"], o["colour"], o["size"], o["texture"]) for o in graph["objects"]
    )


def _canonical(scene):
    return scene[0], sorted(scene[1])


@pytest.mark.parametrize("name", ["cirr", "fashioniq", "CIRCO", "lrvsf", "uned"])
def test_manifests_hash_their_annotation_files(out, name):
    manifest = _load(out / name / "manifest.json")
    assert manifest["seed"] == 5 and manifest["generator_version"]
    assert manifest["annotation_sha256"]
    for rel, digest in manifest["annotation_sha256"].items():
        assert hashlib.sha256((out / name / rel).read_bytes()).hexdigest() == digest


def test_registry_lists_every_export():
    assert list_exports() == sorted(["genecis", "cirr", "fashioniq", "circo", "lrvsf", "uned"])


def test_cirr_layout_and_ground_truth(out):
    root = out / "cirr"
    graphs = _load(root / "scene_graphs.json")
    for split in ("train", "val", "test1"):
        captions = _load(root / "cirr/captions" / f"cap.rc2.{split}.json")
        images = _load(root / "cirr/image_splits" / f"split.rc2.{split}.json")
        edits = _load(root / f"edits.rc2.{split}.json")
        for name, rel in images.items():
            assert rel.startswith("./") and rel.endswith(f"/{name}.png") and (root / rel).is_file()
        for entry in captions:
            members = entry["img_set"]["members"]
            assert len(members) == 6 and set(members) <= set(images)
            assert members[entry["img_set"]["reference_rank"]] == entry["reference"]
            if split == "test1":
                assert "target_hard" not in entry and "target_soft" not in entry
                assert "target_rank" not in entry["img_set"]
                continue
            target = entry["target_hard"]
            assert members[entry["img_set"]["target_rank"]] == target and entry["target_soft"] == {target: 1.0}
            expected = apply_edit(_specs(graphs[entry["reference"]]), edits[str(entry["pairid"])])
            assert _canonical(_specs(graphs[target])) == _canonical(expected)
            # Recall_subset is well posed: no other member is the edited reference
            others = [m for m in members if m not in (entry["reference"], target)]
            assert all(_canonical(_specs(graphs[m])) != _canonical(expected) for m in others)
    assert len(_load(root / "cirr/captions/cap.rc2.val.json")) == QUERIES


def test_fashioniq_layout_and_ground_truth(out):
    root = out / "fashioniq"
    products = _load(root / "products.json")
    for category in ("dress", "shirt", "toptee"):
        for split in ("train", "val", "test"):
            gallery = _load(root / "image_splits" / f"split.{category}.{split}.json")
            assert all(isinstance(a, str) and len(a) == 10 for a in gallery)
            looks = [tuple(products[a][k] for k in ("shape", "colour", "texture")) for a in gallery]
            assert len(set(looks)) == len(looks)  # the target is the only product with its look
            for entry in _load(root / "captions" / f"cap.{category}.{split}.json"):
                assert len(entry["captions"]) == 2 and all(entry["captions"])
                assert entry["candidate"] in gallery
                if split == "test":
                    assert set(entry) == {"candidate", "captions"}
                    continue
                assert entry["target"] in gallery and entry["target"] != entry["candidate"]
                ref, tgt = products[entry["candidate"]], products[entry["target"]]
                text = " ".join(entry["captions"])
                if ref["colour"] != tgt["colour"]:
                    assert tgt["colour"] in text
                if ref["shape"] != tgt["shape"]:
                    assert tgt["shape"] in text
        image = Image.open(root / "images" / f"{gallery[0]}.jpg")
        assert image.size == (64, 64) and image.getpixel((0, 0))[0] > 240  # white product background


def test_circo_layout_and_ground_truth(out):
    root = out / "CIRCO"
    info = _load(root / "COCO2017_unlabeled/annotations/image_info_unlabeled2017.json")
    gallery = [image["id"] for image in info["images"]]
    assert len(gallery) == len(set(gallery)) > 10 * QUERIES
    for image in info["images"][:5]:
        assert (root / "COCO2017_unlabeled/unlabeled2017" / image["file_name"]).is_file()
    graphs = _load(root / "scene_graphs.json")
    predicates = _load(root / "predicates.json")
    val = _load(root / "annotations/val.json")
    assert [q["id"] for q in val] == list(range(QUERIES))
    for query, predicate in zip(val, predicates["val"], strict=True):
        assert query["target_img_id"] == query["gt_img_ids"][0]
        assert query["reference_img_id"] not in query["gt_img_ids"] and query["shared_concept"]
        matching = {i for i in gallery if satisfies(graphs[str(i)], predicate)} - {query["reference_img_id"]}
        assert set(query["gt_img_ids"]) == matching  # every satisfying image, nothing else
        assert query["semantic_aspects"] == [predicate["aspect"]]
    test = _load(root / "annotations/test.json")
    assert all(set(q) == {"id", "reference_img_id", "relative_caption", "shared_concept"} for q in test)


def test_lrvsf_layout_and_ground_truth(out):
    pq = pytest.importorskip("pyarrow.parquet")
    root = out / "lrvsf"
    products = pq.read_table(root / "data/products.parquet").to_pylist()
    side = _load(root / "products.json")
    categories = {
        "Bags": "circle",
        "Feet": "crescent",
        "Hands": "star",
        "Head": "triangle",
        "Lower Body": "square",
        "Neck": "heart",
        "Outwear": "hexagon",
        "Upper Body": "pentagon",
        "Waist": "cross",
        "Whole Body": "diamond",
    }
    looks = set()
    for row in products:
        look = tuple(side[row["PRODUCT_ID"]]["look"])
        graph = side[row["PRODUCT_ID"]]["complex_graph"]
        assert categories[row["CATEGORY"]] == look[0]
        # the complex scene holds the product, and exactly one object of the conditioning category
        assert [o["shape"] for o in graph["objects"]].count(look[0]) == 1
        assert look in {(o["shape"], o["colour"], o["texture"]) for o in graph["objects"]}
        assert Image.open(io.BytesIO(row["SIMPLE_IMG"])).size == Image.open(io.BytesIO(row["COMPLEX_IMG"])).size
        looks.add(look)
    assert len(looks) == len(products) == QUERIES
    manifest = _load(root / "manifest.json")
    sizes = [pq.read_table(p).num_rows for p in sorted((root / "data/distractors").glob("*.parquet"))]
    running = [sum(sizes[: k + 1]) for k in range(len(sizes))]
    assert running == [manifest["counts"][f"level_{k}"] for k in range(len(sizes))]
    distractors = _load(root / "distractors.json")
    assert not looks & {tuple(v) for v in distractors.values()}


def test_uned_layout_and_ground_truth(out):
    root = out / "uned"
    classes = _load(root / "classes.json")
    assert list(classes) == ["cars", "sop", "inshop", "inat", "met", "gldv2", "food2k", "rp2k"]
    for domain in classes:
        splits = {p.stem: _load(p) for p in (root / "info_files" / domain).glob("*.json")}
        assert {"train", "val", "test"} <= set(splits)
        for entries in splits.values():
            for e in entries:
                assert isinstance(e["class_id"], int) and (root / "data/images" / e["path"]).is_file()
        train = {e["class_id"] for e in splits["train"]}
        test = {e["class_id"] for e in splits["test"]}
        assert (train.isdisjoint(test)) == (domain in ("cars", "sop", "inshop"))
        index = splits.get("index", splits["test"])
        assert test <= {e["class_id"] for e in index}  # every query has positives in its index
    met = {p.stem: _load(p) for p in (root / "info_files/met").glob("*.json")}
    assert met["index"] == met["train"] and met["small_index"] == met["small_train"]
    assert {e["class_id"] for e in met["val"]} <= {e["class_id"] for e in met["small_index"]}
