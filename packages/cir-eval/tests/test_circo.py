"""CIRCO: mAP@K dividing by min(K, #GT), recall on target_img_id, the test submission file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cir_eval
from cir_eval.errors import AnnotationError

COLORS = {10: (255, 0, 0), 11: (0, 0, 255), 12: (0, 255, 0), 13: (0, 255, 255), 14: (255, 0, 255), 15: (255, 255, 255)}


def _write(root: Path, make_image, make_json, split: str = "val") -> None:  # type: ignore[no-untyped-def]
    base = root / "COCO2017_unlabeled"
    for image_id, color in COLORS.items():
        make_image(base / "unlabeled2017" / f"{image_id:012d}.jpg", color)
    images = [{"id": i, "file_name": f"{i:012d}.jpg"} for i in COLORS]
    make_json(base / "annotations" / "image_info_unlabeled2017.json", {"images": images})
    queries = [
        {
            "id": 0,
            "reference_img_id": 10,
            "relative_caption": "to blue",
            "shared_concept": "a thing",
            "target_img_id": 11,
            "gt_img_ids": [11, 13, 15],
        },
        {
            "id": 1,
            "reference_img_id": 12,
            "relative_caption": "",
            "shared_concept": "a thing",
            "target_img_id": 14,
            "gt_img_ids": [14],
        },
    ]
    if split == "test":
        for q in queries:
            del q["target_img_id"], q["gt_img_ids"]
    make_json(root / "annotations" / f"{split}.json", queries)


def test_circo_val_hand_computed(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, make_image, make_json)
    scores = cir_eval.evaluate("circo", color_encoder, tmp_path, task="val", progress=False)
    # q0 ranking 11, 14, 15, 13, 10, 12 -> rel 1 0 1 1: AP = (1 + 2/3 + 3/4) / min(K, 3) for every K
    # q1 ranking 12, 13, 15, 10, 11, 14 -> its one GT at rank 6: AP@5 = 0, AP@K>=6 = (1/6) / 1
    ap0 = (1 + 2 / 3 + 3 / 4) / 3
    assert scores["map@5"] == pytest.approx(100 * ap0 / 2)
    for k in (10, 25, 50):
        assert scores[f"map@{k}"] == pytest.approx(100 * (ap0 + 1 / 6) / 2)
    assert scores["recall@5"] == pytest.approx(50.0)
    assert scores["recall@10"] == pytest.approx(100.0)


def test_circo_test_submission(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, make_image, make_json, split="test")
    results = cir_eval.run_benchmark(
        "circo", color_encoder, tmp_path, tasks=["test"], out_dir=str(tmp_path / "o"), progress=False
    )
    submission = json.loads(Path(results["test"].files[0]).read_text())
    assert submission == {"0": [11, 14, 15, 13, 10, 12], "1": [12, 13, 15, 10, 11, 14]}


def test_circo_malformed_ground_truth(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, make_image, make_json)
    path = tmp_path / "annotations" / "val.json"
    queries = json.loads(path.read_text())
    queries[1]["gt_img_ids"] = "14"
    path.write_text(json.dumps(queries))
    with pytest.raises(AnnotationError, match=r"val.json, entry 1, field 'gt_img_ids'"):
        cir_eval.evaluate("circo", color_encoder, tmp_path, task="val", progress=False)
