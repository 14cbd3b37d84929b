"""Scenes, rendering and captions of the synthetic world."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cir_data.synth.captions import caption_scene
from cir_data.synth.render import encode_jpeg, render_scene
from cir_data.synth.scene import WorldConfig, compose_scene, random_spec, sample_scene, scene_rng
from cir_data.synth.vocab import COLOURS, CONTEXTS, RELATIONS, SHAPES, TEXTURES
from cir_data.synth.world import make_item


def test_vocabulary_is_as_large_as_promised():
    assert len(SHAPES) >= 8 and len(COLOURS) >= 8 and len(TEXTURES) >= 3 and len(CONTEXTS) >= 3
    assert {"left of", "right of", "above", "below", "next to", "on"} <= set(RELATIONS)


def test_same_seed_and_index_give_identical_bytes_in_any_order():
    forward = [make_item(3, i) for i in range(6)]
    backward = [make_item(3, i) for i in reversed(range(6))][::-1]
    assert [a.jpeg for a in forward] == [b.jpeg for b in backward]
    assert [a.captions for a in forward] == [b.captions for b in backward]
    assert [a.graph for a in forward] == [b.graph for b in backward]
    assert make_item(4, 0).jpeg != forward[0].jpeg


def test_scene_respects_object_count_knob():
    config = WorldConfig(min_objects=2, max_objects=3)
    counts = {len(sample_scene(scene_rng(0, i), config).objects) for i in range(60)}
    assert counts == {2, 3}
    with pytest.raises(ValueError, match="min_objects"):
        WorldConfig(min_objects=3, max_objects=2)


def test_graph_boxes_cover_drawn_pixels_at_224():
    rng = scene_rng(0, 1, "test")
    spec = random_spec(rng, colour="red", texture="plain", size="large")
    scene = compose_scene(rng, "snow", [spec])
    image = np.asarray(render_scene(scene, 224), dtype=np.int32) / scene.lighting
    assert image.shape == (224, 224, 3)
    x, y, w, h = scene.graph(224)["objects"][0]["bbox"]
    red = (image[..., 0] > 150) & (image[..., 1] < 90) & (image[..., 2] < 90)
    inside = red[y : y + h, x : x + w].sum()
    assert inside > 0.3 * w * h  # the shape fills a good part of its box
    assert inside >= 0.97 * red.sum()  # and almost no red lies outside it


def test_jitter_changes_pixels_of_identical_specs():
    spec = random_spec(scene_rng(0, 0, "spec"))
    a = compose_scene(scene_rng(0, 1, "a"), "beach", [spec])
    b = compose_scene(scene_rng(0, 2, "a"), "beach", [spec])
    assert a.graph(64)["objects"][0]["shape"] == b.graph(64)["objects"][0]["shape"]
    assert encode_jpeg(render_scene(a)) != encode_jpeg(render_scene(b))


def test_rendering_is_antialiased():
    scene = compose_scene(scene_rng(0, 5, "aa"), "snow", [random_spec(scene_rng(0, 5, "s"), colour="black")])
    pixels = np.asarray(render_scene(scene, 64))
    # supersampled edges leave intermediate grey levels between the backdrop and the black shape
    greys = np.unique(pixels.mean(axis=2).round())
    assert len(greys) > 40


def test_relations_follow_positions():
    for i in range(40):
        scene = sample_scene(scene_rng(1, i))
        for rel in scene.relations:
            a, b = scene.objects[rel.subject], scene.objects[rel.object]
            if rel.relation == "left of":
                assert a.x < b.x
            elif rel.relation == "right of":
                assert a.x > b.x
            elif rel.relation == "above":
                assert a.y < b.y
            elif rel.relation == "below":
                assert a.y > b.y
            elif rel.relation == "on":
                assert a.rests_on == rel.object and a.y < b.y


def test_captions_name_every_object_and_vary():
    scene = sample_scene(scene_rng(2, 7), WorldConfig(min_objects=2, max_objects=2))
    captions = caption_scene(scene, scene_rng(2, 7, "captions"), count=3)
    assert len(captions) == 3 and len(set(captions)) == 3
    synonyms = {name: words for name, words in SHAPES.items()}
    for caption in captions:
        for spec in scene.specs:
            assert any(word in caption.lower() for word in synonyms[spec.shape])


def test_caption_noise_knob_corrupts_captions():
    scene = sample_scene(scene_rng(2, 8))
    clean = caption_scene(scene, scene_rng(2, 8, "c"), count=4, noise=0.0)
    noisy = caption_scene(scene, scene_rng(2, 8, "c"), count=4, noise=1.0)
    assert clean != noisy


def test_jpeg_decodes_to_requested_size():
    item = make_item(0, 0, size=224)
    assert Image.open(io.BytesIO(item.jpeg)).size == (224, 224)
