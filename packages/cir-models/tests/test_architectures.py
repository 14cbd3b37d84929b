from __future__ import annotations

import json

import pytest

from cir_models import add_model_config, create_backbone, get_model_config, list_models


def test_bundled_and_open_clip_architectures_are_listed():
    names = list_models()
    assert "cir-tiny" in names
    assert "ViT-B-32" in names  # any open_clip architecture


def test_cir_tiny_config_is_tiny():
    cfg = get_model_config("cir-tiny")
    assert cfg["vision_cfg"]["image_size"] == 64
    assert cfg["embed_dim"] == 32


def test_add_model_config_registers_a_users_file(tmp_path):
    cfg = get_model_config("cir-tiny")
    cfg["vision_cfg"] = {**cfg["vision_cfg"], "image_size": 32}
    path = tmp_path / "my-tiny-32.json"
    path.write_text(json.dumps(cfg))
    add_model_config(path)
    assert "my-tiny-32" in list_models()
    assert create_backbone("my-tiny-32").preprocess_cfg.size == (32, 32)


def test_add_model_config_rejects_incomplete_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"embed_dim": 8}))
    with pytest.raises(ValueError, match=r"broken\.json.*vision_cfg"):
        add_model_config(path)


def test_unknown_architecture_is_a_clear_error():
    with pytest.raises(KeyError, match="no-such-model"):
        create_backbone("no-such-model")
