"""Training-step speed: images/s of a CLIP contrastive step through cir-train's Trainer vs plain torch loops.

Rows (same model, batch, precision and data, a fixed batch already on the device, so the data
pipeline is not measured):

1. plain open_clip step (reference): ``open_clip.create_model``, pre-tokenised text, symmetric
   InfoNCE with the model's logit scale, AdamW ``fused=True``, bf16 autocast on CUDA (fp32 on CPU);
2. the same, ``torch.compile``'d;
3. plain torch loop over cir-train's ``ClipTraining`` module (the Trainer's own module and optimiser
   groups, AdamW as ``cir_train.optim`` builds it: torch's default, not fused);
4. cir-train's ``Trainer`` (DeepSpeed engine, ZeRO 0, bf16 on CUDA / fp32 on CPU) on that module;
5. the Trainer on the ``torch.compile``'d module.

Row 4 against row 3 is the DeepSpeed engine's overhead; row 4 against row 1 is everything together
(engine, non-fused optimiser, tokenising inside ``forward``, the per-step metric all-reduce).

GPU figure (ViT-B/16, batch 256, bf16): ``--device cuda``. Without a CUDA device that mode exits
with a message. ``--device cpu --tiny`` runs the same comparison on cir-tiny (batch 32, 64 px,
fp32) to prove the script here; its figures are CPU/tiny figures, not the GPU figure. The
compiled rows run by default on CUDA only (``--compile yes`` adds them on CPU: minutes of compiling).

    PYTHONPATH=packages/cir-models/src:packages/cir-train/src:packages/cir-hyperbolic/src \\
        /work/devenv-train/bin/python benchmarks/bench_train_step.py --device cpu --tiny --runs 5
    PYTHONPATH=... python benchmarks/bench_train_step.py --device cuda --runs 5
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from benchcommon import median, print_report

WORDS = ["red", "blue", "green", "cube", "sphere", "cone", "small", "large", "left", "right", "on", "a", "the"]


def captions(n: int, seed: int = 0) -> list[str]:
    """Short synthetic-world-like captions."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12))) for _ in range(n)]


def fused_adamw(params: Any, lr: float, betas: tuple[float, float], weight_decay: float) -> torch.optim.Optimizer:
    """AdamW with ``fused=True`` (plain reference), falling back with a note where this torch lacks it."""
    try:
        return torch.optim.AdamW(params, lr=lr, betas=betas, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError) as err:
        print(f"note: fused AdamW unavailable here ({err}); the plain loop uses the default AdamW", file=sys.stderr)
        return torch.optim.AdamW(params, lr=lr, betas=betas, weight_decay=weight_decay)


def autocast(device: str) -> Any:
    """bf16 autocast on CUDA; a no-op context on CPU (the Trainer runs fp32 there)."""
    return torch.autocast("cuda", dtype=torch.bfloat16) if device == "cuda" else torch.autocast("cpu", enabled=False)


