"""GeneCIS export: read back as the spec's loaders read it (specs/genecis.md §1–2), then scored by the oracles."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cir_data.synth.exports import ExportSettings, run_export
from cir_data.synth.oracles import ORACLES, load_genecis, oracle_scores
from cir_data.synth.scene import WorldConfig

QUERIES = 60
CANDIDATES = {"focus_attribute": 10, "change_attribute": 10, "focus_object": 15, "change_object": 15}


def recall_at_1(scores: np.ndarray) -> float:
    """Expected R@1 with the target in column 0 and ties broken uniformly at random."""
    best = scores.max(axis=1)
    tied = (scores == best[:, None]).sum(axis=1)
    return float(np.mean((scores[:, 0] == best) / tied))


@pytest.fixture(scope="module")
def genecis_root(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("genecis")
    return run_export("genecis", ExportSettings(out, seed=11, queries=QUERIES, progress=False))


def _crop_box(bbox, width, height):
    """The official loader's crop (specs/genecis.md §2.2): 0.7 dilation toward the top-left, then clamps."""
    x, y, w, h = bbox
    left, top = max(0, x - 0.7 * w), max(0, y - 0.7 * h)
    return left, top, min(width, left + 1.7 * w), min(height, top + 1.7 * h)


@pytest.mark.parametrize("task", list(CANDIDATES))
def test_layout_matches_official_files(genecis_root, task):
    templates = json.loads((genecis_root / f"{task}.json").read_text())
    assert isinstance(templates, list) and len(templates) == QUERIES
    for t in templates:
        assert set(t) == {"condition", "gallery", "reference", "target"}
        assert isinstance(t["condition"], str) and t["condition"]
        assert 1 + len(t["gallery"]) == CANDIDATES[task]
        entries = [t["reference"], t["target"], *t["gallery"]]
        if task.endswith("object"):
            ids = [e["val_image_id"] for e in entries]
            assert all(set(e) == {"val_image_id"} and isinstance(e["val_image_id"], int) for e in entries)
            assert len(set(ids)) == len(ids)  # reference and target never in the gallery, no duplicates
            for image_id in ids:
                assert Image.open(genecis_root / "val2017" / f"{image_id:012d}.jpg").size == (64, 64)
        else:
            assert len({e["image_id"] for e in entries}) == len(entries)
            for e in entries:
                assert isinstance(e["image_id"], str)
                image = Image.open(genecis_root / "VG_100K_all" / f"{e['image_id']}.jpg")
                left, top, right, bottom = _crop_box(e["instance_bbox"], *image.size)
                assert 0 <= left < right <= image.size[0] and 0 <= top < bottom <= image.size[1]


def test_object_tasks_share_references(genecis_root):
    focus = json.loads((genecis_root / "focus_object.json").read_text())
    change = json.loads((genecis_root / "change_object.json").read_text())
    assert [t["reference"] for t in focus] == [t["reference"] for t in change]


def test_manifest_hashes_annotation_files(genecis_root):
    manifest = json.loads((genecis_root / "manifest.json").read_text())
    assert manifest["seed"] == 11 and manifest["counts"]["focus_object"] == QUERIES
    for name, digest in manifest["annotation_sha256"].items():
        assert hashlib.sha256((genecis_root / name).read_bytes()).hexdigest() == digest
    assert {f"{task}.json" for task in CANDIDATES} <= set(manifest["annotation_sha256"])


# The highest R@1 each shortcut may reach. Near chance, except where the condition is a conjunction a shortcut
# half sees: change_object's target needs the reference's backdrop AND the new shape, so a backdrop-heavy image
# match ties only with the look-alike half of the hard distractors, a text match only with the word-alike half
# (expected R@1 = E[1 / (1 + Binomial(14, 1/2))] = 0.133).
CONJUNCTION_BOUND = 0.2
SHORTCUT_BOUNDS = {
    (shortcut, task): 1.0 / n + 0.03
    for shortcut in ("image_only", "image_only_backdrop", "text_only")
    for task, n in CANDIDATES.items()
} | {("image_only_backdrop", "change_object"): CONJUNCTION_BOUND, ("text_only", "change_object"): CONJUNCTION_BOUND}


@pytest.mark.parametrize("task", list(CANDIDATES))
def test_condition_oracle_is_perfect(genecis_root, task):
    tasks, graphs = load_genecis(genecis_root)
    assert recall_at_1(oracle_scores("condition", task, tasks[task], graphs)) == 1.0


@pytest.mark.parametrize(("shortcut", "task"), sorted(SHORTCUT_BOUNDS))
def test_shortcuts_stay_near_chance(genecis_root, shortcut, task):
    # image_only_backdrop stands for a learned image embedding, where the backdrop outweighs everything else.
    tasks, graphs = load_genecis(genecis_root)
    assert recall_at_1(oracle_scores(shortcut, task, tasks[task], graphs)) <= SHORTCUT_BOUNDS[shortcut, task]


@pytest.mark.parametrize("task", list(CANDIDATES))
def test_equal_weight_shortcuts_are_at_chance(genecis_root, task):
    tasks, graphs = load_genecis(genecis_root)
    chance = 1.0 / CANDIDATES[task]
    assert abs(recall_at_1(oracle_scores("image_only", task, tasks[task], graphs)) - chance) < 0.03


def test_easy_distractors_let_shortcuts_win(tmp_path):
    settings = ExportSettings(tmp_path, seed=2, queries=40, progress=False, config=WorldConfig(distractor_hardness=0.0))
    tasks, graphs = load_genecis(run_export("genecis", settings))
    assert recall_at_1(oracle_scores("condition", "change_attribute", tasks["change_attribute"], graphs)) == 1.0
    assert recall_at_1(oracle_scores("text_only", "change_attribute", tasks["change_attribute"], graphs)) > 0.5
    # random galleries share the reference's backdrop only by chance, so the image-only match finds the target
    assert recall_at_1(oracle_scores("image_only", "focus_object", tasks["focus_object"], graphs)) > 3 / 15


def test_unknown_oracle_is_named():
    assert set(ORACLES) == {"condition", "image_only", "image_only_backdrop", "text_only"}
    with pytest.raises(KeyError, match="unknown oracle"):
        oracle_scores("clip", "focus_object", [], {})
