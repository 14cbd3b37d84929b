from __future__ import annotations

import math

import pytest
import torch

from cir_models import create_encoder
from cir_models.universal import CosineClassifier


def test_cosine_classifier_by_hand():
    classifier = CosineClassifier(2, 2)
    with torch.no_grad():
        classifier.weight.copy_(torch.tensor([[1.0, 0.0], [1.0, 1.0]]))
    logits = classifier(torch.tensor([[2.0, 0.0]]))
    assert torch.allclose(logits, torch.tensor([[1.0, 1 / math.sqrt(2)]]))


def test_descriptor_is_64d_normalised_and_unconditional(pixels):
    torch.manual_seed(0)
    encoder, _ = create_encoder("universal", domains={"cars": 5, "food2k": 7})
    gallery = encoder.encode_gallery(pixels)
    assert gallery.shape == (3, 64)
    assert torch.allclose(gallery.norm(dim=1), torch.ones(3))
    assert torch.equal(encoder.encode_query(pixels, ["a", "b", "c"]), gallery)
    with torch.no_grad():
        logits = encoder.classify(pixels, "cars")
    assert logits.shape == (3, 5)
    assert logits.abs().max() <= 1 + 1e-6
    with pytest.raises(KeyError, match="food2k"):
        encoder.classify(pixels, "met")


def test_clip_projection_is_bypassed(pixels):
    torch.manual_seed(0)
    encoder, _ = create_encoder("universal")
    assert encoder.head.projection.in_features == encoder.backbone.vision_width
    assert encoder.head.projection.bias is not None
