"""The ``cir-eval`` command: list benchmarks and encoders, run evaluations, aggregate results."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cir_eval.encoders import list_encoders, load_encoder
from cir_eval.errors import BenchmarkDataError
from cir_eval.evaluate import run_benchmark
from cir_eval.registry import get_benchmark, list_benchmarks
from cir_eval.results import aggregate, result_path, write_result

__all__ = ["build_parser", "main"]

_EPILOG = """\
examples:
  cir-eval list
  cir-eval run genecis --encoder my_pkg.models:build --root /data/genecis --out results/
  cir-eval run cirr --encoder combiner --encoder-arg pretrained=/w/combiner.pt --root /data --task val test1
  cir-eval run all --encoder combiner --root /data     # runs every benchmark with a /data/<name>/ folder
  cir-eval aggregate results/                          # results.md, results.csv, plots

An encoder is a name registered under the 'cir_eval.encoders' entry-point group (see 'cir-eval list')
or an import path 'module:factory'. Metrics are percentages; ties rank by score, then gallery index.
"""


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _pairs(items: list[str] | None, flag: str) -> dict[str, Any]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag} expects KEY=VALUE, got {item!r}")
        out[key.replace("-", "_")] = _parse_value(value)
    return out


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser (separate from :func:`main` so it can be tested alone)."""
    parser = argparse.ArgumentParser(
        prog="cir-eval",
        description="Exact, fast evaluation of conditional and composed image retrieval "
        "(GeneCIS, CIRR, FashionIQ, CIRCO, LRVS-F, UnED, zero-shot) on the official data layouts.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list benchmarks (tasks, metrics, options) and registered encoders")
    run = sub.add_parser("run", help="evaluate an encoder on a benchmark (or 'all') and write result JSONs")
    run.add_argument("benchmark", help="a benchmark name from 'cir-eval list', or 'all'")
    run.add_argument("--encoder", required=True, help="registered encoder name or 'module:factory'")
    run.add_argument("--encoder-arg", action="append", metavar="KEY=VALUE", help="keyword for the encoder factory")
    run.add_argument("--root", required=True, type=Path, help="benchmark data root (for 'all': parent of <name>/)")
    run.add_argument("--task", nargs="+", help="tasks to run (default: the benchmark's default tasks)")
    run.add_argument("--out", type=Path, default=Path("results"), help="folder for result JSONs and submissions")
    run.add_argument("--model-name", help="model name used in result file names (default: the --encoder value)")
    run.add_argument(
        "--option", action="append", metavar="KEY=VALUE", help="benchmark option, e.g. caption_mode=joined"
    )
    run.add_argument("--batch-size", type=int)
    run.add_argument("--num-workers", type=int, help="image decoding threads")
    run.add_argument("--device", help="device for search (and encoder inputs), e.g. cuda")
    run.add_argument("--cache-dir", help="cache embeddings on disk, keyed by model identity and image")
    run.add_argument("--model-id", help="model identity for the cache (default: the encoder's cache_id)")
    run.add_argument("--use-faiss", action="store_true", default=None, help="search with a flat FAISS index")
    run.add_argument("--skip-existing", action="store_true", help="skip tasks whose result JSON exists")
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")
    agg = sub.add_parser("aggregate", help="turn result JSONs into results.md, results.csv and plots")
    agg.add_argument("results_dir", type=Path)
    agg.add_argument("--out", type=Path, help="output folder (default: RESULTS_DIR)")
    agg.add_argument("--no-plots", action="store_true", help="skip the matplotlib plots")
    return parser


def _cmd_list() -> int:
    for name in list_benchmarks():
        info = get_benchmark(name)
        print(f"{name}: {info.description}")
        print(f"  tasks: {', '.join(info.tasks)} (default: {', '.join(info.default_tasks)})")
        print(f"  metrics: {', '.join(info.metric_keys)}")
        if info.options:
            print("  options: " + ", ".join(f"{k}={v!r}" for k, v in info.options.items()))
    encoders = list_encoders()
    print(f"encoders: {', '.join(encoders) if encoders else '(none registered; use module:factory)'}")
    return 0


def _run_one(args: argparse.Namespace, encoder: Any, benchmark: str, root: Path, options: dict[str, Any]) -> None:
    model = args.model_name or args.encoder
    info = get_benchmark(benchmark)
    tasks = args.task or list(info.default_tasks)
    if args.skip_existing:
        tasks = [t for t in tasks if not result_path(args.out, benchmark, t, model).exists()]
        if not tasks:
            print(f"{benchmark}: all results exist, skipped")
            return
    results = run_benchmark(benchmark, encoder, root, tasks=tasks, **options)
    for task, result in results.items():
        path = write_result(args.out, benchmark, task, model, result, encoder=args.encoder, options=options)
        shown = ", ".join(f"{k}={v:.2f}" for k, v in result.metrics.items()) or ", ".join(result.files)
        print(f"{benchmark}/{task}: {shown}  -> {path}")


def _cmd_run(args: argparse.Namespace) -> int:
    options = _pairs(args.option, "--option")
    common = {
        "batch_size": args.batch_size,
        "num_workers": args.num_workers,
        "device": args.device,
        "cache_dir": args.cache_dir,
        "model_id": args.model_id,
        "use_faiss": args.use_faiss,
        "out_dir": str(args.out),
        "progress": False if args.no_progress else None,
    }
    options.update({k: v for k, v in common.items() if v is not None})
    encoder = load_encoder(args.encoder, **_pairs(args.encoder_arg, "--encoder-arg"))
    if args.benchmark != "all":
        _run_one(args, encoder, args.benchmark, args.root, options)
        return 0
    if args.task:
        raise ValueError("--task cannot be combined with 'run all'")
    ran = 0
    for name in list_benchmarks():
        root = args.root / name
        if not root.is_dir():
            print(f"{name}: no folder {root}, skipped")
            continue
        _run_one(args, encoder, name, root, dict(options))
        ran += 1
    if not ran:
        raise FileNotFoundError(f"no benchmark folder under {args.root} (expected e.g. {args.root / 'genecis'})")
    return 0


def _cmd_aggregate(args: argparse.Namespace) -> int:
    for path in aggregate(args.results_dir, args.out, plots=not args.no_plots):
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``cir-eval`` command line; return the exit status (2 for bad input or data)."""
    args = build_parser().parse_args(argv)
    commands = {"list": lambda: _cmd_list(), "run": lambda: _cmd_run(args), "aggregate": lambda: _cmd_aggregate(args)}
    try:
        return commands[args.command]()
    except (BenchmarkDataError, FileNotFoundError, ValueError, TypeError, ImportError) as err:
        print(f"cir-eval: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
