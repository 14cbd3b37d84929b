"""Synthetic-world speed: images/s of generation (render + JPEG + captions + graph) and of shard writing.

Each figure is the median of several runs. Generation is timed in one process and with a worker pool (spawn
start-up included); shard writing is timed on pre-rendered items, so it measures tar + JSON alone.
There is no external reference implementation, so the rows are absolute rates; the ratio column is
relative to one-process 64 px generation measured in the same run.

    PYTHONPATH=packages/cir-data/src /work/devenv/bin/python benchmarks/bench_synth.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable

from benchcommon import print_report

from cir_data.synth.training_shards import write_shards
from cir_data.synth.world import iter_items, make_item


def median_rate(work: Callable[[], int], runs: int) -> tuple[float, list[float]]:
    """Median items/s of ``work`` (which returns how many items it handled) over ``runs`` runs."""
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        count = work()
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates), rates


def main(n_images: int, runs: int, processes: int) -> None:
    def generate(size: int, procs: int) -> Callable[[], int]:
        return lambda: sum(1 for _ in iter_items(0, range(n_images), size, processes=procs))

    items = [make_item(0, i) for i in range(n_images)]

    def write() -> int:
        with tempfile.TemporaryDirectory() as out:
            return write_shards(items, out, n_images, 0, samples_per_shard=1000, progress=False).count

    def end_to_end() -> int:
        with tempfile.TemporaryDirectory() as out:
            stream = iter_items(0, range(n_images), 64, processes=processes)
            return write_shards(stream, out, n_images, 0, samples_per_shard=1000, progress=False).count

    cases = [
        ("generate 64 px, 1 process", generate(64, 1)),
        (f"generate 64 px, {processes} processes", generate(64, processes)),
        ("generate 224 px, 1 process", generate(224, 1)),
        ("write shards (pre-rendered)", write),
        (f"render + write shards, {processes} processes", end_to_end),
    ]
    rows, base = [], None
    for name, work in cases:
        median, rates = median_rate(work, runs)
        base = base or median
        rows.append([name, f"{median:,.0f}", ", ".join(f"{r:.0f}" for r in rates), f"{median / base:.2f}×"])
        print(f"{name}: {median:.0f} img/s", flush=True)
    print_report(
        f"Synthetic world: {n_images} images per run, median of {runs} runs",
        ["case", "images/s (median)", "runs (images/s)", "relative to 64 px, 1 process"],
        rows,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each case (median reported)")
    parser.add_argument("--images", type=int, default=1000, help="images per run")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="worker processes of the pool cases")
    args = parser.parse_args()
    main(args.images, args.runs, args.processes)
