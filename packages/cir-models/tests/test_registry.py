from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
import torch

import cir_models
from cir_eval import check_encoder
from cir_models import create_encoder, list_encoders, register_encoder
from cir_models import registry as registry_module
from cir_models.condvit import LRVSF_CATEGORIES

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
# valid for every encoder: CondViT's categories are text too, and "" means "no condition"
TEXTS = [LRVSF_CATEGORIES[0], LRVSF_CATEGORIES[7], ""]
SHARED_FEATURE_ENCODERS = {"image_only", "text_only", "image_plus_text", "combiner"}


@pytest.mark.parametrize("name", list_encoders())
def test_every_encoder_passes_conformance(name, images):
    torch.manual_seed(0)
    encoder, transforms = create_encoder(name)
    assert encoder.transforms is transforms
    assert not encoder.training
    report = check_encoder(encoder, images, TEXTS)
    assert report["dim"] > 0
    # GeneCIS's encoders start both embeddings from the image features: cir-eval shares them
    assert report["shared_features"] == (name in SHARED_FEATURE_ENCODERS)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", list_encoders())
def test_every_encoder_passes_conformance_on_cuda(name, images):
    torch.manual_seed(0)
    encoder, _ = create_encoder(name, device="cuda")
    assert next(encoder.parameters()).device.type == "cuda"
    assert check_encoder(encoder, images, TEXTS)["dim"] > 0


def test_registering_a_name_twice_is_an_error(monkeypatch):
    monkeypatch.setattr(registry_module, "_ENCODERS", dict(registry_module._ENCODERS))
    with pytest.raises(ValueError, match="already registered"):
        register_encoder("combiner")(lambda backbone: None)
    register_encoder("brand_new")(lambda backbone: None)
    assert "brand_new" in registry_module.list_encoders()


def test_unknown_encoder():
    with pytest.raises(KeyError, match="combiner"):
        create_encoder("combinr")


def _load_pyproject() -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def test_entry_points_match_the_registry():
    declared = _load_pyproject()["project"]["entry-points"]["cir_eval.encoders"]
    assert set(declared) == set(list_encoders())
    for target in declared.values():
        module, _, attr = target.partition(":")
        factory = getattr(importlib.import_module(module), attr)
        assert callable(factory), target


def test_cir_eval_lists_every_encoder_once_cir_models_is_installed():
    import cir_eval

    assert set(cir_eval.list_encoders()) >= set(list_encoders())


def test_entry_point_factory_returns_a_working_encoder(images):
    from cir_eval import load_encoder

    torch.manual_seed(0)
    encoder = load_encoder("cir_models.entry_points:image_plus_text", model="cir-tiny", image_weight=0.3)
    assert isinstance(encoder, cir_models.ConditionalEncoder)
    assert encoder.image_weight == 0.3
    assert encoder.encode_query(images, TEXTS).shape == (3, 32)
