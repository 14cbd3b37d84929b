"""Parsing speed: cir_data.scene_graph (batched nlp.pipe) vs sng_parser (one nlp() call per caption).

Both use the same spaCy model. Run: PYTHONPATH=packages/cir-data/src python benchmarks/bench_parse.py [N]
"""

from __future__ import annotations

import random
import sys
import time

import sng_parser
from cir_data.scene_graph import DEFAULT_MODEL, load_spacy, parse_captions

NOUNS = ["man", "woman", "dog", "cat", "car", "table", "tree", "house", "bird", "horse", "boat", "child", "street"]
ADJECTIVES = ["red", "old", "small", "wooden", "young", "white", "large"]
LINKS = ["on", "in", "near", "next to", "in front of", "riding", "holding", "under", "walking along"]


def captions(n: int, seed: int = 0) -> list[str]:
    """CC3M-like captions: two or three noun phrases joined by prepositions and verbs."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [f"a {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"]
        for _ in range(rng.choice([1, 2])):
            words += [rng.choice(LINKS), f"the {rng.choice(NOUNS)}"]
        out.append(" ".join(words))
    return out


def main(n: int) -> None:
    texts = captions(n)
    nlp = load_spacy()
    parser = sng_parser.Parser(backend="spacy", model=DEFAULT_MODEL)
    list(parse_captions(texts[:50], nlp))  # warm-up both
    [parser.parse(t) for t in texts[:50]]
    start = time.perf_counter()
    ours = list(parse_captions(texts, nlp, batch_size=512))
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    theirs = [parser.parse(t) for t in texts]
    theirs_s = time.perf_counter() - start
    assert len(ours) == len(theirs) == n
    print(f"captions: {n}, model {DEFAULT_MODEL}, 1 process")
    print(f"cir_data.scene_graph: {n / ours_s:8.0f} captions/s")
    print(f"sng_parser          : {n / theirs_s:8.0f} captions/s")
    print(f"speed-up            : {theirs_s / ours_s:8.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
