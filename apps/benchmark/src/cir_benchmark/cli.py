"""`cir-benchmark --checkpoint PATH [--benchmarks ...]`: a trained model on every benchmark present.

Loading a trained checkpoint needs the trainer (issue #8); until then the command says so and
points at `cir-eval`, which already evaluates any encoder that speaks the protocol.
"""

from __future__ import annotations

import argparse
import sys

NOT_READY = (
    "cir-benchmark: evaluating a cir-train checkpoint arrives with issue #8. To evaluate your own encoder "
    "now, use `cir-eval run BENCHMARK --encoder module:factory --root DIR`. Nothing was run."
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `cir-benchmark`."""
    parser = argparse.ArgumentParser(
        prog="cir-benchmark",
        description="Evaluate a trained model on every benchmark whose data is present.",
    )
    parser.add_argument("--checkpoint", required=True, help="path to a cir-train checkpoint")
    parser.add_argument("--benchmarks", nargs="*", default=None, help="benchmark names (default: all present)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run; returns the process exit code."""
    build_parser().parse_args(argv)
    print(NOT_READY, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
