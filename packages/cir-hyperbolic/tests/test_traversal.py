"""MERU image traversals on a hand-built hierarchy along one ray (spec §7.4)."""

from __future__ import annotations

import math

import pytest
import torch

from cir_hyperbolic import ROOT, exp_map0, geodesic_lerp0, image_traversal, label_traversal, pairwise_inner

LABELS = ["a photo of an animal", "a photo of a dog", "a photo of a car", "decoy near the image"]


def world(curv: float) -> tuple[torch.Tensor, torch.Tensor]:
    """An image on the ray of u at radius 3; texts at radius 1 and 2 on that ray, one off-axis, one decoy."""
    sc = math.sqrt(curv)
    u = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    w = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    image = exp_map0(3.0 / sc * u, curv=curv)
    texts = exp_map0(torch.stack([1.0 * u, 2.0 * u, 2.0 * w, 2.6 * u + 0.3 * w]) / sc, curv=curv)
    return image, texts


@pytest.mark.parametrize("curv", [0.1, 1.0, 10.0])
def test_traversal_walks_up_the_hierarchy(curv):
    image, texts = world(curv)
    path = image_traversal(image, texts, curv=curv)
    assert path == [1, 0, ROOT]
    assert label_traversal(path, LABELS) == ["a photo of a dog", "a photo of an animal", "[ROOT]"]


def test_cone_filter_excludes_the_nearest_non_entailing_text():
    image, texts = world(1.0)
    points = geodesic_lerp0(image, curv=1.0, num_steps=50)
    unfiltered = pairwise_inner(points, texts, curv=1.0).argmax(dim=1)
    assert (unfiltered == 3).any()  # without cones the decoy would name some steps
    assert 3 not in image_traversal(image, texts, curv=1.0)


def test_only_root_when_no_cone_contains_the_path():
    image, texts = world(1.0)
    assert image_traversal(image, texts[2:3], curv=1.0, num_steps=10) == [ROOT]
    assert label_traversal([ROOT], [], root_label="<root>") == ["<root>"]


def test_traversal_accepts_low_precision_and_rejects_bad_shapes():
    image, texts = world(1.0)
    assert image_traversal(image.bfloat16(), texts.bfloat16(), curv=1.0) == [1, 0, ROOT]
    with pytest.raises(ValueError, match="image_traversal"):
        image_traversal(image[None], texts, curv=1.0)
