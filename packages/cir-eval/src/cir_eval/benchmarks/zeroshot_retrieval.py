"""Zero-shot image–text retrieval as MERU reports it (``specs/hyperbolic.md`` §7.2, §12): R@1/5/10 both ways.

Layout (COCO captions style; the task names the split)::

    <root>/annotations/captions_<split>.json   {"images": [{"id", "file_name"}, ...],
                                                "annotations": [{"image_id", "caption"}, ...]}
    <root>/<split>/<file_name>                  the images

(COCO val2017 as MERU uses it: ``annotations/captions_val2017.json`` and ``val2017/``; Flickr30k's
Karpathy test split converted to the same JSON as ``test``.) Both paths are options templated with
``{split}``. Text→image: each caption is a query with one relevant image. Image→text: each image is
a query, relevant to any of its captions; an image without captions is left out of those queries.
Scores use the encoder's declared similarity (ties: lower gallery index first).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cir_eval.annotations import load_json, require_field
from cir_eval.context import EvalContext
from cir_eval.errors import AnnotationError, BenchmarkDataError
from cir_eval.images import ImageRef, file_image
from cir_eval.metrics import recall_at_k
from cir_eval.protocol import prepare_embeddings
from cir_eval.registry import TaskResult, register_benchmark
from cir_eval.text import require_text_encoder, run_encode_text

KS = (1, 5, 10)


@dataclass(frozen=True)
class CaptionedImages:
    """Images in annotation order and every caption with the row of its image."""

    images: list[ImageRef]
    captions: list[str]
    caption_image: list[int]


def read_captions(context: EvalContext, split: str) -> CaptionedImages:
    """Return the split's images and captions, checking ids, fields and image paths."""
    path = context.root / context.option("annotation_file").format(split=split)
    image_dir = context.root / context.option("image_dir").format(split=split)
    data = load_json(path, dict)
    entries = require_field(data, "images", list, path, "<file>")
    annotations = require_field(data, "annotations", list, path, "<file>")
    rows: dict[int, int] = {}
    images: list[ImageRef] = []
    for index, entry in enumerate(entries):
        image_id = require_field(entry, "id", int, path, f"images[{index}]")
        if image_id in rows:
            raise AnnotationError(path, f"images[{index}]", "id", f"image id {image_id} appears twice")
        file_name = require_field(entry, "file_name", str, path, f"images[{index}]")
        rows[image_id] = len(images)
        images.append(file_image(image_dir, file_name, f"{path} images[{index}]"))
    captions: list[str] = []
    caption_image: list[int] = []
    for index, entry in enumerate(annotations):
        image_id = require_field(entry, "image_id", int, path, f"annotations[{index}]")
        if image_id not in rows:
            raise AnnotationError(path, f"annotations[{index}]", "image_id", f"no image with id {image_id}")
        captions.append(require_field(entry, "caption", str, path, f"annotations[{index}]"))
        caption_image.append(rows[image_id])
    if not images or not captions:
        raise BenchmarkDataError(f"{path}: needs at least one image and one caption")
    return CaptionedImages(images, captions, caption_image)


def retrieval_recalls(
    context: EvalContext, images: torch.Tensor, texts: torch.Tensor, caption_image: torch.Tensor
) -> tuple[dict[str, float], int]:
    """Return fractions ``recall_t2i@K`` / ``recall_i2t@K`` and the number of image queries."""
    _, t2i = context.search(texts, images, max(KS))
    t2i_relevance = t2i == caption_image.reshape(-1, 1)
    captioned = torch.unique(caption_image)
    _, i2t = context.search(images[captioned], texts, max(KS))
    # an image's ranking is a hit at the first caption of that image, whichever of its captions it is
    i2t_relevance = caption_image[i2t] == captioned.reshape(-1, 1)
    fractions = {f"recall_t2i@{k}": recall_at_k(t2i_relevance, k) for k in KS}
    fractions.update({f"recall_i2t@{k}": recall_at_k(i2t_relevance, k) for k in KS})
    return fractions, int(captioned.numel())


@register_benchmark(
    "zeroshot_retrieval",
    tasks=("val2017", "test"),
    default_tasks=("val2017",),
    metric_keys=(*(f"recall_t2i@{k}" for k in KS), *(f"recall_i2t@{k}" for k in KS)),
    options={"annotation_file": "annotations/captions_{split}.json", "image_dir": "{split}"},
)
def evaluate_zeroshot_retrieval(context: EvalContext, tasks: tuple[str, ...]) -> dict[str, TaskResult]:
    """Zero-shot image-text retrieval (COCO captions layout): R@1/5/10 text->image and image->text."""
    require_text_encoder(context.encoder, "zeroshot_retrieval")
    results = {}
    for split in tasks:
        data = read_captions(context, split)
        embedded = context.embedder.embed(data.images, [])
        images = embedded.gallery[embedded.gallery_index]
        features = run_encode_text(
            context.encoder, data.captions, batch_size=context.options.batch_size, progress=context.options.progress
        )
        texts = prepare_embeddings(features, context.similarity)
        caption_image = torch.tensor(data.caption_image, dtype=torch.long)
        fractions, image_queries = retrieval_recalls(context, images, texts, caption_image)
        info = {
            "split": split,
            "num_images": len(data.images),
            "num_captions": len(data.captions),
            "image_queries": image_queries,
            "images_without_captions": len(data.images) - image_queries,
        }
        results[split] = TaskResult({k: 100.0 * v for k, v in fractions.items()}, info)
    return results
