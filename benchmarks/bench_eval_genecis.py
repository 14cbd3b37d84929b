"""Time a GeneCIS-format evaluation: cir-eval vs a per-template loop that re-encodes every gallery image.

Both score the same templates with the same tiny torch model on CPU; the naive loop decodes and
encodes the reference and all candidates of each template every time they appear (as a simple
per-template evaluation does), while cir-eval decodes and encodes each unique image once, in
batches, with a thread pool. Prints the median of N runs of each and the speed-up ratio.

    PYTHONPATH=packages/cir-eval/src python benchmarks/bench_eval_genecis.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import cir_eval
import torch
from cir_eval.benchmarks.genecis import template_recalls
from PIL import Image


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
        tokens = torch.tensor([[hash(w) % 1000 for w in (t.split() or [""])][:1] for t in texts])
        return torch.nn.functional.normalize(self.net(images) + self.text(tokens), dim=1)


def write_fixture(root: Path, num_images: int, num_templates: int, gallery_size: int) -> None:
    rng = random.Random(0)
    (root / "val2017").mkdir(parents=True)
    for i in range(num_images):
        color = tuple(rng.randrange(256) for _ in range(3))
        Image.new("RGB", (160, 120), color).save(root / "val2017" / f"{i:012d}.jpg")
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
    (root / "focus_object.json").write_text(json.dumps(templates))


def naive_loop(model: TinyConvEncoder, root: Path) -> dict[str, float]:
    """Per template: open, preprocess and encode the reference and every candidate again."""

    def load(entry: dict[str, int]) -> torch.Tensor:
        with Image.open(root / "val2017" / f"{entry['val_image_id']:012d}.jpg") as image:
            return model.preprocess(image.convert("RGB"))

    rows = []
    with torch.no_grad():
        for t in json.loads((root / "focus_object.json").read_text()):
            query = model.encode_query(load(t["reference"])[None], [t["condition"]])
            gallery = model.encode_gallery(torch.stack([load(e) for e in [t["target"], *t["gallery"]]]))
            rows.append((query @ gallery.T)[0])
    return template_recalls(torch.stack(rows))


def median_seconds(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--templates", type=int, default=400)
    parser.add_argument("--gallery", type=int, default=14)
    args = parser.parse_args()
    torch.set_num_threads(2)
    model = TinyConvEncoder().eval()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_fixture(root, args.images, args.templates, args.gallery)
        ours = cir_eval.evaluate("genecis", model, root, task="focus_object", progress=False, num_workers=2)
        naive = naive_loop(model, root)
        assert all(abs(ours[k] - naive[k]) < 1e-6 for k in ours), (ours, naive)
        t_ours = median_seconds(
            lambda: cir_eval.evaluate("genecis", model, root, task="focus_object", progress=False, num_workers=2),
            args.runs,
        )
        t_naive = median_seconds(lambda: naive_loop(model, root), args.runs)
    print(f"templates={args.templates} candidates={args.gallery + 1} unique images={args.images} runs={args.runs}")
    print(f"metrics (identical in both): {ours}")
    print(f"per-template loop: median {t_naive:.3f} s")
    print(f"cir-eval:          median {t_ours:.3f} s")
    print(f"speed-up: {t_naive / t_ours:.1f}x")


if __name__ == "__main__":
    main()
