from __future__ import annotations

import pytest
import torch
from PIL import Image

from cir_models import build_transforms, list_transform_kinds
from cir_models.transforms import SquarePad, TargetPad


def test_targetpad_pads_long_images_to_the_ratio():
    padded = TargetPad(ratio=1.25)(Image.new("RGB", (200, 100), (255, 0, 0)))
    # target short side 200 / 1.25 = 160, so 30 px of black above and below
    assert padded.size == (200, 160)
    assert padded.getpixel((100, 5)) == (0, 0, 0)
    assert padded.getpixel((100, 80)) == (255, 0, 0)


def test_targetpad_leaves_near_square_images():
    image = Image.new("RGB", (110, 100))
    assert TargetPad(ratio=1.25)(image).size == (110, 100)


def test_squarepad_is_white_and_centred():
    padded = SquarePad()(Image.new("RGB", (30, 10), (0, 0, 255)))
    assert padded.size == (30, 30)
    assert padded.getpixel((15, 0)) == (255, 255, 255)
    assert padded.getpixel((15, 15)) == (0, 0, 255)  # pasted at (0, 10)


@pytest.mark.parametrize("kind", ["clip", "targetpad", "squarepad"])
def test_every_kind_gives_model_sized_tensors(backbone, kind):
    transforms = build_transforms(backbone.preprocess_cfg, kind)
    image = Image.new("RGB", (120, 50), (10, 20, 30))
    for transform in (transforms.train, transforms.eval):
        out = transform(image)
        assert isinstance(out, torch.Tensor) and out.shape == (3, 64, 64)


def test_squarepad_keeps_what_a_centre_crop_cuts(backbone):
    image = Image.new("RGB", (200, 50), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 20, 50))  # a white band at the far left
    clip = build_transforms(backbone.preprocess_cfg, "clip").eval(image)
    square = build_transforms(backbone.preprocess_cfg, "squarepad").eval(image)
    assert clip[:, :, :4].max() < 0  # cropped away: only black remains at the left edge
    assert square[:, 32, :4].min() > 1  # still white after normalisation


def test_unknown_kind():
    assert list_transform_kinds() == ["clip", "squarepad", "targetpad"]
    with pytest.raises(KeyError, match="known"):
        build_transforms(None, "random")
