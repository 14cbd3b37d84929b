"""check_encoder accepts a good encoder and names the broken rule for bad ones."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from cir_eval import check_encoder

IMAGES = [Image.new("RGB", (8, 8), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
TEXTS = ["a", "b", "c"]


class TinyModule(torch.nn.Module):
    """A torch encoder with preprocess, dropout (so eval mode matters) and cosine similarity."""

    def __init__(self, dim: int = 5) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.proj = torch.nn.Linear(3, dim)
        self.drop = torch.nn.Dropout(0.5)

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        return torch.tensor(image.getpixel((0, 0)), dtype=torch.float32) / 255

    def encode_gallery(self, images: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.normalize(self.drop(self.proj(images)), dim=1)

    def encode_query(self, images: torch.Tensor, texts: list[str]) -> torch.Tensor:
        shift = torch.tensor([[len(t)] for t in texts], dtype=torch.float32)
        return torch.nn.functional.normalize(self.drop(self.proj(images)) + shift, dim=1)


def test_good_torch_encoder_passes_and_training_mode_is_restored() -> None:
    model = TinyModule()
    model.train()
    assert check_encoder(model, IMAGES, TEXTS) == {
        "dim": 5, "similarity": "cosine", "text": False, "shared_features": False}
    assert model.training


class Unnormalised(TinyModule):
    def encode_gallery(self, images: torch.Tensor) -> torch.Tensor:
        return 3 * super().encode_gallery(images)


class WrongDim(TinyModule):
    def encode_query(self, images: torch.Tensor, texts: list[str]) -> torch.Tensor:
        return torch.nn.functional.normalize(torch.ones(len(texts), 4), dim=1)


class Random(TinyModule):
    def encode_gallery(self, images: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.normalize(torch.randn(images.shape[0], 5), dim=1)


class NaNs(TinyModule):
    def encode_query(self, images: torch.Tensor, texts: list[str]) -> torch.Tensor:
        return torch.full((len(texts), 5), float("nan"))


class BadSimilarity(TinyModule):
    similarity = "euclid"


class BadCallable(TinyModule):
    @staticmethod
    def similarity(q: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return (q @ g.T).T[:, :1]


class GoodCallable(TinyModule):
    @staticmethod
    def similarity(q: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return -torch.cdist(q, g)


class Flat(TinyModule):
    def encode_gallery(self, images: torch.Tensor) -> torch.Tensor:
        return super().encode_gallery(images).flatten()


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (Unnormalised, "L2-normalised"),
        (WrongDim, "dimensions differ"),
        (Random, "not deterministic"),
        (NaNs, "non-finite"),
        (BadSimilarity, "not one of"),
        (BadCallable, r"scores \[Q, G\]"),
        (Flat, "2-D tensor"),
    ],
)
def test_broken_encoders_fail_with_a_clear_message(cls: type, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_encoder(cls(), IMAGES, TEXTS)


def test_callable_similarity_passes() -> None:
    assert check_encoder(GoodCallable(), IMAGES, TEXTS)["similarity"].endswith("similarity")


def test_missing_method_and_bad_arguments() -> None:
    with pytest.raises(AssertionError, match="encode_query"):
        check_encoder(type("G", (), {"encode_gallery": lambda self, x: x})(), IMAGES, TEXTS)
    with pytest.raises(ValueError, match="one text per image"):
        check_encoder(TinyModule(), IMAGES, TEXTS[:1])


class WithText(TinyModule):
    """Adds the optional encode_text (zero-shot benchmarks): unit rows in the gallery's space."""

    def encode_text(self, texts: list[str]) -> torch.Tensor:
        return torch.nn.functional.normalize(self.proj(torch.tensor([[len(t), 1.0, 0.0] for t in texts])), dim=1)


class TextUnnormalised(WithText):
    def encode_text(self, texts: list[str]) -> torch.Tensor:
        return 2 * super().encode_text(texts)


class TextWrongDim(WithText):
    def encode_text(self, texts: list[str]) -> torch.Tensor:
        return torch.nn.functional.normalize(torch.ones(len(texts), 3), dim=1)


class TextBatchDependent(WithText):
    def encode_text(self, texts: list[str]) -> torch.Tensor:
        return torch.nn.functional.normalize(super().encode_text(texts) + len(texts), dim=1)


class BadEnsemble(WithText):
    def ensemble_text(self, prompt_features: torch.Tensor) -> torch.Tensor:
        return prompt_features.mean(dim=0, keepdim=True)


class GoodEnsemble(WithText):
    def ensemble_text(self, prompt_features: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.normalize(prompt_features.mean(dim=0), dim=0)


def test_optional_encode_text_is_checked_when_present() -> None:
    assert check_encoder(WithText(), IMAGES, TEXTS) == {
        "dim": 5, "similarity": "cosine", "text": True, "shared_features": False}
    assert check_encoder(GoodEnsemble(), IMAGES, TEXTS)["text"]


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (TextUnnormalised, "encode_text must return L2-normalised"),
        (TextWrongDim, "encode_text and encode_gallery dimensions differ"),
        (TextBatchDependent, "encode_text gives a different embedding"),
        (BadEnsemble, r"ensemble_text must turn \[P, 5\]"),
    ],
)
def test_broken_text_side_fails_with_a_clear_message(cls: type, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_encoder(cls(), IMAGES, TEXTS)


class SharedFeatures(TinyModule):
    """The shared-feature methods, consistent with encode_gallery / encode_query."""

    def encode_image_features(self, images: torch.Tensor) -> torch.Tensor:
        return self.drop(self.proj(images))

    def gallery_from_features(self, features: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.normalize(features, dim=1)

    def query_from_features(self, features: torch.Tensor, texts: list[str]) -> torch.Tensor:
        shift = torch.tensor([[len(t)] for t in texts], dtype=torch.float32)
        return torch.nn.functional.normalize(features + shift, dim=1)


class SharedFeaturesIgnoringText(SharedFeatures):
    def query_from_features(self, features: torch.Tensor, texts: list[str]) -> torch.Tensor:
        return torch.nn.functional.normalize(features, dim=1)


def test_shared_feature_methods_must_reproduce_the_protocol_methods() -> None:
    assert check_encoder(SharedFeatures(), IMAGES, TEXTS)["shared_features"]
    with pytest.raises(AssertionError, match=r"query_from_features.*differs from encode_query"):
        check_encoder(SharedFeaturesIgnoringText(), IMAGES, TEXTS)
