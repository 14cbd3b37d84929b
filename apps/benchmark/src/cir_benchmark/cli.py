"""`cir-benchmark --checkpoint PATH [--benchmarks ...] [--root DIR] [--out DIR]`: a trained model on every benchmark."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

EPILOG = """\
PATH is what `cir-train` writes: a run folder (its latest checkpoint is used) or one
checkpoints/step_* folder. A run with a head (combiner, ...) is evaluated as its encoder; a run
that trained a backbone alone (clip) as the image-only, text-only and image+text baselines on it.
Every benchmark whose folder exists under --root (e.g. ROOT/genecis, ROOT/cirr) runs; the default
root is the newest synthetic world of the default `cir-train` run ($CIR_CACHE_DIR or ~/.cache/cir).
Results: one JSON per model x benchmark x task in --out, plus results.md, results.csv and plots.
"""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `cir-benchmark`."""
    parser = argparse.ArgumentParser(
        prog="cir-benchmark",
        description="Evaluate a trained model on every benchmark whose data is present.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--checkpoint", required=True, type=Path, help="a cir-train run folder or checkpoint")
    parser.add_argument("--benchmarks", nargs="*", default=None, help="benchmark names (default: all present)")
    parser.add_argument("--root", type=Path, default=None, help="folder holding <benchmark>/ data folders")
    parser.add_argument("--out", type=Path, default=None, help="results folder (default: RUN/benchmark)")
    parser.add_argument("--device", default="cpu", help="device for the model and the search")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def default_root() -> Path:
    """The newest synthetic world the default `cir-train` run generated."""
    cache = Path(os.environ.get("CIR_CACHE_DIR") or Path.home() / ".cache" / "cir") / "synth"
    worlds = sorted(cache.glob("world-*"), key=lambda p: p.stat().st_mtime)
    if not worlds:
        raise FileNotFoundError(f"no --root given and no synthetic world in {cache}; run `cir-train` first")
    return worlds[-1]


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run; returns the process exit code (2 for missing or bad input)."""
    args = build_parser().parse_args(argv)
    from cir_benchmark.checkpoint import build_encoders, resolve_run
    from cir_eval import BenchmarkDataError, list_benchmarks, run_benchmark
    from cir_eval.results import aggregate, write_result

    try:
        run = resolve_run(args.checkpoint)
        root = args.root if args.root is not None else default_root()
        folders = {p.name.lower(): p for p in root.iterdir() if p.is_dir()} if root.is_dir() else {}
        wanted = args.benchmarks or list_benchmarks()
        unknown = sorted(set(wanted) - set(list_benchmarks()))
        if unknown:
            raise ValueError(f"unknown benchmark(s) {unknown}; known: {list_benchmarks()}")
        present = [name for name in wanted if name in folders]
        if not present:
            raise FileNotFoundError(f"{root}: no data folder for any of {wanted}")
        out = args.out if args.out is not None else run.run_dir / "benchmark"
        encoders = build_encoders(run, args.device)
        for model, encoder in encoders.items():
            for name in present:
                results = run_benchmark(
                    name, encoder, folders[name], device=args.device, out_dir=str(out), progress=not args.no_progress
                )
                for task, result in results.items():
                    options = {"checkpoint": str(run.checkpoint)}
                    write_result(out, name, task, model, result, encoder=model, options=options)
                print(f"{model} / {name}: " + ", ".join(
                    f"{task} R@1={r.metrics['recall@1']:.1f}" for task, r in results.items() if "recall@1" in r.metrics
                ))
        plots = importlib.util.find_spec("matplotlib") is not None
        written = aggregate(out, plots=plots)
    except (BenchmarkDataError, FileNotFoundError, ValueError) as err:
        print(f"cir-benchmark: error: {err}", file=sys.stderr)
        return 2
    print((out / "results.md").read_text(encoding="utf-8"))
    print("wrote " + ", ".join(str(p) for p in written) + ("" if plots else " (no plots: pip install matplotlib)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
