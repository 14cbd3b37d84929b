"""Mining speed: cir_data.mining (numpy CSR/CDF tables, O(1) draws) vs the direct per-draw algorithm.

Both mine the same seeds from the same synthetic CC3M-like relations (Zipf-distributed subjects and
objects) with a concreteness filter, and must return identical triplets.
Run: PYTHONPATH=packages/cir-data/src python benchmarks/bench_mining.py [n_images] [n_seeds]
"""

from __future__ import annotations

import sys
import time

import numpy as np
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


def main(n_images: int, n_seeds: int) -> None:
    records = synthetic_records(n_images)
    rng = np.random.default_rng(1)
    words = {f"s{i}" for i in range(3000)} | {f"o{i}" for i in range(3000)}
    # About half of the words are highly concrete, as nouns in CC3M captions tend to be.
    lexicon = {w: float(rng.choice([4.9, 5.0, 4.2, 3.1])) for w in sorted(words)}
    start = time.perf_counter()
    fast = RelationMiner(RelationRows.from_records(records), concreteness=lexicon)
    build_fast = time.perf_counter() - start
    start = time.perf_counter()
    slow = ReferenceMiner(records, concreteness=lexicon)
    build_slow = time.perf_counter() - start

    start = time.perf_counter()
    table = fast.mine(range(n_seeds))
    fast_s = time.perf_counter() - start
    n_slow = max(20, n_seeds // 50)
    start = time.perf_counter()
    reference = [slow.mine_seed(s) for s in range(n_slow)]
    slow_s = time.perf_counter() - start
    ours = list(zip(table["reference_row"], table["target_row"], table["distractor_row"], strict=True))[:n_slow]
    assert ours == reference, "fast and direct mining disagree"

    print(f"relation rows: {len(fast.rows)}, candidate subjects: {len(fast.candidates)}")
    print(f"build: ours {build_fast:.2f}s, direct {build_slow:.2f}s")
    print(f"cir_data.mining : {n_seeds / fast_s:10.0f} triplets/s ({n_seeds} seeds)")
    print(f"direct per-draw : {n_slow / slow_s:10.1f} triplets/s ({n_slow} seeds, identical triplets)")
    print(f"speed-up        : {(n_seeds / fast_s) / (n_slow / slow_s):10.0f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000, int(sys.argv[2]) if len(sys.argv) > 2 else 20_000)
