"""LinCIR keyword masking on the real spaCy tagger, and its string rules by hand."""

from __future__ import annotations

import random

import pytest

from cir_data.masking import clean_caption, keyword_runs, mask_captions, replace_keywords
from cir_data.scene_graph import load_spacy


@pytest.fixture(scope="module")
def nlp():
    return load_spacy()


def test_clean_caption() -> None:
    assert clean_caption(None) == ""
    assert clean_caption("  <PERSON> Pays $5 For A Hat ") == "person pays 5 for a hat"
    assert clean_caption("A B C", truncate=lambda s: s[:3]) == "a b"


def test_keyword_runs_include_determiners(nlp) -> None:
    doc = nlp("a man in a red shirt riding a bike down the street")
    assert keyword_runs(doc) == ["a man", "a red shirt", "a bike", "the street"]
    assert keyword_runs(nlp("running fast")) == []


def test_replace_is_every_occurrence_and_substrings() -> None:
    rng = random.Random(0)
    assert replace_keywords("a cat near a cathedral", ["cat"], rng) == "a [$] near a [$]hedral"
    assert replace_keywords("a dog and a dog", ["a dog"], rng) == "[$] and [$]"


def test_missing_keyword_replaces_one_random_word_and_stops() -> None:
    caption = "the man's hat"
    masked = replace_keywords(caption, ["man 's", "hat"], random.Random(3))
    words = caption.split(" ")
    assert masked in {caption.replace(w, "[$]") for w in words}
    assert masked.count("[$]") == 1  # "hat" after the miss is not processed


def test_no_keyword_behaves_like_an_empty_one() -> None:
    assert replace_keywords("running fast", [], random.Random(1)) in {"[$] fast", "running [$]"}
    assert replace_keywords("", [], random.Random(1)) == "[$]"


def test_mask_captions_batched_and_seeded(nlp) -> None:
    captions = ["A Man in a red shirt riding a bike", "Running fast", None, "two dogs play with a ball"]
    first = mask_captions(captions, nlp, seed=5, batch_size=2)
    assert first == mask_captions(captions, nlp, seed=5)
    assert first[0] == ("a man in a red shirt riding a bike", "[$] in [$] riding [$]")
    assert first[2] == ("", "[$]")
    assert first[3][1] == "two [$] play with [$]"
    assert first[1][1].count("[$]") == 1
