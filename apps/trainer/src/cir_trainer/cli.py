"""`cir-train [RECIPE] [overrides]`: the toolkit's main job."""

from __future__ import annotations

import argparse
import sys
import time

DEFAULT_RUN = """\
With no RECIPE, the default run works on the embedded synthetic world, on CPU (measured: 5 min 28 s
for `uv run cir-train` in a fresh clone on 2 idle cores, fresh cache):
  1. generate the synthetic world (cached in $CIR_CACHE_DIR or ~/.cache/cir): 6,000 training images
     of coloured shapes with captions and ground-truth scene graphs as webdataset shards, and a
     GeneCIS-format export (200 templates per task) for evaluation;
  2. train a tiny CLIP (cir-tiny, 400 steps of 64) on the image-caption shards;
  3. draw GeneCIS-style training templates (3,000 per task, 2 hard distractors each) from the world
     on another seed than the evaluation export (no evaluation template or image reused: checked);
  4. train a Combiner together with the CLIP backbone on them (3,000 steps of 64, InfoNCE at
     temperature 0.1 against the batch's targets and distractors);
  5. evaluate on the synthetic GeneCIS export with cir-eval and print a table of the Combiner
     against the image-only, text-only and image+text baselines (on the CLIP backbone of step 2).
Measured GeneCIS R@1 (%) of that run, average over the four tasks: Combiner 22.5, text-only 13.5,
image+text 7.2, image-only 7.0; on two other world seeds the Combiner led the best baseline by 10.3
and 4.5 points (per task in the app README). It does not learn focus_object (R@1 ~0).
Runs and results go to runs/synthetic/ (out=DIR to change). Re-running reuses the cached world,
triplets and trained checkpoints whose settings match, and an interrupted run resumes. Override a
stage with STAGE.KEY=VALUE, STAGE in world, tasks, clip, combiner, e.g.
  cir-train world.images=2000 tasks.templates=500 clip.max_steps=100 combiner.optim.lr=1e-3

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
    # The `deepspeed` launcher passes --local_rank to every process; cir-train reads LOCAL_RANK from the
    # environment it also sets, so the flag is accepted and otherwise unused.
    parser.add_argument("--local_rank", "--local-rank", type=int, default=None, help=argparse.SUPPRESS)
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
