"""Parsing speed: cir_data.scene_graph (batched nlp.pipe) vs sng_parser (one nlp() call per caption).

Both use the same spaCy model on the same synthetic CC3M-like captions (ours also with ``--processes``), alternating
run by run so load changes hit both. Prints the median captions/s of each over ``--runs`` runs and
the ratio of the medians. Needs the data environment (spaCy, SceneGraphParser):

    PYTHONPATH=packages/cir-data/src /work/devenv-data/bin/python benchmarks/bench_parse.py --runs 5
"""

from __future__ import annotations

import argparse
import random

import sng_parser
from benchcommon import median, print_report, timed_runs

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each parser (median reported)")
    parser.add_argument("--captions", type=int, default=3000, help="captions per run")
    parser.add_argument("--batch-size", type=int, default=256,
                        help="nlp.pipe batch size of our parser (256, the package default, was fastest here)")
    parser.add_argument("--processes", type=int, default=1,
                        help="also time our parser with nlp.pipe(n_process=N) when N > 1 (worker start-up included)")
    args = parser.parse_args()
    texts = captions(args.captions)
    nlp = load_spacy()
    sng = sng_parser.Parser(backend="spacy", model=DEFAULT_MODEL)
    list(parse_captions(texts[:50], nlp))  # warm-up both
    [sng.parse(t) for t in texts[:50]]
    ours_t: list[float] = []
    multi_t: list[float] = []
    theirs_t: list[float] = []
    for _ in range(args.runs):
        ours_t += timed_runs(lambda: list(parse_captions(texts, nlp, batch_size=args.batch_size)), 1)
        if args.processes > 1:
            multi_t += timed_runs(lambda: list(parse_captions(texts, nlp, batch_size=args.batch_size,
                                                              n_process=args.processes)), 1)
        theirs_t += timed_runs(lambda: [sng.parse(t) for t in texts], 1)
    n = args.captions
    theirs = n / median(theirs_t)
    rows = []
    for label, times in [("cir_data.scene_graph (nlp.pipe, 1 process)", ours_t),
                         (f"cir_data.scene_graph (nlp.pipe, n_process={args.processes})", multi_t)]:
        if times:
            rows.append([label, f"{n / median(times):.0f}", ", ".join(f"{n / t:.0f}" for t in times),
                         f"**{n / median(times) / theirs:.1f}×**"])
    rows.append(["sng_parser (reference)", f"{theirs:.0f}", ", ".join(f"{n / t:.0f}" for t in theirs_t), "1.0×"])
    print_report(
        f"Parsing: {n} captions per run, spaCy {DEFAULT_MODEL}, batch {args.batch_size}, median of {args.runs} runs",
        ["parser", "captions/s (median)", "runs (captions/s)", "ratio to sng_parser"],
        rows,
    )


if __name__ == "__main__":
    main()
