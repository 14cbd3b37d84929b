from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cir_models.condvit import LRVSF_CATEGORIES, CondViTEncoder


def test_no_condition_is_exactly_the_plain_vit(backbone, pixels):
    torch.manual_seed(0)
    encoder = CondViTEncoder(backbone).eval()
    with torch.no_grad():
        plain = F.normalize(backbone.clip.encode_image(pixels), dim=-1)
    assert torch.equal(encoder.encode_query(pixels, ["", "", ""]), plain)
    assert torch.equal(encoder.encode_gallery(pixels), plain)


def test_condition_token_acts_and_depends_on_the_category(backbone, pixels):
    torch.manual_seed(0)
    encoder = CondViTEncoder(backbone).eval()
    bags = encoder.encode_query(pixels, ["Bags"] * 3)
    head = encoder.encode_query(pixels, ["Head"] * 3)
    plain = encoder.encode_gallery(pixels)
    assert not torch.allclose(bags, plain, atol=1e-4)
    assert not torch.allclose(bags, head, atol=1e-4)
    mixed = encoder.encode_query(pixels, ["Bags", "", "Head"])
    assert torch.allclose(mixed[0], bags[0], atol=1e-6)
    assert torch.equal(mixed[1], plain[1])
    assert torch.allclose(mixed[2], head[2], atol=1e-6)


def test_categorical_head_size(backbone):
    encoder = CondViTEncoder(backbone)
    assert LRVSF_CATEGORIES[0] == "Bags" and len(LRVSF_CATEGORIES) == 10
    # 10 × width table plus one width-sized position (specs/condvit-lrvsf.md §1.2)
    assert sum(p.numel() for p in encoder.head.parameters()) == 11 * backbone.vision_width


def test_unknown_category_names_the_vocabulary(backbone, pixels):
    encoder = CondViTEncoder(backbone).eval()
    with pytest.raises(KeyError, match="Upper Body"):
        encoder.encode_query(pixels[:1], ["Shoes"])


def test_text_condition(backbone, pixels):
    torch.manual_seed(0)
    encoder = CondViTEncoder(backbone, condition="text").eval()
    red = encoder.encode_query(pixels, ["red dress"] * 3)
    blue = encoder.encode_query(pixels, ["blue jeans"] * 3)
    assert red.shape == (3, 32)
    assert not torch.allclose(red, blue, atol=1e-4)
    assert torch.equal(encoder.encode_query(pixels, ["", "", ""]), encoder.encode_gallery(pixels))