def plain_open_clip_step(args: argparse.Namespace, compiled: bool) -> Callable[[], None]:
    """One open_clip training step on a fixed batch: forward, InfoNCE, backward, fused AdamW."""
    import open_clip

    torch.manual_seed(0)
    model = open_clip.create_model(args.model, pretrained=None, device=args.device).train()
    tokens = open_clip.get_tokenizer(args.model)(captions(args.batch)).to(args.device)
    images = torch.randn(args.batch, 3, args.image_size, args.image_size, device=args.device)
    optimizer = fused_adamw(model.parameters(), args.lr, (0.9, 0.98), 0.2)
    labels = torch.arange(args.batch, device=args.device)

    def loss_of(images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        image = F.normalize(model.encode_image(images).float(), dim=-1)
        text = F.normalize(model.encode_text(tokens).float(), dim=-1)
        logits = model.logit_scale.exp().clamp(max=100) * image @ text.T
        return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2

    forward = torch.compile(loss_of) if compiled else loss_of

    def step() -> None:
        with autocast(args.device):
            loss = forward(images, tokens)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def clip_module(args: argparse.Namespace) -> Any:
    """cir-train's ClipTraining module (backbone + CLIP loss) with random weights."""
    from cir_train.recipes.clip import ClipTraining

    torch.manual_seed(0)
    return ClipTraining(args.model).train()


def fixed_batch(args: argparse.Namespace) -> dict[str, Any]:
    """One batch as cir-train's image-text collate makes it: image tensor, caption strings."""
    return {
        "image": torch.randn(args.batch, 3, args.image_size, args.image_size, device=args.device),
        "text": captions(args.batch),
    }


def plain_module_step(args: argparse.Namespace) -> Callable[[], None]:
    """A plain torch loop over ClipTraining with cir-train's optimiser (no DeepSpeed)."""
    from cir_train.optim import build_optimizer

    config = train_config(args, tempfile.gettempdir())
    module = clip_module(args).to(args.device)
    optimizer = build_optimizer(module, config.optim)
    batch = fixed_batch(args)

    def step() -> None:
        with autocast(args.device):
            loss = module(batch)["loss"]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def train_config(args: argparse.Namespace, run_dir: str) -> Any:
    """The clip recipe's optimiser settings at this batch, without logging or checkpoints."""
    from cir_train import load_config

    return load_config(overrides=[
        "recipe=clip", f"model.model={args.model}", "optim.name=adamw", "optim.betas=[0.9, 0.98]",
        "optim.weight_decay=0.2", "optim.no_decay=[log_scale]", f"optim.lr={args.lr}", "optim.warmup_steps=0",
        f"data.micro_batch_size={args.batch}", "max_steps=1000000", f"run_dir={run_dir}",
        "checkpoint.resume=false", "checkpoint.save_final=false", "checkpoint.every_steps=0",
        "logging.tensorboard=false", "logging.jsonl=false", "logging.progress_bar=false",
        f"deepspeed.precision={'bf16' if args.device == 'cuda' else 'fp32'}", "deepspeed.zero_stage=0",
    ])


def trainer_step(args: argparse.Namespace, compiled: bool, run_dir: str) -> tuple[Callable[[], None], Any]:
    """cir-train's Trainer.train_step on a fixed device batch (batch_generator overridden)."""
    from cir_train import Trainer

    batch = fixed_batch(args)
    if args.device == "cuda":  # the Trainer's own batches arrive in its precision (bf16 here)
        batch["image"] = batch["image"].to(torch.bfloat16)

    class FixedBatchTrainer(Trainer):
        def batch_generator(self) -> Iterator[Any]:
            while True:
                yield batch

    module = clip_module(args)
    model = torch.compile(module) if compiled else module
    trainer = FixedBatchTrainer(train_config(args, run_dir), model, [None] * args.batch)

    def step() -> None:
        trainer.train_step()

    return step, trainer


def images_per_second(step: Callable[[], None], args: argparse.Namespace) -> list[float]:
    """Warm up, then ``args.runs`` timed runs of ``args.steps`` steps each; images/s of each run."""
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    for _ in range(args.warmup):
        step()
    sync()
    rates = []
    for _ in range(args.runs):
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        sync()
        rates.append(args.steps * args.batch / (time.perf_counter() - start))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per row (median reported)")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--tiny", action="store_true", help="cir-tiny, batch 32, 64 px (the CPU proof run)")
    parser.add_argument("--model", default=None, help="open_clip architecture (default ViT-B-16; cir-tiny with --tiny)")
    parser.add_argument("--batch", type=int, default=None, help="images per step (default 256; 32 with --tiny)")
    parser.add_argument("--steps", type=int, default=None, help="steps per timed run (default 20)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 10; 5 with --tiny)")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--compile", choices=["auto", "yes", "no"], default="auto",
                        help="torch.compile rows (auto: on CUDA only; compiling takes minutes on 2 CPU cores)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1: on a shared 2-core machine more threads stall on busy cores)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("bench_train_step: no CUDA device is present; nothing measured. Run this on a GPU machine, or "
              "`--device cpu --tiny` for the CPU proof run.")
        return
    args.model = args.model or ("cir-tiny" if args.tiny else "ViT-B-16")
    args.batch = args.batch or (32 if args.tiny else 256)
    args.steps = args.steps or 20
    args.warmup = args.warmup or (5 if args.tiny else 10)
    compile_rows = args.compile == "yes" or (args.compile == "auto" and args.device == "cuda")
    torch.set_num_threads(args.threads)
    if args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    # The cir-tiny architecture is registered with open_clip when cir_models is imported.
    from open_clip import get_model_config

    import cir_models  # noqa: F401

    args.image_size = get_model_config(args.model)["vision_cfg"]["image_size"]
    os.environ.setdefault("MASTER_PORT", "29517")  # one process: the Trainer's process group needs a port

    results: dict[str, list[float]] = {}
    cases: list[tuple[str, Callable[[], Callable[[], None]]]] = [
        ("plain open_clip, fused AdamW, eager (reference)", lambda: plain_open_clip_step(args, False)),
        ("plain open_clip, fused AdamW, torch.compile", lambda: plain_open_clip_step(args, True)),
        ("plain torch loop over ClipTraining (cir-train optimiser)", lambda: plain_module_step(args)),
    ]
    if not compile_rows:
        cases = [c for c in cases if "compile" not in c[0]]
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in cases:
            results[name] = images_per_second(build(), args)
            print(f"{name}: {median(results[name]):.1f} img/s", flush=True)
        trainer_cases = [("cir-train Trainer (DeepSpeed ZeRO-0), eager", False)]
        if compile_rows:
            trainer_cases.append(("cir-train Trainer (DeepSpeed ZeRO-0), torch.compile'd module", True))
        for index, (name, compiled) in enumerate(trainer_cases):
            step, trainer = trainer_step(args, compiled, os.path.join(tmp, f"run{index}"))
            try:
                results[name] = images_per_second(step, args)
            finally:
                trainer.close()
            print(f"{name}: {median(results[name]):.1f} img/s", flush=True)

    reference = median(next(iter(results.values())))
    precision = "bf16" if args.device == "cuda" else "fp32"
    label = "CPU, cir-tiny: NOT the GPU figure" if args.device == "cpu" else "GPU"
    rows = [
        [name, f"{median(rates):,.1f}", ", ".join(f"{r:.1f}" for r in rates),
         f"**{median(rates) / reference:.2f}×**" if index else "1×"]
        for index, (name, rates) in enumerate(results.items())
    ]
    print_report(
        f"Training step ({label}): {args.model}, batch {args.batch}, {args.image_size} px, {precision}, "
        f"{args.steps} steps per run after {args.warmup} warm-up steps, median of {args.runs} runs",
        ["step", "images/s (median)", "runs (images/s)", "ratio to plain open_clip"],
        rows,
    )


if __name__ == "__main__":
    main()
