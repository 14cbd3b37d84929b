"""LRVS-F on the official benchmark layout: full sweep and bootstrap folds, hand-computed, kept apart."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

import cir_eval
from cir_eval.benchmarks.lrvsf import generate_folds
from cir_eval.errors import AnnotationError, BenchmarkDataError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
YELLOW, CYAN, MAGENTA, WHITE = (255, 255, 0), (0, 255, 255), (255, 0, 255), (255, 255, 255)
LIME = (77, 255, 0)  # the ColorEncoder reads (0.3, 1, 0)

# (simple = target, complex = query image, CATEGORY, blip2_caption1)
PRODUCTS = [
    (RED, RED, "Bags", "a red bag"),
    (GREEN, YELLOW, "Upper Body", "a green top"),
    (BLUE, MAGENTA, "Feet", "blue shoes"),
]
SHIFTS = {"Upper Body": (0.0, 3.0, 0.0)}


def _jpeg(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="JPEG")
    return buffer.getvalue()


def _write(root: Path, distractor_files: list[list[tuple[int, int, int]]], products: list[Any] = PRODUCTS) -> None:
    data = root / "data"
    (data / "distractors").mkdir(parents=True)
    columns = {
        "SIMPLE_IMG": [_jpeg(p[0]) for p in products],
        "COMPLEX_IMG": [_jpeg(p[1]) for p in products],
        "CATEGORY": [p[2] for p in products],
        "blip2_caption1": [p[3] for p in products],
    }
    pq.write_table(pa.table(columns), data / "products.parquet")
    for i, colors in enumerate(distractor_files):
        table = pa.table({"key": [f"D{i}{j}" for j in range(len(colors))], "jpg": [_jpeg(c) for c in colors]})
        pq.write_table(table, data / "distractors" / f"dist_{i:03d}.parquet")


# Queries (ColorEncoder, cosine): q0 = red (1,0,0); q1 = yellow + "Upper Body" shift = (1,4,0)/√17;
# q2 = magenta (1,0,1)/√2. Target scores: q0·red 1, q1·green .970, q2·blue .707 (ties q2·red .707,
# red is row 0 -> ranks first). Distractors in file order: cyan (q0 0, q1 .686, q2 .5),
# white (.577, .700, .816), lime (.287, .999, .203).
DISTRACTORS = [[CYAN, WHITE], [LIME]]


def test_full_sweep_hand_computed(tmp_path: Path, color_encoder_shifts) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, DISTRACTORS)
    result = cir_eval.run_benchmark(
        "lrvsf", color_encoder_shifts, tmp_path, tasks=["full"], ks=[1, 2, 10], full_levels=[0, 1, 2, 5],
        progress=False,
    )["full"]
    # target ranks per N (first N distractors): q0 1,1,1,1; q1 1,1,1,2 (lime); q2 2,2,3,3 (white)
    third = 100 / 3
    expected = {}
    for n, (r1, r2) in enumerate([(2 * third, 100), (2 * third, 100), (2 * third, 2 * third), (third, 2 * third)]):
        # R@10 is over a gallery of 3..6 items: K larger than the gallery keeps the whole ranking
        expected |= {f"recall@1|{n}": r1, f"recall@2|{n}": r2, f"recall@10|{n}": 100.0}
    assert result.metrics == pytest.approx(expected)
    assert result.info["levels"] == [0, 1, 2, 3]
    assert result.info["levels_skipped"] == [5]
    assert result.info["num_products"] == 3
    # the category is the condition, as text (Bags is index 0, not "no condition")
    assert sorted(set(color_encoder_shifts.texts)) == ["Bags", "Feet", "Upper Body"]


def test_bootstrap_folds_hand_computed(tmp_path: Path, color_encoder_shifts) -> None:  # type: ignore[no-untyped-def]
    # one distractor (white): every draw of N is N copies of it, so each fold is hand-computable
    _write(tmp_path, [[WHITE]])
    torch.save(torch.tensor([[0, 0, 2], [1, 2, 2], [0, 1, 2]], dtype=torch.int32), tmp_path / "bootstrapped_indices.pt")
    result = cir_eval.run_benchmark(
        "lrvsf", color_encoder_shifts, tmp_path, tasks=["bootstrap"], ks=[1, 2, 10], bootstrap_levels=[0, 1],
        progress=False,
    )["bootstrap"]
    # fold 0: products {0 ×2, 2}; fold 1: {1, 2 ×2}; fold 2: {0, 1, 2}. Hits weighted by multiplicity.
    # N=0: R@1 = 2/3, 1, 2/3 (q2 loses the tie to red when red's product is in the fold); R@2 all 1
    # N=1: white beats q2's target: R@1 = 2/3, 1/3, 2/3; R@2 = 2/3, 1, 2/3
    spread = 100 * math.sqrt(1 / 27)  # unbiased std of (2/3, 1, 2/3) and of (2/3, 1/3, 2/3)
    assert result.metrics == pytest.approx(
        {
            "recall@1|0": 700 / 9, "recall_std@1|0": spread,
            "recall@2|0": 100.0, "recall_std@2|0": 0.0,
            "recall@10|0": 100.0, "recall_std@10|0": 0.0,
            "recall@1|1": 500 / 9, "recall_std@1|1": spread,
            "recall@2|1": 700 / 9, "recall_std@2|1": spread,
            "recall@10|1": 100.0, "recall_std@10|1": 0.0,
        }
    )
    assert result.info["fold_recalls"]["recall@1|1"] == pytest.approx([200 / 3, 100 / 3, 200 / 3])
    assert result.info["folds"] == str(tmp_path / "bootstrapped_indices.pt")
    assert result.info["unique_products_per_fold"] == [2, 2, 3]


def test_bootstrap_seed_reproduces_and_changes_folds(tmp_path: Path, color_encoder_shifts) -> None:  # type: ignore[no-untyped-def]
    g = torch.Generator
    assert torch.equal(generate_folds(50, 4, 10, g().manual_seed(0)), generate_folds(50, 4, 10, g().manual_seed(0)))
    assert not torch.equal(generate_folds(50, 4, 10, g().manual_seed(0)), generate_folds(50, 4, 10, g().manual_seed(1)))
    assert generate_folds(6, 20, None, g().manual_seed(0)).shape == (20, 3)  # half the products per fold
    _write(tmp_path, DISTRACTORS)
    options = {"tasks": ["bootstrap"], "bootstrap_levels": [1, 5], "folds": 5, "fold_size": 3, "progress": False}
    # 5 distractors drawn from 3 available: with replacement, as the official benchmark does, with a warning
    with pytest.warns(UserWarning, match="drawn with replacement"):
        runs = [
            cir_eval.run_benchmark("lrvsf", color_encoder_shifts, tmp_path, seed=seed, **options)["bootstrap"]
            for seed in (7, 7, 8)
        ]
    assert runs[0].metrics == runs[1].metrics
    assert runs[0].info["fold_recalls"] == runs[1].info["fold_recalls"]
    assert runs[0].info["folds"] == "generated (seed 7)"
    assert runs[2].info["folds"] == "generated (seed 8)"
    assert runs[0].info["unique_products_per_fold"] != runs[2].info["unique_products_per_fold"]
    # both protocols together stay apart: one result per task, keys prefixed by the task
    both = cir_eval.evaluate("lrvsf", color_encoder_shifts, tmp_path, seed=7, bootstrap_levels=[1, 2], folds=5,
                             fold_size=3, full_levels=[0], progress=False)
    assert both["bootstrap/recall@1|1"] == runs[0].metrics["recall@1|1"]
    assert "full/recall@1|3" in both
    assert not any(k.startswith("full/recall_std") for k in both)


def test_text_conditioning_uses_blip2_captions(tmp_path: Path, color_encoder_shifts) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, [])
    cir_eval.run_benchmark(
        "lrvsf", color_encoder_shifts, tmp_path / "data", tasks=["full"], conditioning="text", progress=False
    )
    assert sorted(set(color_encoder_shifts.texts)) == ["a green top", "a red bag", "blue shoes"]


def test_errors_name_file_row_and_column(tmp_path: Path, color_encoder_shifts) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, [], [(RED, RED, "Bags", "x"), (RED, RED, "Shoes", "y")])
    with pytest.raises(AnnotationError, match=r"products.parquet, entry 1, field 'CATEGORY': unknown category"):
        cir_eval.evaluate("lrvsf", color_encoder_shifts, tmp_path, task="full", progress=False)
    (tmp_path / "data" / "distractors" / "dist_000.parquet").parent.mkdir(exist_ok=True)
    pq.write_table(pa.table({"image": [_jpeg(RED)]}), tmp_path / "data" / "distractors" / "dist_000.parquet")
    with pytest.raises(AnnotationError, match=r"dist_000.parquet, field 'jpg': column missing"):
        cir_eval.evaluate(
            "lrvsf", color_encoder_shifts, tmp_path, task="full", conditioning="text", progress=False
        )
    torch.save(torch.tensor([[0, 5], [1, 1]]), tmp_path / "bootstrapped_indices.pt")
    with pytest.raises(BenchmarkDataError, match=r"product rows must lie in \[0, 2\)"):
        cir_eval.evaluate(
            "lrvsf", color_encoder_shifts, tmp_path, task="bootstrap", conditioning="text", dist_img_col="image",
            bootstrap_levels=[0], progress=False,
        )
    with pytest.raises(FileNotFoundError, match=r"no products\.parquet"):
        cir_eval.evaluate("lrvsf", color_encoder_shifts, tmp_path / "data" / "distractors", progress=False)


@pytest.fixture
def color_encoder_shifts(encoder_cls: type) -> Any:
    """A ColorEncoder whose "Upper Body" condition pushes the query toward green."""
    return encoder_cls(SHIFTS)
