"""UnED: merged index, relevance = same label AND domain, self excluded by identity, n_q = 0 queries."""

from __future__ import annotations

from pathlib import Path

import pytest

import cir_eval
from cir_eval.errors import BenchmarkDataError

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


def _write(root: Path, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    images = root / "data" / "images"
    cars = [("cars/a.png", RED, 1), ("cars/b.png", RED, [1]), ("cars/c.png", BLUE, 2), ("cars/d.png", GREEN, 3)]
    inshop_index = [("inshop/x.png", RED, 1), ("inshop/y.png", BLUE, 5)]
    inshop_test = [("inshop/q.png", BLUE, 5)]
    for rel, color, _ in cars + inshop_index + inshop_test:
        make_image(images / rel, color)
    make_json(root / "info_files" / "cars" / "test.json", [{"path": p, "class_id": c} for p, _, c in cars])
    make_json(root / "info_files" / "inshop" / "index.json", [{"path": p, "class_id": c} for p, _, c in inshop_index])
    make_json(root / "info_files" / "inshop" / "test.json", [{"path": p, "class_id": c} for p, _, c in inshop_test])


def test_uned_merged_hand_computed(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, make_image, make_json)
    results = cir_eval.run_benchmark(
        "uned",
        color_encoder,
        tmp_path,
        tasks=["cars", "inshop", "average"],
        domains=["cars", "inshop"],
        descriptor_dim=3,
        progress=False,
    )
    # cars a/b (red, label 1): the other red car ranks first even when self ties ahead of it (identity
    # exclusion); the red inshop item shares the int label 1 but not the domain -> not relevant.
    # cars c (blue, label 2) and d (green, label 3) have no other positive: they score 0.
    assert results["cars"].metrics == pytest.approx({"recall@1": 50.0, "mmp@5": 50.0, "map@5": 50.0})
    assert results["cars"].info["queries_without_positive"] == 2
    # inshop q (blue, label 5): the blue car ties first (index 2 < 5) -> R@1 0, mMP@5 over 1 position 0,
    # AP@5 = P@2 / min(5, 1) = 0.5
    assert results["inshop"].metrics == pytest.approx({"recall@1": 0.0, "mmp@5": 0.0, "map@5": 50.0})
    assert results["average"].metrics == pytest.approx({"recall@1": 25.0, "mmp@5": 25.0, "map@5": 50.0})
    assert results["cars"].info["gallery_size"] == 6


def test_uned_requires_64d(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, make_image, make_json)
    with pytest.raises(BenchmarkDataError, match="64-d"):
        cir_eval.evaluate("uned", color_encoder, tmp_path, task="cars", domains=["cars", "inshop"], progress=False)
