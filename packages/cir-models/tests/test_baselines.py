from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from cir_models.baselines import ImageOnly, ImagePlusText, TextOnly

IMAGE = torch.tensor([[3.0, 4.0], [1.0, 0.0]])
TEXT = torch.tensor([[0.0, 2.0], [0.0, 1.0]])


def test_image_only_and_text_only_formulas(backbone):
    assert torch.allclose(ImageOnly(backbone).combine(IMAGE, TEXT), torch.tensor([[0.6, 0.8], [1.0, 0.0]]))
    assert torch.allclose(TextOnly(backbone).combine(IMAGE, TEXT), torch.tensor([[0.0, 1.0], [0.0, 1.0]]))


def test_image_plus_text_averages_raw_features(backbone):
    got = ImagePlusText(backbone).combine(IMAGE, TEXT)
    # row 0: 0.5·(3, 4) + 0.5·(0, 2) = (1.5, 3); row 1: (0.5, 0.5)
    expected = torch.tensor([[1.5 / math.sqrt(11.25), 3 / math.sqrt(11.25)], [math.sqrt(0.5), math.sqrt(0.5)]])
    assert torch.allclose(got, expected)
    # normalising each term first would be a different baseline (specs/genecis.md §4)
    per_term = F.normalize(F.normalize(IMAGE, dim=-1) + F.normalize(TEXT, dim=-1), dim=-1)
    assert not torch.allclose(got[0], per_term[0], atol=1e-3)


def test_image_weight_override(backbone):
    got = ImagePlusText(backbone, image_weight=0.25).combine(IMAGE, TEXT)
    expected = F.normalize(0.25 * IMAGE + 0.75 * TEXT, dim=-1)
    assert torch.allclose(got, expected)


def test_queries_use_backbone_features(backbone, pixels):
    texts = ["red", "a blue cube", "bags"]
    with torch.no_grad():
        image, text = backbone.encode_image(pixels), backbone.encode_text(texts)
    assert torch.allclose(ImagePlusText(backbone).encode_query(pixels, texts), F.normalize(image + text, dim=-1))
    assert torch.allclose(ImageOnly(backbone).encode_query(pixels, texts), F.normalize(image, dim=-1))
    assert torch.allclose(TextOnly(backbone).encode_query(pixels, texts), F.normalize(text, dim=-1))
    assert torch.allclose(TextOnly(backbone).encode_gallery(pixels), F.normalize(image, dim=-1))
