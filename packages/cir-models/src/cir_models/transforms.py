"""Image preprocessing: CLIP's, SEARLE's target-pad, and CondViT's white pad-to-square.

Every pipeline is built from open_clip's :class:`~open_clip.transform.PreprocessCfg` (size, mean,
std, interpolation), which the backbone carries with its weights; a pipeline kind only adds the
padding step a method's paper needs (``specs/lincir.md`` §2, ``specs/condvit-lrvsf.md`` §1.5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from open_clip.transform import PreprocessCfg, image_transform_v2
from PIL import Image
from torchvision import transforms as T
from torchvision.transforms import functional as TF

__all__ = [
    "ImageTransforms",
    "SquarePad",
    "TargetPad",
    "build_transforms",
    "list_transform_kinds",
]

Transform = Callable[[Image.Image], torch.Tensor]

SEARLE_TARGET_RATIO = 1.25  # specs/lincir.md §2: targetpad ratio 1.25
CONDVIT_FILL = 255  # specs/condvit-lrvsf.md §1.5: pad with white


@dataclass(frozen=True)
class ImageTransforms:
    """The training and evaluation pipelines of one encoder (``PIL.Image -> Tensor[3, H, W]``)."""

    train: Transform
    eval: Transform


class TargetPad:
    """SEARLE's targetpad: pad the short side with ``fill`` only when the aspect ratio exceeds ``ratio``.

    The padded image has aspect ratio ``ratio`` (up to integer rounding), centred; a later
    resize + centre crop then keeps more of a long image than CLIP's plain crop would.
    """

    def __init__(self, ratio: float = SEARLE_TARGET_RATIO, fill: int = 0) -> None:
        self.ratio = ratio
        self.fill = fill

    def __call__(self, image: Image.Image) -> Image.Image:
        w, h = image.size
        if max(w, h) / min(w, h) < self.ratio:
            return image
        target = max(w, h) / self.ratio
        pad_w = max(int((target - w) / 2), 0)
        pad_h = max(int((target - h) / 2), 0)
        return TF.pad(image, [pad_w, pad_h, pad_w, pad_h], fill=self.fill)


class SquarePad:
    """Pad to a centred square of side max(w, h) with colour ``fill`` (CondViT uses white)."""

    def __init__(self, fill: int = CONDVIT_FILL) -> None:
        self.fill = fill

    def __call__(self, image: Image.Image) -> Image.Image:
        image = image.convert("RGB")
        side = max(image.size)
        canvas = Image.new("RGB", (side, side), (self.fill,) * 3)
        canvas.paste(image, ((side - image.size[0]) // 2, (side - image.size[1]) // 2))
        return canvas


def _to_rgb(image: Image.Image) -> Image.Image:
    return image.convert("RGB")


def _clip(cfg: PreprocessCfg) -> ImageTransforms:
    return ImageTransforms(image_transform_v2(cfg, is_train=True), image_transform_v2(cfg, is_train=False))


def _targetpad(cfg: PreprocessCfg) -> ImageTransforms:
    pad = TargetPad()
    return ImageTransforms(
        T.Compose([_to_rgb, pad, image_transform_v2(cfg, is_train=True)]),
        T.Compose([_to_rgb, pad, image_transform_v2(cfg, is_train=False)]),
    )


def _squarepad(cfg: PreprocessCfg) -> ImageTransforms:
    size = cfg.size if isinstance(cfg.size, int) else cfg.size[0]
    interpolation = (
        T.InterpolationMode.BILINEAR if cfg.interpolation == "bilinear" else T.InterpolationMode.BICUBIC
    )
    tail = [T.ToTensor(), T.Normalize(cfg.mean, cfg.std)]
    # specs/condvit-lrvsf.md §2.4 (train) and §1.5 (eval: no crop)
    train = T.Compose(
        [SquarePad(), T.RandomResizedCrop(size, scale=(0.8, 1.0), interpolation=interpolation),
         T.RandomHorizontalFlip(), *tail]
    )
    evaluate = T.Compose([SquarePad(), T.Resize((size, size), interpolation=interpolation), *tail])
    return ImageTransforms(train, evaluate)


_TRANSFORM_KINDS: dict[str, Callable[[PreprocessCfg], ImageTransforms]] = {
    "clip": _clip,
    "targetpad": _targetpad,
    "squarepad": _squarepad,
}


def list_transform_kinds() -> list[str]:
    """Names accepted by :func:`build_transforms`."""
    return sorted(_TRANSFORM_KINDS)


def build_transforms(cfg: PreprocessCfg, kind: str = "clip") -> ImageTransforms:
    """Build the train/eval pipelines of ``kind`` (``clip``, ``targetpad``, ``squarepad``) for ``cfg``."""
    if kind not in _TRANSFORM_KINDS:
        raise KeyError(f"unknown transform kind {kind!r}; known: {list_transform_kinds()}")
    return _TRANSFORM_KINDS[kind](cfg)
