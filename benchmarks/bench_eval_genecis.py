"""Time a GeneCIS-format evaluation: cir-eval vs a per-template loop that re-encodes gallery images.

Both score the same templates with the same model; the naive loop decodes and encodes the reference
and all candidates of each template every time they appear (as a simple per-template evaluation
does), while cir-eval decodes each unique image once, in batches, with a thread pool, over all
tasks at once, and (the tiny model offers the shared-feature methods, as cir-models' GeneCIS
encoders do) runs the image tower once per unique image, references included. cir-eval is also
timed with those methods hidden (it then runs ``encode_query`` on each query's image again). Runs
are interleaved; prints the median of ``--runs`` runs of each and the ratio to the loop. Metrics
must agree.

Sizes: the default is a small focus_object file (400 templates, 15 candidates, 300 flat-colour
160×120 JPEGs, which decode unrealistically fast). With ``--real-sizes`` the fixture has GeneCIS's
object tasks at their real sizes: focus_object and change_object with 1,960 templates each, 15
candidates (target + 14), images drawn from a pool of 3,033 COCO-like images (the two tasks'
union, specs/genecis.md), photo-like JPEGs at 640×480 (COCO val2017's typical size). The
attribute tasks (VG crops, 10 candidates) are not synthesised; ``--gallery 9`` times 10-candidate
templates. Models: ``tiny`` (a small CNN, CPU) or an open_clip architecture through cir-models'
``image_plus_text`` encoder (``--model ViT-B-16 --device cuda``, random weights: speed only).

    PYTHONPATH=packages/cir-eval/src /work/devenv/bin/python benchmarks/bench_eval_genecis.py --runs 5
    PYTHONPATH=packages/cir-eval/src:packages/cir-models/src python benchmarks/bench_eval_genecis.py \
        --real-sizes --device cuda --model ViT-B-16 --runs 5
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from benchcommon import median, print_report, timed_runs
from PIL import Image

import cir_eval
from cir_eval.benchmarks.genecis import template_recalls
from cir_eval.images import forget_resolved_paths


class TinyConvEncoder(torch.nn.Module):
    """A small CNN with CLIP-like preprocessing (resize to 64, to tensor)."""

    def __init__(self, dim: int = 64) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 32, 3, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(32, 64, 3, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Flatten(),
            torch.nn.Linear(64, dim),
        )
        self.text = torch.nn.EmbeddingBag(1000, dim)

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        image = image.resize((64, 64), Image.BICUBIC)
        return (
            torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).reshape(64, 64, 3).permute(2, 0, 1).float()
            / 255
        )

    def encode_gallery(self, images: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.normalize(self.net(images), dim=1)

    def encode_query(self, images: torch.Tensor, texts: list[str]) -> torch.Tensor:
        return self.query_from_features(self.net(images), texts)

    def encode_image_features(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)

    def gallery_from_features(self, features: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.normalize(features, dim=1)

    def query_from_features(self, features: torch.Tensor, texts: list[str]) -> torch.Tensor:
        tokens = torch.tensor([[hash(w) % 1000 for w in (t.split() or [""])][:1] for t in texts])
        return torch.nn.functional.normalize(features + self.text(tokens), dim=1)


class WithoutSharedFeatures:
    """The same encoder offering only the two required protocol methods (cir-eval's fallback path)."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.preprocess = encoder.preprocess

    def encode_gallery(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder.encode_gallery(images)

    def encode_query(self, images: torch.Tensor, texts: list[str]) -> torch.Tensor:
        return self.encoder.encode_query(images, texts)


def write_images(root: Path, num_images: int, size: tuple[int, int]) -> None:
    """JPEGs named by 12-digit id: flat colours at 160×120, or photo-like (smooth colour fields with grain)."""
    rng = random.Random(0)
    grain = np.random.default_rng(0)
    (root / "val2017").mkdir(parents=True)
    for i in range(num_images):
        if size == (160, 120):
            image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
        else:
            coarse = Image.fromarray(grain.integers(0, 256, (12, 16, 3), dtype=np.uint8)).resize(size, Image.BICUBIC)
            pixels = np.asarray(coarse, dtype=np.int16) + grain.integers(-12, 13, (size[1], size[0], 3))
            image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
        image.save(root / "val2017" / f"{i:012d}.jpg", quality=90)


def write_task(root: Path, task: str, num_images: int, num_templates: int, gallery_size: int, seed: int) -> None:
    """``task``.json: templates whose reference, target and gallery are distinct images of the pool."""
    rng = random.Random(seed)
    templates = []
    for _ in range(num_templates):
        ids = rng.sample(range(num_images), gallery_size + 2)
        templates.append(
            {
                "reference": {"val_image_id": ids[0]},
                "condition": rng.choice(["dog", "brick wall", "sky", "toaster"]),
                "target": {"val_image_id": ids[1]},
                "gallery": [{"val_image_id": i} for i in ids[2:]],
            }
        )
    (root / f"{task}.json").write_text(json.dumps(templates))


def naive_loop(model: Any, root: Path, tasks: list[str], device: str) -> dict[str, dict[str, float]]:
    """Per template: open, preprocess and encode the reference and every candidate again."""

    def load(entry: dict[str, int]) -> torch.Tensor:
        with Image.open(root / "val2017" / f"{entry['val_image_id']:012d}.jpg") as image:
            return model.preprocess(image.convert("RGB"))

    results = {}
    with torch.no_grad():
        for task in tasks:
            rows = []
            for t in json.loads((root / f"{task}.json").read_text()):
                query = model.encode_query(load(t["reference"])[None].to(device), [t["condition"]])
                candidates = torch.stack([load(e) for e in [t["target"], *t["gallery"]]]).to(device)
                rows.append((query.float() @ model.encode_gallery(candidates).float().T)[0].cpu())
            results[task] = template_recalls(torch.stack(rows))
    return results


def build_model(name: str, device: str) -> Any:
    """The tiny CNN, or cir-models' image_plus_text encoder on open_clip architecture ``name``."""
    if name == "tiny":
        return TinyConvEncoder().eval().to(device)
    from cir_models import create_encoder

    torch.manual_seed(0)
    encoder, _ = create_encoder("image_plus_text", model=name, device=device)
    return encoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (median reported)")
    parser.add_argument("--real-sizes", action="store_true",
                        help="focus_object + change_object, 1,960 templates each, 15 candidates, 3,033 images")
    parser.add_argument("--images", type=int, default=None, help="image pool (default 300; 3,033 with --real-sizes)")
    parser.add_argument("--templates", type=int, default=None, help="per task (default 400; 1,960 with --real-sizes)")
    parser.add_argument("--gallery", type=int, default=14, help="gallery items besides the target (14: 15 candidates)")
    parser.add_argument("--model", default="tiny", help="'tiny' or an open_clip architecture such as ViT-B-16")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--batch-size", type=int, default=64, help="cir-eval's encoding batch")
    parser.add_argument("--workers", type=int, default=2, help="cir-eval's image-decoding threads")
    parser.add_argument("--image-size", default=None,
                        help="WxH of the JPEGs (default 160x120 flat colours; 640x480 photo-like with --real-sizes, "
                             "COCO val2017's typical size)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1: on a shared 2-core machine more threads stall on busy cores)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is present; run on a GPU machine or use --device cpu")
    tasks = ["focus_object", "change_object"] if args.real_sizes else ["focus_object"]
    images = args.images or (3033 if args.real_sizes else 300)
    templates = args.templates or (1960 if args.real_sizes else 400)
    torch.set_num_threads(args.threads)
    model = build_model(args.model, args.device)
    plain = WithoutSharedFeatures(model)
    size_text = args.image_size or ("640x480" if args.real_sizes else "160x120")
    size = tuple(int(v) for v in size_text.lower().split("x"))
    options = {"progress": False, "num_workers": args.workers, "batch_size": args.batch_size, "device": args.device}

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_images(root, images, size)  # type: ignore[arg-type]
        for seed, task in enumerate(tasks):
            write_task(root, task, images, templates, args.gallery, seed)

        def cir_eval_run(encoder: Any) -> dict[str, dict[str, float]]:
            forget_resolved_paths()  # each run pays for resolving its paths, as a fresh process would
            results = cir_eval.run_benchmark("genecis", encoder, root, tasks=tasks, **options)
            return {task: dict(result.metrics) for task, result in results.items()}

        methods = {
            "cir-eval, shared image features (image tower once per unique image)": lambda: cir_eval_run(model),
            "cir-eval, encode_query per pair (the two required methods only)": lambda: cir_eval_run(plain),
            "per-template loop (reference)": lambda: naive_loop(model, root, tasks, args.device),
        }
        first = {name: run() for name, run in methods.items()}  # warm-up, and the metrics must agree
        reference = first["per-template loop (reference)"]
        for name, metrics in first.items():
            for task in tasks:
                assert all(abs(metrics[task][k] - reference[task][k]) < 1e-4 for k in reference[task]), (
                    name, task, metrics[task], reference[task])
        times: dict[str, list[float]] = {name: [] for name in methods}
        for _ in range(args.runs):  # interleaved, so load changes hit every method
            for name, run in methods.items():
                times[name] += timed_runs(run, 1)
    n_templates = templates * len(tasks)
    loop = median(times["per-template loop (reference)"])
    recalls = ", ".join(f"{t} {reference[t]['recall@1']:.2f}" for t in tasks)
    rows = [
        [name, f"{median(runs):.2f}", ", ".join(f"{t:.2f}" for t in runs), f"{n_templates / median(runs):,.0f}",
         f"**{loop / median(runs):.1f}×**"]
        for name, runs in times.items()
    ]
    print_report(
        f"GeneCIS-format evaluation ({args.device}, model {args.model}): {', '.join(tasks)}, {templates:,} templates "
        f"per task, {args.gallery + 1} candidates, {images:,} unique {size_text} images; median of {args.runs} "
        f"runs; R@1 {recalls} (identical for every method)",
        ["method", "time (s)", "runs (s)", "templates/s", "ratio to per-template loop"],
        rows,
    )

if __name__ == "__main__":
    main()
