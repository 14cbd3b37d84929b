"""Zero-shot classification (micro vs macro, prompt ensembles) and image-text retrieval, by hand."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch

import cir_eval
from cir_eval.errors import AnnotationError, BenchmarkDataError
from cir_eval.text import ensemble_prompts

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
YELLOW, CYAN, MAGENTA, WHITE = (255, 255, 0), (0, 255, 255), (255, 0, 255), (255, 255, 255)
WORDS = {
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
    "cyan": (0.0, 1.0, 1.0),
    "pale": (0.5, 0.5, 0.5),
}


def _word_sum(texts: list[str]) -> torch.Tensor:
    return torch.tensor(
        [[sum(WORDS.get(w, (0.0,) * 3)[i] for w in t.replace(".", "").split()) for i in range(3)] for t in texts]
    )


@pytest.fixture
def text_encoder(encoder_cls: type) -> Any:
    """ColorEncoder plus encode_text = normalised sum of the colour words of the text."""

    class TextColorEncoder(encoder_cls):  # type: ignore[misc, valid-type]
        def encode_text(self, texts: list[str]) -> torch.Tensor:
            return torch.nn.functional.normalize(_word_sum(texts), dim=1)

    return TextColorEncoder()


# ---- prompt ensembling --------------------------------------------------------------------------


def test_cosine_ensemble_is_clip_normalise_average_normalise() -> None:
    features = torch.tensor([[3.0, 4.0, 0.0], [0.0, 0.0, 2.0]])
    # rows (0.6, 0.8, 0) and (0, 0, 1); mean (0.3, 0.4, 0.5) has norm sqrt(0.5)
    expected = torch.tensor([0.3, 0.4, 0.5]) / math.sqrt(0.5)
    assert torch.allclose(ensemble_prompts(object(), features, "cosine"), expected)
    # raw averaging would weigh the longer prompt vector more: (1.5, 2, 1) / |.| differs
    assert not torch.allclose(ensemble_prompts(object(), features, "dot"), expected)
    assert torch.allclose(ensemble_prompts(object(), features, "dot"), torch.tensor([1.5, 2.0, 1.0]))


def test_ensemble_hook_decides_and_callable_similarity_needs_it() -> None:
    features = torch.tensor([[1.0, 2.0], [3.0, 6.0]])

    class Tangent:
        def __init__(self) -> None:
            self.calls: list[tuple[int, ...]] = []

        def ensemble_text(self, prompt_features: torch.Tensor) -> torch.Tensor:
            self.calls.append(tuple(prompt_features.shape))
            return prompt_features.max(dim=0).values

    hook = Tangent()
    assert torch.equal(ensemble_prompts(hook, features, lambda q, g: -torch.cdist(q, g)), torch.tensor([3.0, 6.0]))
    assert hook.calls == [(2, 2)]
    with pytest.raises(TypeError, match="ensemble_text"):
        ensemble_prompts(object(), features, lambda q, g: -torch.cdist(q, g))
    # one prompt needs no ensembling, whatever the space
    assert torch.equal(ensemble_prompts(object(), features[:1], lambda q, g: q @ g.T), torch.tensor([1.0, 2.0]))

    class BadHook:
        def ensemble_text(self, prompt_features: torch.Tensor) -> torch.Tensor:
            return prompt_features

    with pytest.raises(ValueError, match=r"ensemble_text must return a \[2\] tensor"):
        ensemble_prompts(BadHook(), features, "cosine")


# ---- classification -----------------------------------------------------------------------------


def _imagefolder(root: Path, make_image) -> None:  # type: ignore[no-untyped-def]
    # folder n02 is "red" (4 images, 3 red -> right, 1 blue -> wrong), n01 is "blue" (cyan right, red wrong)
    for i, color in enumerate([RED, RED, RED, BLUE]):
        make_image(root / "val" / "n02" / f"{i}.png", color)
    for i, color in enumerate([CYAN, RED]):
        make_image(root / "val" / "n01" / f"{i}.png", color)
    (root / "classes.txt").write_text("n02\tred\nn01\tblue\n", encoding="utf-8")


def test_micro_and_macro_accuracy_differ_on_an_imbalanced_toy(tmp_path: Path, text_encoder, make_image) -> None:  # type: ignore[no-untyped-def]
    _imagefolder(tmp_path, make_image)
    result = cir_eval.run_benchmark("zeroshot_classification", text_encoder, tmp_path, progress=False)["val"]
    # micro: 4 right of 6; macro: (3/4 + 1/2) / 2
    assert result.metrics == pytest.approx({"top1_accuracy": 400 / 6, "mean_per_class_accuracy": 62.5})
    assert result.info["num_classes"] == 2
    assert result.info["prompts"] == "default"


def test_prompt_templates_and_per_class_prompts(tmp_path: Path, text_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _imagefolder(tmp_path, make_image)
    # "pale red" = (1.5, .5, .5), "red" = (1, 0, 0): the CLIP ensemble of both is still closest to red
    scores = cir_eval.evaluate(
        "zeroshot_classification", text_encoder, tmp_path, prompts=["a {}.", "a pale {}."], progress=False
    )
    assert scores == pytest.approx({"top1_accuracy": 400 / 6, "mean_per_class_accuracy": 62.5})
    # per-class prompts from prompts.json (found by default): red = yellow (1,1,0), blue = cyan (0,1,1)
    # -> red images red (3 right), the blue one blue (wrong), cyan blue (right), the red one red (wrong)
    make_json(tmp_path / "prompts.json", {"red": ["yellow"], "blue": ["cyan"]})
    result = cir_eval.run_benchmark("zeroshot_classification", text_encoder, tmp_path, progress=False)["val"]
    assert result.metrics == pytest.approx({"top1_accuracy": 400 / 6, "mean_per_class_accuracy": 62.5})
    assert result.info["prompts"] == str(tmp_path / "prompts.json")
    # red = green (0,1,0), blue = yellow: red images -> blue (.707 vs 0, 3 wrong); the blue image ties at 0
    # -> class 0 "red" (right); cyan -> red (.707 vs .5, wrong); the red one -> blue (right)
    make_json(tmp_path / "prompts.json", {"red": ["green"], "blue": ["yellow"]})
    result = cir_eval.run_benchmark("zeroshot_classification", text_encoder, tmp_path, progress=False)["val"]
    assert result.metrics == pytest.approx({"top1_accuracy": 200 / 6, "mean_per_class_accuracy": 37.5})


def test_callable_similarity_with_tangent_hook(tmp_path: Path, encoder_cls, make_image) -> None:  # type: ignore[no-untyped-def]
    _imagefolder(tmp_path, make_image)

    class Distance(encoder_cls):  # type: ignore[misc, valid-type]
        """Unnormalised colours scored by negative Euclidean distance; prompts averaged by the hook."""

        def __init__(self) -> None:
            super().__init__()
            self.seen: list[tuple[int, ...]] = []

        def encode_gallery(self, images: Any) -> torch.Tensor:
            return self._colors(images)

        def encode_text(self, texts: list[str]) -> torch.Tensor:
            return _word_sum(texts)

        def ensemble_text(self, prompt_features: torch.Tensor) -> torch.Tensor:
            self.seen.append(tuple(prompt_features.shape))
            return prompt_features.mean(dim=0)

        @staticmethod
        def similarity(q: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
            return -torch.cdist(q, g)

    encoder = Distance()
    # red class = mean((1,0,0), (1.5,.5,.5)) = (1.25,.25,.25); blue class = (.25,.25,1.25): the cyan image
    # (0,1,1) is closer to blue (dist² .0625+.5625+.0625) than to red (1.5625+.5625+.5625)
    scores = cir_eval.evaluate(
        "zeroshot_classification", encoder, tmp_path, prompts=["{}", "pale {}"], progress=False
    )
    assert scores == pytest.approx({"top1_accuracy": 400 / 6, "mean_per_class_accuracy": 62.5})
    assert encoder.seen == [(2, 3), (2, 3)]


def test_classification_errors(tmp_path: Path, text_encoder, encoder_cls, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _imagefolder(tmp_path, make_image)
    make_image(tmp_path / "val" / "n03" / "0.png", GREEN)
    with pytest.raises(BenchmarkDataError, match=r"\['n03'\] are not listed"):
        cir_eval.evaluate("zeroshot_classification", text_encoder, tmp_path, progress=False)
    (tmp_path / "classes.txt").write_text("n02\tred\nn01\tblue\nn03\tgreen\n", encoding="utf-8")
    make_json(tmp_path / "prompts.json", ["a photo of a {}.", "no placeholder"])
    with pytest.raises(AnnotationError, match=r"prompts.json, entry 1, field 'template'"):
        cir_eval.evaluate("zeroshot_classification", text_encoder, tmp_path, progress=False)
    with pytest.raises(TypeError, match="encode_text"):
        cir_eval.evaluate("zeroshot_classification", encoder_cls(), tmp_path, prompts=["{}"], progress=False)


# ---- retrieval ----------------------------------------------------------------------------------


def _coco(root: Path, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    colors = [RED, GREEN, BLUE, YELLOW, CYAN, MAGENTA, WHITE]
    images = []
    for row, color in enumerate(colors):
        make_image(root / "val2017" / f"{row}.png", color)
        images.append({"id": 10 * (row + 1), "file_name": f"{row}.png"})
    captions = [(10, "red"), (10, "cyan"), (20, "yellow"), (30, "blue"), (30, "blue green")]
    annotations = [{"id": i, "image_id": image_id, "caption": c} for i, (image_id, c) in enumerate(captions)]
    make_json(root / "annotations" / "captions_val2017.json", {"images": images, "annotations": annotations})


def test_retrieval_with_several_captions_per_image(tmp_path: Path, text_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _coco(tmp_path, make_image, make_json)
    result = cir_eval.run_benchmark("zeroshot_retrieval", text_encoder, tmp_path, progress=False)["val2017"]
    # text->image ranks of the right image: red 1, cyan 7 (R scores 0, last), yellow 4, blue 1,
    # "blue green" 4 (cyan, white, then green before blue on the .707 tie)
    # image->text: red hits "red" first; green's best captions tie at .707 (cyan [red's], yellow [green's],
    # blue green) -> rank 2; blue hits "blue" first; the 4 images without captions are no queries
    assert result.metrics == pytest.approx(
        {
            "recall_t2i@1": 40.0,
            "recall_t2i@5": 80.0,
            "recall_t2i@10": 100.0,
            "recall_i2t@1": 200 / 3,
            "recall_i2t@5": 100.0,
            "recall_i2t@10": 100.0,
        }
    )
    assert result.info["images_without_captions"] == 4
    assert result.info["num_captions"] == 5


def test_retrieval_names_the_bad_annotation(tmp_path: Path, text_encoder, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    _coco(tmp_path, make_image, make_json)
    path = tmp_path / "annotations" / "captions_val2017.json"
    make_json(path, {"images": [{"id": 1, "file_name": "0.png"}], "annotations": [{"image_id": 2, "caption": "x"}]})
    with pytest.raises(AnnotationError, match=r"entry annotations\[0\], field 'image_id': no image with id 2"):
        cir_eval.evaluate("zeroshot_retrieval", text_encoder, tmp_path, progress=False)
    make_json(path, {"images": [{"id": 1, "file_name": "../../x.png"}], "annotations": []})
    with pytest.raises(BenchmarkDataError, match="outside the data root"):
        cir_eval.evaluate("zeroshot_retrieval", text_encoder, tmp_path, progress=False)
