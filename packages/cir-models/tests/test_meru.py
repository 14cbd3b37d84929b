from __future__ import annotations

import pytest
import torch

from cir_hyperbolic.lorentz import pairwise_dist, pairwise_inner
from cir_models import create_encoder


@pytest.mark.parametrize("curv", [1.0, 2.5])
def test_similarity_is_negative_lorentz_distance(pixels, curv):
    torch.manual_seed(0)
    encoder, _ = create_encoder("meru", curv_init=curv)
    gallery = encoder.encode_gallery(pixels)
    queries = encoder.encode_query(pixels, ["red", "blue", "bags"])
    scores = encoder.similarity(queries, gallery)
    assert torch.allclose(scores, -pairwise_dist(queries, gallery, curv=curv), atol=1e-5)
    # the Lorentzian inner product ranks the gallery identically
    assert torch.equal(scores.argsort(dim=1), pairwise_inner(queries, gallery, curv=curv).argsort(dim=1))


def test_image_mode_query_is_its_own_nearest_gallery_item(pixels):
    torch.manual_seed(0)
    encoder, _ = create_encoder("meru", query_mode="image")
    gallery = encoder.encode_gallery(pixels)
    scores = encoder.similarity(encoder.encode_query(pixels, ["x", "y", "z"]), gallery)
    assert torch.equal(scores.argmax(dim=1), torch.arange(3))
    assert torch.allclose(scores.diagonal(), torch.zeros(3), atol=1e-3)


def test_query_modes_differ_and_unknown_mode_fails(pixels):
    torch.manual_seed(0)
    text, _ = create_encoder("meru", query_mode="text")
    state = text.state_dict()
    both, _ = create_encoder("meru", query_mode="image_plus_text")
    both.load_state_dict(state)
    texts = ["red", "blue", "bags"]
    assert not torch.allclose(text.encode_query(pixels, texts), both.encode_query(pixels, texts), atol=1e-4)
    with pytest.raises(KeyError, match="image_plus_text"):
        create_encoder("meru", query_mode="mixed")
