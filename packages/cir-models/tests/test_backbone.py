from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cir_models import create_backbone, save_state_dict

TOKEN_TABLE = 49408 * 32  # CLIP BPE vocabulary x cir-tiny text width


def test_shapes_and_size(backbone, pixels):
    assert backbone.encode_image(pixels).shape == (3, 32)
    assert backbone.encode_text(["a red cube", "blue"]).shape == (2, 32)
    assert backbone.vision_width == 64
    assert backbone.token_width == 32
    vision = sum(p.numel() for p in backbone.clip.visual.parameters())
    text = sum(p.numel() for n, p in backbone.clip.named_parameters() if not n.startswith("visual."))
    assert vision < 200_000
    assert text - TOKEN_TABLE < 100_000  # beyond the vocabulary table the text tower is tiny


def test_tokenizer_works_offline_with_clip_ids(backbone):
    ids = backbone.tokenize(["a photo of $ that is red"])[0]
    assert ids[0].item() == 49406 and ids[4].item() == 259  # SOT, then "$</w>" (specs/lincir.md §1.2)
    assert ids.shape == (77,)


def test_text_from_token_embeddings_equals_encode_text(backbone):
    ids = backbone.tokenize(["a photo of a dog", "red", "the same car but larger"])
    with torch.no_grad():
        expected = backbone.clip.encode_text(ids)
        got = backbone.encode_token_embeddings(backbone.token_embeddings(ids), ids)
    assert torch.equal(got, expected)


def test_vit_without_extra_tokens_equals_open_clip(backbone, pixels):
    with torch.no_grad():
        assert torch.equal(backbone.encode_image_tokens(pixels), backbone.clip.encode_image(pixels))


def test_extra_token_changes_the_output(backbone, pixels):
    extra = torch.randn(3, 1, backbone.vision_width, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        plain = backbone.encode_image_tokens(pixels)
        conditioned = backbone.encode_image_tokens(pixels, extra)
    assert conditioned.shape == plain.shape
    assert not torch.allclose(conditioned, plain)


@pytest.mark.parametrize("suffix,wrap", [(".safetensors", False), (".bin", True), (".pt", False)])
def test_weights_from_a_local_file(tmp_path, backbone, pixels, suffix, wrap):
    state = {f"module.{k}": v for k, v in backbone.clip.state_dict().items()}  # DDP-style keys
    path = tmp_path / f"weights{suffix}"
    if wrap:
        torch.save({"epoch": 3, "state_dict": state}, path)
    else:
        save_state_dict(state, path)
    torch.manual_seed(123)  # a different random init, overwritten by the file
    loaded = create_backbone("cir-tiny", pretrained=path)
    with torch.no_grad():
        assert torch.equal(loaded.encode_image(pixels), backbone.encode_image(pixels))
        assert torch.equal(loaded.encode_text(["red"]), backbone.encode_text(["red"]))


def test_openai_layout_extras_are_dropped(tmp_path, backbone, pixels):
    state = dict(backbone.clip.state_dict())
    state.update(input_resolution=torch.tensor(64), context_length=torch.tensor(77), vocab_size=torch.tensor(49408))
    path = tmp_path / "openai_style.pt"
    torch.save(state, path)
    loaded = create_backbone("cir-tiny", pretrained=path)
    with torch.no_grad():
        assert torch.equal(loaded.encode_image(pixels), backbone.encode_image(pixels))


def test_weights_of_another_architecture_are_refused(tmp_path, backbone):
    state = dict(backbone.clip.state_dict())
    state["text_projection"] = torch.zeros(3, 3)
    path = save_state_dict(state, tmp_path / "wrong.safetensors")
    with pytest.raises(ValueError, match=r"wrong\.safetensors"):
        create_backbone("cir-tiny", pretrained=path)


def test_unknown_tag_lists_the_known_ones():
    with pytest.raises(ValueError, match="known tags"):
        create_backbone("cir-tiny", pretrained="laion2b_s34b_b79k")


@pytest.mark.slow
def test_tag_without_network_says_how_to_pass_a_file(tmp_path):
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "PYTHONPATH": os.pathsep.join(
        [str(src), os.environ.get("PYTHONPATH", "")])}
    code = (
        "from cir_models import create_backbone, PretrainedUnavailableError\n"
        "try:\n"
        "    create_backbone('ViT-B-32', pretrained='laion2b_s34b_b79k')\n"
        "except PretrainedUnavailableError as err:\n"
        "    print(err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "HF_HUB_OFFLINE" in out.stdout
    assert "pretrained='/path/to/" in out.stdout
