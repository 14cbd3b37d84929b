"""`cir-train [RECIPE] [overrides]`: the toolkit's main job.

The default run (no recipe) is the embedded synthetic world end to end on CPU. The trainer itself
arrives with issue #8; until then this command explains the run and refuses honestly to fake it.
"""

from __future__ import annotations

import argparse
import sys

DEFAULT_RUN = """\
With no RECIPE, the default run works on the embedded synthetic world, on CPU, in about ten minutes:
  1. generate the synthetic world (cached in ~/.cache/cir/synth): scenes, captions, scene graphs,
     training shards and a GeneCIS-format export;
  2. train a tiny CLIP (cir-tiny) on the image-caption shards;
  3. mine GeneCIS-style triplets from the scene graphs and train a Combiner on them;
  4. evaluate on the synthetic GeneCIS export with cir-eval;
  5. print a table of the trained model against the image-only, text-only and image+text baselines.
"""

NOT_READY = (
    "cir-train: the trainer is not implemented yet (tracked in issue #8: DeepSpeed trainer, recipes and "
    "the default synthetic run). Nothing was run."
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `cir-train`."""
    parser = argparse.ArgumentParser(
        prog="cir-train",
        description="Train a conditional image-similarity model.",
        epilog=DEFAULT_RUN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "recipe",
        nargs="?",
        default=None,
        help="recipe name (clip, meru, combiner, lincir, condvit, universal); default: the synthetic run",
    )
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="dotted config overrides, e.g. optim.lr=1e-4",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run; returns the process exit code."""
    build_parser().parse_args(argv)
    print(NOT_READY, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
