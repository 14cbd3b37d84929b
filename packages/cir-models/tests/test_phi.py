from __future__ import annotations

import pytest
import torch

from cir_models import create_encoder
from cir_models.phi import Im2Text, Phi, PhiEncoder, inject_pseudo_tokens, list_phi_variants


@pytest.mark.parametrize("width,count", [(768, 14_162_688), (1280, 39_333_120)])
def test_phi_parameter_count_matches_the_spec(width, count):
    with torch.device("meta"):
        phi = Phi(width, width)
    assert sum(p.numel() for p in phi.parameters()) == count
    weights = {k for k in phi.state_dict() if k.endswith("weight")}
    assert weights == {"layers.0.weight", "layers.3.weight", "layers.6.weight"}


def test_pic2word_mapping_size():
    with torch.device("meta"):
        mapping = Im2Text(768, 768)
    assert sum(p.numel() for p in mapping.parameters()) == 1_050_368  # "~1.05M" (specs/lincir.md §3)


def _word_embedding(backbone, word: str) -> torch.Tensor:
    ids = backbone.tokenize([word])
    return backbone.token_embeddings(ids)[:, 1]  # the word's token, right after SOT


@pytest.mark.parametrize(
    "variant,plain", [("lincir", "a photo of dog that is red"), ("searle", "a photo of dog that is red"),
                      ("pic2word", "a photo of dog , is red")],
)
def test_injecting_a_real_word_reproduces_the_plain_text(backbone, variant, plain):
    encoder = PhiEncoder(backbone, variant=variant)
    with torch.no_grad():
        got = encoder.encode_prompts(_word_embedding(backbone, "dog"), ["is red"])
        expected = backbone.encode_text([plain])
    assert torch.equal(got, expected)


def test_lincir_replaces_every_placeholder_searle_only_the_first(backbone):
    prompt = "$ and $ that {condition}"
    token = _word_embedding(backbone, "dog")
    with torch.no_grad():
        lincir = PhiEncoder(backbone, "lincir", prompt=prompt).encode_prompts(token, ["red"])
        searle = PhiEncoder(backbone, "searle", prompt=prompt).encode_prompts(token, ["red"])
        assert torch.equal(lincir, backbone.encode_text(["dog and dog that red"]))
        assert torch.equal(searle, backbone.encode_text(["dog and $ that red"]))


def test_missing_placeholder_is_an_error():
    ids = torch.tensor([[49406, 320, 49407], [49406, 259, 49407]])
    with pytest.raises(ValueError, match=r"rows \[0\]"):
        inject_pseudo_tokens(torch.zeros(2, 3, 4), ids, torch.ones(2, 4), 259, True)


def test_bad_variant_and_prompt(backbone):
    assert list_phi_variants() == ["lincir", "pic2word", "searle"]
    with pytest.raises(KeyError, match="known"):
        PhiEncoder(backbone, variant="nope")
    with pytest.raises(ValueError, match="standalone"):
        PhiEncoder(backbone, prompt="a photo of $, {condition}")


def test_queries_are_normalised_text_side_embeddings(backbone, pixels):
    encoder = PhiEncoder(backbone).eval()
    with torch.no_grad():
        tokens = encoder.pseudo_tokens(pixels)
    assert tokens.shape == (3, backbone.token_width)
    queries = encoder.encode_query(pixels, ["red", "blue", "bags"])
    assert queries.shape == (3, 32)
    assert torch.allclose(queries.norm(dim=1), torch.ones(3))


def test_lincir_checkpoint_layout_loads(tmp_path):
    torch.manual_seed(3)
    source = Phi(32, 32)
    path = tmp_path / "phi_best.pt"
    torch.save({"epoch": 1000, "Phi": source.state_dict()}, path)  # specs/lincir.md §1.9
    encoder, _ = create_encoder("phi", head_path=path)
    assert torch.equal(encoder.head.layers[6].weight, source.layers[6].weight)


def test_searle_uses_targetpad(backbone):
    assert PhiEncoder(backbone, "searle").transforms.eval.transforms[1].__class__.__name__ == "TargetPad"
