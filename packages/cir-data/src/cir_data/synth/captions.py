"""Captions in varied English (templates, synonyms, word orders, omissions) and optional caption noise."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cir_data.synth.scene import ObjectSpec, Scene
from cir_data.synth.vocab import COLOURS, CONTEXTS, RELATIONS, SHAPES, SIZES, TEXTURES

NUMBER_WORDS = ("no", "one", "two", "three", "four")


def article(phrase: str) -> str:
    """``phrase`` with 'a' or 'an' in front."""
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def _pick(rng: np.random.Generator, words: tuple[str, ...]) -> str:
    return str(words[int(rng.integers(len(words)))])


def noun_phrase(spec: ObjectSpec, rng: np.random.Generator, with_article: bool = True) -> str:
    """One way of naming an object: some attributes may be left out or moved after the noun; the shape never is."""
    shape = _pick(rng, SHAPES[spec.shape])
    colour = _pick(rng, COLOURS[spec.colour][1])
    size = _pick(rng, SIZES[spec.size][1])
    adjectives, phrases = TEXTURES[spec.texture]
    form = int(rng.integers(4))
    keep_size = rng.random() < 0.6
    keep_texture = spec.texture != "plain" or rng.random() < 0.2
    if form == 0:
        words = [size] * keep_size + [colour] + [_pick(rng, adjectives)] * keep_texture + [shape]
        text = " ".join(words)
    elif form == 1:
        text = " ".join([size] * keep_size + [colour, shape]) + (" " + _pick(rng, phrases)) * keep_texture
    elif form == 2:
        text = " ".join([size] * keep_size + [shape]) + f" that is {colour}"
        text += (" " + _pick(rng, phrases)) * keep_texture
    else:
        text = " ".join([_pick(rng, adjectives)] * keep_texture + [colour, shape])
    return article(text) if with_article else text


def _join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _context_phrase(scene: Scene, rng: np.random.Generator) -> str:
    word = _pick(rng, CONTEXTS[scene.context])
    return _pick(rng, (f"at the {word}", f"in a {word}", f"on a {word} background", f"in the {word}"))


def _list_template(scene: Scene, rng: np.random.Generator) -> str:
    objects = _join([noun_phrase(s, rng) for s in scene.specs])
    return f"{objects} {_context_phrase(scene, rng)}"


def _scene_with_template(scene: Scene, rng: np.random.Generator) -> str:
    word = _pick(rng, CONTEXTS[scene.context])
    objects = _join([noun_phrase(s, rng) for s in scene.specs])
    return _pick(rng, (f"{article(word)} scene with {objects}", f"a picture of {objects} in {article(word)} setting"))


def _relation_template(scene: Scene, rng: np.random.Generator) -> str:
    if not scene.relations:
        return f"there is {noun_phrase(scene.specs[0], rng)} {_context_phrase(scene, rng)}"
    rel = scene.relations[int(rng.integers(len(scene.relations)))]
    subject = noun_phrase(scene.specs[rel.subject], rng)
    obj = noun_phrase(scene.specs[rel.object], rng)
    phrase = _pick(rng, RELATIONS[rel.relation])
    if rng.random() < 0.5:
        return f"{subject} {phrase} {obj} {_context_phrase(scene, rng)}"
    return f"there is {subject} {phrase} {obj}"


def _count_template(scene: Scene, rng: np.random.Generator) -> str:
    count = len(scene.specs)
    noun = "shape" if count == 1 else "shapes"
    word = _pick(rng, CONTEXTS[scene.context])
    objects = _join([noun_phrase(s, rng) for s in scene.specs])
    return f"{NUMBER_WORDS[count]} {noun} on {article(word)} backdrop: {objects}"


TEMPLATES: dict[str, Callable[[Scene, np.random.Generator], str]] = {
    "list": _list_template,
    "scene_with": _scene_with_template,
    "relation": _relation_template,
    "count": _count_template,
}


def _add_noise(text: str, scene: Scene, rng: np.random.Generator) -> str:
    """Corrupt a caption the way web alt-text is wrong: a wrong colour word, or a typo."""
    if rng.random() < 0.5:
        for name, (_rgb, words) in COLOURS.items():
            for word in words:
                if f" {word} " in f" {text} ":
                    wrong = _pick(rng, tuple(c for c in COLOURS if c != name))
                    return f" {text} ".replace(f" {word} ", f" {wrong} ", 1).strip()
    position = int(rng.integers(1, max(2, len(text) - 1)))
    return text[: position - 1] + text[position] + text[position - 1] + text[position + 1 :]


def caption_scene(scene: Scene, rng: np.random.Generator, count: int = 3, noise: float = 0.0) -> list[str]:
    """``count`` captions from distinct templates (cycling when count exceeds them); each is noisy with p=noise."""
    order = [str(name) for name in rng.permutation(list(TEMPLATES))]
    captions = []
    for k in range(count):
        text = TEMPLATES[order[k % len(order)]](scene, rng)
        if noise > 0.0 and rng.random() < noise:
            text = _add_noise(text, scene, rng)
        captions.append(text[0].upper() + text[1:] if rng.random() < 0.5 else text)
    return captions
