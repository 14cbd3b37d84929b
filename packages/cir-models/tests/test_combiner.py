from __future__ import annotations

import math

import pytest
import torch

from cir_models import create_encoder
from cir_models.combiner import Combiner

# Official state-dict keys of the released heads (specs/genecis.md §5)
OFFICIAL_KEYS = {
    f"{layer}.{param}"
    for layer in (
        "text_projection_layer.0", "image_projection_layer.0", "combiner_layer.0", "output_layer",
        "dynamic_scalar.0", "dynamic_scalar.3",
    )
    for param in ("weight", "bias")
}


@pytest.mark.parametrize("dim,millions", [(512, 57.7), (640, 59.0)])
def test_parameter_count_matches_the_spec(dim, millions):
    with torch.device("meta"):
        head = Combiner(dim)
    count = sum(p.numel() for p in head.parameters())
    assert round(count / 1e6, 1) == millions
    assert set(head.state_dict()) == OFFICIAL_KEYS


def _hand_set_combiner() -> Combiner:
    head = Combiner(2, projection_dim=1, hidden_dim=1).eval()
    weights = {
        "text_projection_layer.0.weight": [[1.0, 0.0]], "text_projection_layer.0.bias": [0.0],
        "image_projection_layer.0.weight": [[0.0, 1.0]], "image_projection_layer.0.bias": [0.0],
        "combiner_layer.0.weight": [[1.0, 1.0]], "combiner_layer.0.bias": [0.0],
        "output_layer.weight": [[1.0], [2.0]], "output_layer.bias": [0.0, 0.0],
        "dynamic_scalar.0.weight": [[1.0, -1.0]], "dynamic_scalar.0.bias": [0.0],
        "dynamic_scalar.3.weight": [[1.0]], "dynamic_scalar.3.bias": [0.0],
    }
    head.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    return head


def test_output_equals_hand_computation():
    head = _hand_set_combiner()
    text, image = torch.tensor([[2.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    # t = relu(2) = 2, i = relu(1) = 1, raw = [t, i] (text first); combined = relu(t + i) = 3
    # output_layer = (3, 6); gate λ = sigmoid(relu(t − i)) = sigmoid(1)
    lam = 1 / (1 + math.exp(-1))
    unnormalised = torch.tensor([3 + lam * 2, 6 + (1 - lam) * 1])
    expected = unnormalised / unnormalised.norm()
    got = head(image, text)
    assert torch.allclose(got[0], expected, atol=1e-6)
    # image-first concatenation gives a different gate (relu(i − t) = 0, λ = 0.5): order matters
    swapped = torch.tensor([3 + 0.5 * 2, 6 + 0.5])
    assert not torch.allclose(got[0], swapped / swapped.norm(), atol=1e-3)


@pytest.mark.parametrize("prefix", ["", "module."])
def test_official_state_dict_loads(tmp_path, prefix, pixels):
    torch.manual_seed(5)
    source = Combiner(32, projection_dim=8, hidden_dim=16)
    path = tmp_path / "vitb16_combiner_head.pt"
    torch.save({prefix + k: v for k, v in source.state_dict().items()}, path)
    encoder, _ = create_encoder("combiner", projection_dim=8, hidden_dim=16, head_path=path)
    for key, value in source.state_dict().items():
        assert torch.equal(encoder.head.state_dict()[key], value)
    texts = ["red", "bags", "a cube"]
    with torch.no_grad():
        expected = source.eval()(encoder.backbone.encode_image(pixels), encoder.backbone.encode_text(texts))
    assert torch.allclose(encoder.encode_query(pixels, texts), expected)


def test_head_of_the_wrong_width_is_refused(tmp_path):
    path = tmp_path / "head.pt"
    torch.save(Combiner(16, projection_dim=8, hidden_dim=16).state_dict(), path)
    with pytest.raises(ValueError, match=r"head\.pt"):
        create_encoder("combiner", projection_dim=8, hidden_dim=16, head_path=path)
