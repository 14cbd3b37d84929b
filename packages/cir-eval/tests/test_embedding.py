"""The embedding stage: de-duplication, the disk cache keyed by model identity + image, and import hygiene."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
