"""`cir-train [RECIPE] [overrides]`: the toolkit's main job."""

from __future__ import annotations

import argparse
import sys
import time

DEFAULT_RUN = """\
With no RECIPE, the default run works on the embedded synthetic world, on CPU, in about 5-7 minutes
on 2 cores:
  1. generate the synthetic world (cached in $CIR_CACHE_DIR or ~/.cache/cir): 6,000 training images
     of coloured shapes with captions and ground-truth scene graphs as webdataset shards, and a
     GeneCIS-format export (200 templates per task);
  2. train a tiny CLIP (cir-tiny) on the image-caption shards;
  3. mine GeneCIS-style triplets from the scene graphs: relation triplets (GeneCIS's miner) and
     change/focus-attribute triplets;
  4. train a Combiner (InfoNCE, temperature 0.01, query -> target) on the frozen CLIP features;
  5. evaluate on the synthetic GeneCIS export with cir-eval and print a table of the Combiner
     against the image-only, text-only and image+text baselines (same trained backbone).
Runs and results go to runs/synthetic/ (out=DIR to change). Re-running reuses the cached world,
triplets and trained checkpoints whose settings match, and an interrupted run resumes. Override a
stage with STAGE.KEY=VALUE, STAGE in world, mining, clip, combiner, e.g.
  cir-train world.images=2000 clip.max_steps=100 combiner.optim.lr=3e-3

With a RECIPE, the recipe's tiny config (--scale full: the paper's setting) with dotted overrides:
  cir-train clip optim.lr=1e-3 max_steps=50     (data.root defaults to the synthetic world's shards)
"""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `cir-train`."""
    parser = argparse.ArgumentParser(
        prog="cir-train",
        description="Train a conditional image-similarity model.",
        epilog=DEFAULT_RUN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("recipe", nargs="?", default=None, help="recipe name; default: the synthetic run")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted config overrides")
    parser.add_argument("--scale", choices=("tiny", "full"), default="tiny", help="the recipe's scale")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run; returns the process exit code (2 for a bad config)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from cir_train.config import ConfigError

    from cir_trainer.recipe_run import run_recipe

    started = time.monotonic()
    if args.recipe is not None and "=" in args.recipe:  # only overrides: they belong to the default run
        args.overrides, args.recipe = [args.recipe, *args.overrides], None
    try:
        if args.recipe is None:
            from cir_trainer.default_run import run_default

            run_default(args.overrides, progress=not args.no_progress)
        else:
            run_recipe(args.recipe, args.overrides, args.scale, progress=not args.no_progress)
    except (ConfigError, KeyError, FileNotFoundError) as err:
        print(f"cir-train: error: {err}", file=sys.stderr)
        return 2
    print(f"cir-train: done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
