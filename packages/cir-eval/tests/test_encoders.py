"""Encoders found through the entry-point group or an import path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cir_eval import list_encoders, load_encoder

MODULE = """
class Tiny:
    def __init__(self, dim=3):
        self.dim = dim
    def encode_gallery(self, images):
        raise NotImplementedError
    def encode_query(self, images, texts):
        raise NotImplementedError

def build(dim=3):
    return Tiny(dim)
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = "cir_eval_test_plugin_" + tmp_path.name.replace("-", "_")
    (tmp_path / f"{name}.py").write_text(MODULE)
    dist = tmp_path / f"{name}-0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text(f"[cir_eval.encoders]\ntiny_test_encoder = {name}:build\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_entry_point_registration(plugin: str) -> None:
    assert "tiny_test_encoder" in list_encoders()
    assert load_encoder("tiny_test_encoder", dim=7).dim == 7


def test_import_path(plugin: str) -> None:
    assert load_encoder(f"{plugin}:build", dim=2).dim == 2
    with pytest.raises(ValueError, match="no attribute"):
        load_encoder(f"{plugin}:missing")


def test_unknown_name_suggests_close_matches(plugin: str) -> None:
    with pytest.raises(ValueError, match="did you mean tiny_test_encoder"):
        load_encoder("tiny_test_encodr")
