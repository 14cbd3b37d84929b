"""Mining speed: cir_data.mining (numpy CSR/CDF tables, O(1) draws) vs the direct per-draw algorithm.

Both mine the same seeds from the same synthetic CC3M-like relations (Zipf-distributed subjects and
objects) with a concreteness filter, and must return identical triplets (checked every run). The
direct implementation is slow, so it mines ``--seeds / 50`` seeds; rates are triplets/s.

    PYTHONPATH=packages/cir-data/src /work/devenv/bin/python benchmarks/bench_mining.py --runs 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from benchcommon import median, print_report

from cir_data.mining import RelationMiner, RelationRows
from cir_data.mining_reference import ReferenceMiner


def synthetic_records(n_images: int, n_subjects: int = 3000, n_objects: int = 3000, seed: int = 0) -> list[dict]:
    """Records with 0-3 relations each; subject/object ids drawn from Zipf-like laws."""
    rng = np.random.default_rng(seed)
    subjects = np.minimum(rng.zipf(1.3, size=4 * n_images), n_subjects) - 1
    objects = np.minimum(rng.zipf(1.3, size=4 * n_images), n_objects) - 1
    counts = rng.integers(0, 4, size=n_images)
    records, k = [], 0
    for i, c in enumerate(counts):
        rels = [{"subject": f"s{subjects[k + j]}", "object": f"o{objects[k + j]}", "relation": "on"} for j in range(c)]
        k += c
        records.append({"key": f"{i:09d}", "relations": rels})
    return records


def synthetic_lexicon(n_words: int = 3000, seed: int = 1) -> dict[str, float]:
    """About half of the words highly concrete, as nouns in CC3M captions tend to be."""
    rng = np.random.default_rng(seed)
    words = {f"s{i}" for i in range(n_words)} | {f"o{i}" for i in range(n_words)}
    return {w: float(rng.choice([4.9, 5.0, 4.2, 3.1])) for w in sorted(words)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each miner (median reported)")
    parser.add_argument("--images", type=int, default=200_000, help="graph records (0-3 relations each)")
    parser.add_argument("--seeds", type=int, default=20_000, help="triplets mined by cir_data.mining per run")
    args = parser.parse_args()
    records = synthetic_records(args.images)
    lexicon = synthetic_lexicon()
    start = time.perf_counter()
    fast = RelationMiner(RelationRows.from_records(records), concreteness=lexicon)
    build_fast = time.perf_counter() - start
    start = time.perf_counter()
    slow = ReferenceMiner(records, concreteness=lexicon)
    build_slow = time.perf_counter() - start

    n_fast, n_slow = args.seeds, max(20, args.seeds // 50)
    fast_rates, slow_rates = [], []
    for run in range(args.runs):
        seeds = range(run * n_fast, (run + 1) * n_fast)  # new seeds each run: no warm caches of triplets
        start = time.perf_counter()
        table = fast.mine(seeds)
        fast_rates.append(n_fast / (time.perf_counter() - start))
        start = time.perf_counter()
        reference = [slow.mine_seed(s) for s in seeds[:n_slow]]
        slow_rates.append(n_slow / (time.perf_counter() - start))
        ours = list(zip(table["reference_row"], table["target_row"], table["distractor_row"], strict=True))
        assert ours[:n_slow] == reference, "fast and direct mining disagree"

    fast_rate, slow_rate = median(fast_rates), median(slow_rates)
    print_report(
        f"Mining: {args.images} graph records, {len(fast.rows)} relation rows, {len(fast.candidates)} candidate "
        f"subjects, concreteness filter on; median of {args.runs} runs (identical triplets checked each run)",
        ["miner", "triplets/s (median)", "runs (triplets/s)", "build (s)", "ratio to direct"],
        [
            [f"cir_data.mining ({n_fast} seeds/run)", f"{fast_rate:.0f}", ", ".join(f"{r:.0f}" for r in fast_rates),
             f"{build_fast:.2f}", f"**{fast_rate / slow_rate:.0f}×**"],
            [f"direct per-draw (reference, {n_slow} seeds/run)", f"{slow_rate:.1f}",
             ", ".join(f"{r:.1f}" for r in slow_rates), f"{build_slow:.2f}", "1×"],
        ],
    )


if __name__ == "__main__":
    main()
