"""GeneCIS: crop arithmetic, pad-to-square, and hand-computed recalls on a tiny fixture in the official layout."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

import cir_eval
from cir_eval.benchmarks.genecis import template_recalls
from cir_eval.errors import AnnotationError, BenchmarkDataError
from cir_eval.images import genecis_crop_box, pad_to_square

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
YELLOW, CYAN, MAGENTA = (255, 255, 0), (0, 255, 255), (255, 0, 255)


def test_crop_box_matches_the_spec_example() -> None:
    # specs/genecis.md §2.2: bbox (300, 200, 100, 50) in 800x600 -> (230, 165, 400, 250)
    assert genecis_crop_box((300, 200, 100, 50), (800, 600)) == pytest.approx((230, 165, 400, 250))


def test_crop_box_quirk_and_clamps() -> None:
    # left clamps at 0, right is measured from the clamped left: min(W, 0 + 1.7*w)
    left, top, right, bottom = genecis_crop_box((10, 5, 100, 40), (120, 60))
    assert (left, top) == (0.0, 0.0)
    assert right == pytest.approx(120.0)  # 170 clamped to W
    assert bottom == pytest.approx(60.0)  # 68 clamped to H


def test_pillow_rounds_crop_edges_with_round() -> None:
    image = Image.new("RGB", (100, 100))
    # x - 0.7w = 10 - 3.5 = 6.5 -> round() gives 6 (banker's rounding); right = 6.5 + 8.5 = 15 -> 15
    box = genecis_crop_box((10, 10, 5, 5), image.size)
    assert box[0] == pytest.approx(6.5)
    assert image.crop(box).size == (15 - 6, 15 - 6)


def test_pad_to_square_offsets() -> None:
    wide = pad_to_square(Image.new("RGB", (170, 85), (255, 255, 255)))
    assert wide.size == (170, 170)
    assert wide.getpixel((0, 41)) == (0, 0, 0) and wide.getpixel((0, 42)) == (255, 255, 255)
    assert wide.getpixel((0, 42 + 84)) == (255, 255, 255) and wide.getpixel((0, 42 + 85)) == (0, 0, 0)
    tall = pad_to_square(Image.new("RGB", (3, 8), (255, 255, 255)))
    assert tall.getpixel((1, 0)) == (0, 0, 0) and tall.getpixel((2, 0)) == (255, 255, 255)


def test_template_recalls_ties_keep_the_target_first() -> None:
    # row 0: target best; row 1: target tied with index 2 (duplicate) -> target wins by position;
    # row 2: target third
    scores = torch.tensor([[0.9, 0.1, 0.2], [0.5, 0.1, 0.5], [0.1, 0.3, 0.2]])
    assert template_recalls(scores) == pytest.approx({"recall@1": 200 / 3, "recall@2": 200 / 3, "recall@3": 100.0})


def _coco(i: int) -> dict[str, int]:
    return {"val_image_id": i}


def _write_object_task(root: Path, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    colors = {1: RED, 2: BLUE, 3: GREEN, 4: YELLOW, 5: CYAN, 6: MAGENTA}
    for i, color in colors.items():
        make_image(root / "val2017" / f"{i:012d}.jpg", color)
    templates = [
        # red + "to blue" -> query ~ blue: target 2 (blue) ranks first
        {"reference": _coco(1), "condition": "to blue", "target": _coco(2), "gallery": [_coco(3), _coco(4)]},
        # red + "to green", but the target is cyan: green (3) beats it, cyan second, -> miss@1, hit@2
        {"reference": _coco(1), "condition": "to green", "target": _coco(5), "gallery": [_coco(3), _coco(6)]},
        # duplicated template: counted again, never removed
        {"reference": _coco(1), "condition": "to blue", "target": _coco(2), "gallery": [_coco(3), _coco(4)]},
        # the target duplicated in its own gallery (like change_object item 19): tie -> target first
        {"reference": _coco(4), "condition": "", "target": _coco(4), "gallery": [_coco(3), _coco(4)]},
    ]
    make_json(root / "change_object.json", templates)


def test_genecis_end_to_end(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _write_object_task(tmp_path, make_image, make_json)
    scores = cir_eval.evaluate("genecis", color_encoder, tmp_path, task="change_object", progress=False)
    assert scores == pytest.approx({"recall@1": 75.0, "recall@2": 100.0, "recall@3": 100.0})
    # 5 distinct gallery images, each encoded exactly once although they appear 12 times
    assert color_encoder.gallery_images == 5


def test_genecis_attribute_crop_end_to_end(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    # one VG image: left half red, right half blue; crops pick one colour each
    image = Image.new("RGB", (200, 100), RED)
    image.paste(Image.new("RGB", (100, 100), BLUE), (100, 0))
    (tmp_path / "VG_100K_all").mkdir()
    image.save(tmp_path / "VG_100K_all" / "7.png")
    image.save(tmp_path / "VG_100K_all" / "7.jpg", quality=100)
    red_box = {"image_id": "7", "instance_bbox": [60, 60, 30, 30]}  # crop (39, 39)-(90, 90): red
    blue_box = {"image_id": "7", "instance_bbox": [170, 60, 30, 30]}  # crop (149, 39)-(200, 90): blue
    template = {"reference": red_box, "condition": "to blue", "target": blue_box, "gallery": [red_box]}
    make_json(tmp_path / "focus_attribute.json", [template])
    scores = cir_eval.evaluate("genecis", color_encoder, tmp_path, task="focus_attribute", progress=False)
    assert scores["recall@1"] == 100.0


def test_genecis_average_over_four_tasks(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _write_object_task(tmp_path, make_image, make_json)
    (tmp_path / "focus_object.json").write_text((tmp_path / "change_object.json").read_text())
    make_image(tmp_path / "VG_100K_all" / "1.jpg", RED)
    attr = {"image_id": 1, "instance_bbox": [0, 0, 8, 8]}
    one = [{"reference": attr, "condition": "x", "target": attr, "gallery": [attr]}]
    make_json(tmp_path / "focus_attribute.json", one)
    make_json(tmp_path / "change_attribute.json", one)
    results = cir_eval.evaluate("genecis", color_encoder, tmp_path, progress=False)
    assert results["average/recall@1"] == pytest.approx((100 + 100 + 75 + 75) / 4)
    assert results["change_object/recall@2"] == 100.0


def test_genecis_errors_name_file_entry_field(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    make_image(tmp_path / "val2017" / f"{1:012d}.jpg", RED)
    make_json(
        tmp_path / "change_object.json",
        [{"reference": {"val_image_id": "x"}, "condition": "a", "target": _coco(1), "gallery": [_coco(1)]}],
    )
    with pytest.raises(AnnotationError, match=r"change_object.json, entry 0, field 'val_image_id'"):
        cir_eval.evaluate("genecis", color_encoder, tmp_path, task="change_object", progress=False)
    make_json(
        tmp_path / "change_object.json", [{"reference": _coco(1), "condition": "a", "target": _coco(1), "gallery": []}]
    )
    with pytest.raises(BenchmarkDataError, match="empty gallery"):
        cir_eval.evaluate("genecis", color_encoder, tmp_path, task="change_object", progress=False)
    make_json(tmp_path / "change_object.json", [{"reference": _coco(1), "condition": "a", "gallery": [_coco(1)]}])
    with pytest.raises(BenchmarkDataError, match="no target"):
        cir_eval.evaluate("genecis", color_encoder, tmp_path, task="change_object", progress=False)
    make_json(
        tmp_path / "change_object.json",
        [{"reference": _coco(1), "condition": "a", "target": _coco(9), "gallery": [_coco(1)]}],
    )
    with pytest.raises(FileNotFoundError, match=r"000000000009.jpg.*change_object.json entry 0 \(target\)"):
        cir_eval.evaluate("genecis", color_encoder, tmp_path, task="change_object", progress=False)
