"""CIRR on a tiny fixture in the official layout: reference removal, subset recall, test submissions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cir_eval
from cir_eval.errors import BenchmarkDataError

COLORS = {
    "dev-0-img0": (255, 0, 0),
    "dev-0-img1": (0, 0, 255),
    "dev-1-img0": (0, 255, 0),
    "dev-1-img1": (255, 255, 0),
    "dev-2-img0": (0, 255, 255),
    "dev-2-img1": (255, 0, 255),
    "dev-3-img0": (255, 255, 255),
}


def _write(root: Path, make_image, make_json, split: str = "val", labelled: bool = True) -> None:  # type: ignore[no-untyped-def]
    folder = "dev" if split == "val" else split
    names = {n.replace("dev", folder): c for n, c in COLORS.items()}
    for name, color in names.items():
        make_image(root / folder / f"{name}.png", color)
    make_json(root / "cirr" / "image_splits" / f"split.rc2.{split}.json", {n: f"./{folder}/{n}.png" for n in names})
    p = folder
    queries = [
        {
            "pairid": 7,
            "reference": f"{p}-0-img0",
            "caption": "",
            "target_hard": f"{p}-0-img1",
            "img_set": {
                "members": [f"{p}-0-img0", f"{p}-0-img1", f"{p}-1-img0", f"{p}-1-img1", f"{p}-2-img0", f"{p}-3-img0"]
            },
        },
        {
            "pairid": 9,
            "reference": f"{p}-1-img0",
            "caption": "to blue",
            "target_hard": f"{p}-0-img1",
            "img_set": {
                "members": [f"{p}-1-img0", f"{p}-0-img1", f"{p}-0-img0", f"{p}-1-img1", f"{p}-2-img0", f"{p}-2-img1"]
            },
        },
    ]
    if not labelled:
        for q in queries:
            del q["target_hard"]
    make_json(root / "cirr" / "captions" / f"cap.rc2.{split}.json", queries)


def test_cirr_val_hand_computed(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, make_image, make_json)
    scores = cir_eval.evaluate("cirr", color_encoder, tmp_path, task="val", progress=False)
    # query 7 (red, reference removed): yellow .707, magenta .707, white .577, blue 0 (idx 1) ... -> target 4th
    # query 9 (green + "to blue"): blue first
    assert scores == pytest.approx(
        {
            "recall@1": 50.0,
            "recall@5": 100.0,
            "recall@10": 100.0,
            "recall@50": 100.0,
            # subset of query 7 without the reference: yellow, white, blue (3rd); query 9: blue first
            "recall_subset@1": 50.0,
            "recall_subset@2": 50.0,
            "recall_subset@3": 100.0,
        }
    )


def test_cirr_reference_removed_changes_the_rank(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    # target = reference's best non-self neighbour: rank 1 only if the reference is removed
    _write(tmp_path, make_image, make_json)
    path = tmp_path / "cirr" / "captions" / "cap.rc2.val.json"
    queries = json.loads(path.read_text())
    queries[0]["target_hard"] = "dev-1-img1"  # yellow, the best once red itself is gone
    path.write_text(json.dumps(queries))
    scores = cir_eval.evaluate("cirr", color_encoder, tmp_path, task="val", progress=False)
    assert scores["recall@1"] == 100.0


def test_cirr_test_submission_files(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, make_image, make_json, split="test1", labelled=False)
    results = cir_eval.run_benchmark(
        "cirr", color_encoder, tmp_path, tasks=["test1"], out_dir=str(tmp_path / "out"), progress=False
    )
    recall_file, subset_file = (json.loads(Path(p).read_text()) for p in results["test1"].files)
    assert recall_file["version"] == "rc2" and recall_file["metric"] == "recall"
    assert subset_file["version"] == "rc2" and subset_file["metric"] == "recall_subset"
    assert recall_file["7"] == [
        "test1-1-img1",
        "test1-2-img1",
        "test1-3-img0",
        "test1-0-img1",
        "test1-1-img0",
        "test1-2-img0",
    ]
    assert subset_file["7"] == ["test1-1-img1", "test1-3-img0", "test1-0-img1"]
    assert subset_file["9"][0] == "test1-0-img1"


def test_cirr_missing_target_and_image(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, make_image, make_json)
    path = tmp_path / "cirr" / "captions" / "cap.rc2.val.json"
    queries = json.loads(path.read_text())
    queries[1]["target_hard"] = "dev-9-img9"
    path.write_text(json.dumps(queries))
    with pytest.raises(BenchmarkDataError, match=r"entry 1, field 'target_hard'.*not in the split gallery"):
        cir_eval.evaluate("cirr", color_encoder, tmp_path, task="val", progress=False)
    _write(tmp_path, make_image, make_json)
    (tmp_path / "dev" / "dev-2-img1.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"dev-2-img1.png.*split.rc2.val.json entry 'dev-2-img1'"):
        cir_eval.evaluate("cirr", color_encoder, tmp_path, task="val", progress=False)


def test_cirr_path_outside_root_is_refused(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, make_image, make_json)
    make_json(tmp_path / "cirr" / "image_splits" / "split.rc2.val.json", {"dev-0-img0": "../../etc/passwd"})
    with pytest.raises(BenchmarkDataError, match="outside the data root"):
        cir_eval.evaluate("cirr", color_encoder, tmp_path, task="val", progress=False)
