"""Options and runner of ``cir-data synth``: training shards plus benchmark exports of one seeded world."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from cir_data.synth.exports import ExportSettings, list_exports, run_export
from cir_data.synth.scene import WorldConfig
from cir_data.synth.training_shards import write_shards
from cir_data.synth.world import iter_items


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``synth`` options to ``parser``."""
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--images", type=int, default=1000, help="training images written as shards (0: none)")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels")
    parser.add_argument("--seed", type=int, default=0, help="world seed; the same seed gives the same bytes")
    parser.add_argument(
        "--export",
        default="",
        help=f"comma-separated benchmark layouts to write: {','.join(list_exports())}",
    )
    parser.add_argument("--queries", type=int, default=100, help="queries (templates) per task or split in exports")
    parser.add_argument("--samples-per-shard", type=int, default=10000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="rendering worker processes")
    parser.add_argument("--min-objects", type=int, default=1)
    parser.add_argument("--max-objects", type=int, default=4)
    parser.add_argument("--caption-noise", type=float, default=0.0, help="probability that a caption is corrupted")
    parser.add_argument(
        "--distractor-hardness", type=float, default=1.0, help="fraction of benchmark distractors built as hard"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def run(args: argparse.Namespace) -> int:
    """Write shards and exports as the parsed ``args`` ask; returns 0 on success."""
    exports = [name.strip() for name in args.export.split(",") if name.strip()]
    unknown = sorted(set(exports) - set(list_exports()))
    if unknown:
        raise SystemExit(f"cir-data synth: unknown export(s) {unknown}; known: {','.join(list_exports())}")
    config = WorldConfig(
        min_objects=args.min_objects,
        max_objects=args.max_objects,
        caption_noise=args.caption_noise,
        distractor_hardness=args.distractor_hardness,
    )
    progress = not args.no_progress
    if args.images > 0:
        items = iter_items(args.seed, range(args.images), args.size, config, processes=args.processes)
        summary = write_shards(
            items, args.out / "shards", args.images, args.seed, args.samples_per_shard, progress=progress
        )
        print(f"wrote {summary.count} images in {len(summary.shards)} shard(s) to {args.out / 'shards'}")
    settings = ExportSettings(
        out_dir=args.out,
        seed=args.seed,
        size=args.size,
        config=config,
        processes=args.processes,
        progress=progress,
        queries=args.queries,
    )
    for name in exports:
        print(f"wrote {name} to {run_export(name, settings)}")
    return 0
