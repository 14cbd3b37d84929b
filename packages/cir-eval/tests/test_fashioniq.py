"""FashionIQ: per-category recall with the reference kept, the caption rule, the 3-category mean."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import cir_eval
from cir_eval.benchmarks.fashioniq import CAPTION_MODES, combine_queries


def _write(root: Path, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    for category in ("dress", "shirt", "toptee"):
        asins = [f"{category}{g}" for g in range(11)] + [f"{category}blue"]
        for g in range(11):
            make_image(root / "images" / f"{category}{g}.jpg", (255, 20 * g, 0))
        make_image(root / "images" / f"{category}blue.jpg", (0, 0, 255))
        make_json(root / "image_splits" / f"split.{category}.val.json", asins)
        make_json(
            root / "captions" / f"cap.{category}.val.json",
            [
                # red query, target blue: ranks 12th of 12 -> miss at 10, hit at 50
                {"candidate": f"{category}0", "target": f"{category}blue", "captions": ["is blue.", " darker"]},
                # the target is the reference itself: kept in the gallery, so rank 1
                {"candidate": f"{category}0", "target": f"{category}0", "captions": ["same", "same"]},
            ],
        )


def test_fashioniq_hand_computed(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, make_image, make_json)
    results = cir_eval.evaluate("fashioniq", color_encoder, tmp_path, progress=False)
    for task in ("dress", "shirt", "toptee", "average"):
        assert results[f"{task}/recall@10"] == pytest.approx(50.0)
        assert results[f"{task}/recall@50"] == pytest.approx(100.0)
    # default rule: strip ".?, " at both ends, both orders joined by " and "
    assert "is blue and darker" in color_encoder.texts and "darker and is blue" in color_encoder.texts


def test_caption_modes() -> None:
    assert CAPTION_MODES["both_orders"]("is red.", " long?") == ["is red and long", "long and is red"]
    assert CAPTION_MODES["reversed"]("a", "b") == ["b and a"]
    assert CAPTION_MODES["joined"]("a", "b") == ["a and b"]


def test_combine_queries_normalises_each_then_the_mean() -> None:
    emb = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    assert torch.allclose(combine_queries(emb, 2), torch.tensor([[2**-0.5, 2**-0.5]]))


def test_unknown_caption_mode(tmp_path: Path, color_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, make_image, make_json)
    with pytest.raises(ValueError, match="caption_mode"):
        cir_eval.evaluate("fashioniq", color_encoder, tmp_path, task="dress", caption_mode="nope", progress=False)
