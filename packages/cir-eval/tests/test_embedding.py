"""The embedding stage: de-duplication, the disk cache keyed by model identity + image, and import hygiene."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cir_eval.embedding import Embedder
from cir_eval.images import file_image


def test_duplicates_encoded_once_and_cache_hits(tmp_path: Path, color_encoder, encoder_cls, make_image) -> None:  # type: ignore[no-untyped-def]
    for name, color in (("a.png", (255, 0, 0)), ("b.png", (0, 0, 255))):
        make_image(tmp_path / name, color)
    refs = [file_image(tmp_path, n, "test") for n in ("a.png", "b.png", "a.png")]
    pairs = [(refs[0], "x"), (refs[2], "x"), (refs[1], "y")]
    first = Embedder(color_encoder, "cosine", cache_dir=tmp_path / "cache", model_id="m1", progress=False)
    out = first.embed(refs, pairs)
    assert color_encoder.gallery_images == 2
    assert out.gallery.shape == (2, 3) and out.gallery_index.tolist() == [0, 1, 0]
    assert out.query_index.tolist() == [0, 0, 1]
    fresh = encoder_cls()
    again = Embedder(fresh, "cosine", cache_dir=tmp_path / "cache", model_id="m1", progress=False).embed(refs, pairs)
    assert fresh.gallery_images == 0 and fresh.texts == []
    assert torch.equal(again.gallery, out.gallery) and torch.equal(again.queries, out.queries)
    other = encoder_cls()
    Embedder(other, "cosine", cache_dir=tmp_path / "cache", model_id="m2", progress=False).embed(refs, pairs)
    assert other.gallery_images == 2


def test_shared_features_run_the_tower_once_per_image_with_the_same_embeddings(  # type: ignore[no-untyped-def]
    tmp_path: Path, make_image, encoder_cls, shared_encoder_cls
) -> None:
    for name, color in (("a.png", (255, 0, 0)), ("b.png", (0, 0, 255)), ("c.png", (0, 255, 0))):
        make_image(tmp_path / name, color)
    refs = {n: file_image(tmp_path, n, "test") for n in ("a.png", "b.png", "c.png")}
    gallery = [refs["a.png"], refs["b.png"]]
    # a.png is both a gallery image and a reference (twice); c.png is a reference only
    pairs = [(refs["a.png"], "to blue"), (refs["a.png"], "to green"), (refs["c.png"], "to red")]
    shifts = {"to blue": (0.0, 0.0, 3.0), "to green": (0.0, 3.0, 0.0), "to red": (3.0, 0.0, 0.0)}
    shared, plain = shared_encoder_cls(shifts), encoder_cls(shifts)
    out = Embedder(shared, "cosine", progress=False).embed(gallery, pairs)
    expected = Embedder(plain, "cosine", progress=False).embed(gallery, pairs)
    assert shared.feature_images == 3 and shared.gallery_images == 0  # a, b, c once each; no encode_gallery
    assert plain.gallery_images == 2  # the plain path: encode_gallery on a and b, encode_query on each pair
    assert torch.allclose(out.gallery, expected.gallery) and torch.allclose(out.queries, expected.queries)
    red_to_blue = torch.nn.functional.normalize(torch.tensor([1.0, 0.0, 3.0]), dim=0)  # (1, 0, 0) + (0, 0, 3)
    assert torch.allclose(out.queries[out.query_index[0]], red_to_blue)


def test_a_partial_set_of_shared_feature_methods_is_refused(encoder_cls) -> None:  # type: ignore[no-untyped-def]
    class Half(encoder_cls):  # type: ignore[misc,valid-type]
        def encode_image_features(self, images: object) -> torch.Tensor:
            return torch.zeros(1, 3)

    with pytest.raises(TypeError, match="query_from_features"):
        Embedder(Half(), "cosine", progress=False)


def test_import_pulls_no_model_packages() -> None:
    code = (
        "import sys, cir_eval, cir_eval.cli, cir_eval.benchmarks; "
        "bad = [m for m in ('cir_models', 'cir_data', 'open_clip', 'deepspeed', 'spacy', 'webdataset', "
        "'faiss', 'matplotlib') if m in sys.modules]; print(bad)"
    )
    src = str(Path(__file__).resolve().parents[1] / "src")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": src}, check=True
    )
    assert out.stdout.strip() == "[]"
