"""Mining at GeneCIS scale: wall time and peak memory of `cir-data mine`'s path on a synthetic graph set.

GeneCIS mined 1.6M relation triplets from the scene graphs of CC3M's ~3M captions. This script
writes a graph set of ``--captions`` records in the stored form that ``cir-data parse`` writes and
``cir-data mine`` reads (``graphs-*.jsonl`` lines with ``key``, ``caption``, ``entities`` and
GeneCIS-form ``relations``), then runs the mine command's steps in a fresh process per run: read
the records (``--load stream``, straight into the rows as the command does,
or ``list``: every record into a list first, as it did before), build ``RelationRows`` and the
``RelationMiner`` with a concreteness lexicon, mine ``--triplets`` seeds into a parquet shard and
combine it. Each run reports its phases' wall times and the process's peak RSS (``ru_maxrss``).

Vocabulary: ``--vocab`` nouns shared by subjects and objects, drawn from a Zipf law (exponent
``--zipf``) as caption nouns are; ~50 relations, also Zipf; 0-3 relations per caption (45/35/15/5%).
Concreteness: each noun gets 5.0, 4.9, 4.2 or 3.1 at random (as in bench_mining.py); the redraw
rate this gives is printed, since mining speed is proportional to it.

The default (150k captions, 40k triplets) keeps a run short; the GeneCIS figure is
``--captions 3000000 --triplets 1600000 --runs 1``. Smaller runs are extrapolated linearly (mining is
O(1) per draw; reading and building are linear in rows) and labelled as extrapolations.

    PYTHONPATH=packages/cir-data/src /work/devenv/bin/python benchmarks/bench_mining_scale.py --runs 5
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from benchcommon import median, peak_rss_mib, print_report

RELATIONS = [
    "on", "in", "with", "of", "at", "near", "holding", "wearing", "behind", "under", "next to", "in front of",
    "on top of", "riding", "sitting on", "standing on", "walking on", "playing with", "looking at", "over",
    "above", "beside", "by", "inside", "across", "along", "against", "around", "between", "carrying",
    "eating", "drinking", "using", "watching", "throwing", "kicking", "pulling", "pushing", "reading",
    "playing", "covering", "hanging on", "lying on", "leaning on", "parked on", "flying over", "full of",
    "made of", "surrounded by", "attached to",
]
RELATION_COUNTS = (0, 1, 2, 3)
RELATION_COUNT_P = (0.45, 0.35, 0.15, 0.05)
CONCRETENESS_LEVELS = (5.0, 4.9, 4.2, 3.1)


def zipf_ranks(rng: np.random.Generator, size: int, vocab: int, exponent: float) -> np.ndarray:
    """``size`` ranks in [0, vocab) drawn with probability proportional to 1 / (rank + 1) ** exponent."""
    p = 1.0 / np.arange(1, vocab + 1, dtype=np.float64) ** exponent
    return rng.choice(vocab, size=size, p=p / p.sum())


def nouns(vocab: int) -> list[str]:
    """Noun-like strings of caption length (the miner only compares them)."""
    return [f"noun{i:05d}" for i in range(vocab)]


def write_graph_set(root: str, captions: int, vocab: int, zipf: float, num_shards: int, seed: int = 0) -> None:
    """Write ``captions`` graph records as ``graphs-SSSSS-of-NNNNN.jsonl`` shards under ``root``."""
    from cir_data.graph_files import graph_shard_path, shard_bounds

    rng = np.random.default_rng(seed)
    counts = rng.choice(RELATION_COUNTS, size=captions, p=RELATION_COUNT_P)
    total = int(counts.sum())
    words = nouns(vocab)
    subjects = zipf_ranks(rng, total, vocab, zipf).tolist()
    objects = zipf_ranks(rng, total, vocab, zipf).tolist()
    relations = zipf_ranks(rng, total, len(RELATIONS), 1.0).tolist()
    k = 0
    counts_list = counts.tolist()
    for shard, (start, stop) in enumerate(shard_bounds(captions, num_shards)):
        with graph_shard_path(root, shard, num_shards).open("w", encoding="utf-8") as handle:
            for i in range(start, stop):
                rels = []
                for j in range(k, k + counts_list[i]):
                    rels.append({"subject": words[subjects[j]], "object": words[objects[j]],
                                 "relation": RELATIONS[relations[j]]})
                k += counts_list[i]
                entities = sorted({r["subject"] for r in rels} | {r["object"] for r in rels})
                caption = " ".join(f"{r['subject']} {r['relation']} {r['object']}" for r in rels) or "a photo"
                record = {"key": f"{i:09d}", "caption": caption, "entities": entities, "relations": rels}
                handle.write(json.dumps(record) + "\n")


def lexicon(vocab: int, seed: int = 1) -> dict[str, float]:
    """Concreteness of every noun: 5.0, 4.9, 4.2 or 3.1 at random."""
    rng = np.random.default_rng(seed)
    return dict(zip(nouns(vocab), rng.choice(CONCRETENESS_LEVELS, size=vocab).tolist(), strict=True))


def mine_once(root: str, out: str, triplets: int, vocab: int, load: str, queue: Any) -> None:
    """One run of the mine command's steps in this (fresh) process; puts phase times and peak RSS on ``queue``."""
    import pyarrow.parquet  # noqa: F401  (imported up front so the baseline RSS includes it)

    from cir_data.graph_files import iter_graph_records
    from cir_data.mining import RelationMiner, RelationRows, combine_shards, mine_shards

    baseline_mib = peak_rss_mib()
    times: dict[str, float] = {}
    start = time.perf_counter()
    words = lexicon(vocab)
    if load == "list":  # what `cir-data mine` did before it streamed
        records: Any = list(iter_graph_records(root))
        times["read"] = time.perf_counter() - start
        start = time.perf_counter()
        rows = RelationRows.from_records(records)
        del records
    else:  # what `cir-data mine` does: records stream straight into the rows
        times["read"] = 0.0
        rows = RelationRows.from_records(iter_graph_records(root))
    times["rows"] = time.perf_counter() - start
    start = time.perf_counter()
    miner = RelationMiner(rows, concreteness=words)
    times["build"] = time.perf_counter() - start
    start = time.perf_counter()
    mine_shards(miner, out, num_samples=triplets, num_shards=1, progress=False)
    combine_shards(out, Path(out) / "triplets.parquet")
    times["mine"] = time.perf_counter() - start
    # Redraws per triplet on a sample (mining speed is proportional to it); not part of the timing.
    draws = 0
    plain_draw = miner._draw

    def counted(rs: np.random.RandomState) -> tuple[int, int, int]:
        nonlocal draws
        draws += 1
        return plain_draw(rs)

    miner._draw = counted  # type: ignore[method-assign]
    sample = min(2000, triplets)
    for s in range(sample):
        miner.mine_seed(s)
    queue.put({"times": times, "rss_mib": peak_rss_mib(), "baseline_mib": baseline_mib, "rows": len(rows),
               "candidates": len(miner.candidates),
               "draws_per_triplet": draws / sample})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs, each in a fresh process (median reported)")
    parser.add_argument("--captions", type=int, default=150_000, help="graph records (GeneCIS/CC3M: ~3,000,000)")
    parser.add_argument("--triplets", type=int, default=40_000, help="triplets to mine (GeneCIS: 1,600,000)")
    parser.add_argument("--vocab", type=int, default=20_000, help="distinct nouns (subjects and objects)")
    parser.add_argument("--zipf", type=float, default=1.1, help="Zipf exponent of noun frequencies")
    parser.add_argument("--shards", type=int, default=8, help="graph shards written")
    parser.add_argument("--load", choices=["list", "stream"], default="stream",
                        help="stream: rows straight from disk, as `cir-data mine` does; list: every record read first")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "graphs"
        root.mkdir()
        start = time.perf_counter()
        writer = ctx.Process(target=write_graph_set,
                             args=(str(root), args.captions, args.vocab, args.zipf, args.shards))
        writer.start()
        writer.join()
        if writer.exitcode != 0:
            raise SystemExit(f"writing the synthetic graph set failed (exit code {writer.exitcode})")
        synth_s = time.perf_counter() - start
        size_mib = sum(p.stat().st_size for p in root.iterdir()) / 2**20
        for run in range(args.runs):
            queue = ctx.Queue()
            out = Path(tmp) / f"triplets-run{run}"
            start = time.perf_counter()
            worker = ctx.Process(target=mine_once,
                                 args=(str(root), str(out), args.triplets, args.vocab, args.load, queue))
            worker.start()
            result = queue.get()
            worker.join()
            result["wall"] = time.perf_counter() - start  # process start-up and imports included
            results.append(result)
            print(f"run {run + 1}: {result}", flush=True)

    def med(key: str) -> float:
        return median([r["times"][key] for r in results])

    wall = median([r["wall"] for r in results])
    rss = median([r["rss_mib"] for r in results])
    baseline = median([r["baseline_mib"] for r in results])
    mine_rate = args.triplets / med("mine")
    first = results[0]
    measured = [
        f"{args.captions:,} captions → {args.triplets:,} triplets (measured, {args.load})",
        f"{wall:.1f}", f"{med('read'):.1f}", f"{med('rows'):.1f}", f"{med('build'):.1f}", f"{med('mine'):.1f}",
        f"{mine_rate:,.0f}", f"{rss:,.0f}",
    ]
    table = [measured]
    if (args.captions, args.triplets) != (3_000_000, 1_600_000):
        scale_rows, scale_triplets = 3_000_000 / args.captions, 1_600_000 / args.triplets
        load_s = (med("read") + med("rows") + med("build")) * scale_rows
        mine_s = med("mine") * scale_triplets
        table.append([
            "3,000,000 captions → 1,600,000 triplets (**extrapolated** linearly from the row above)",
            f"{load_s + mine_s:.0f}", f"{med('read') * scale_rows:.0f}", f"{med('rows') * scale_rows:.0f}",
            f"{med('build') * scale_rows:.0f}", f"{mine_s:.0f}", f"{mine_rate:,.0f}",
            f"~{baseline + (rss - baseline) * scale_rows:,.0f} (imports {baseline:.0f} + the rest scaled)",
        ])
    print_report(
        f"Mining at scale: {first['rows']:,} relation rows, {first['candidates']:,} candidate subjects, vocabulary "
        f"{args.vocab:,} (Zipf {args.zipf}), {first['draws_per_triplet']:.1f} draws per triplet (concreteness "
        f"redraws); graph set {size_mib:,.0f} MiB written in {synth_s:.0f} s (not timed); "
        f"median of {len(results)} runs",
        ["case", "wall (s)", "read (s)", "rows (s)", "build (s)", "mine + parquet (s)", "triplets/s", "peak RSS (MiB)"],
        table,
    )


if __name__ == "__main__":
    main()
