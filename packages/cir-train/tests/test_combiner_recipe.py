"""The ``combiner`` recipe on tiny triplets: its parts build from a shard folder and a triplet table, and learn."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cir_data.mining import TRIPLET_COLUMNS, write_triplets
from cir_data.shards import iter_samples, list_shards
from cir_data.synth import iter_items, write_shards
from cir_train import load_config
from cir_train.recipes import get_recipe
from cir_train.recipes.combiner import combiner_loss

IMAGES = 16


@pytest.fixture(scope="module")
def tiny_triplets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("combiner")
    write_shards(iter_items(0, range(IMAGES)), root / "shards", total=IMAGES, seed=0, progress=False)
    keys = [s["__key__"] for s in iter_samples(list_shards(root / "shards"), required=("jpg",))]
    conditions = ["red", "blue", "circle", "color"]
    rows = [(keys[i], keys[(i + 1) % IMAGES], keys[(i + 5) % IMAGES], conditions[i % 4]) for i in range(IMAGES)]
    table = {name: [] for name in TRIPLET_COLUMNS}
    for seed, (ref, target, distractor, condition) in enumerate(rows):
        values = {"seed": seed, "reference_key": ref, "target_key": target, "distractor_key": distractor,
                  "condition": condition, "kind": "test", "reference_row": -1, "target_row": -1, "distractor_row": -1}
        for name in TRIPLET_COLUMNS:
            table[name].append(values[name])
    return root / "shards", write_triplets(table, root / "triplets.parquet")


def _losses(shards: Path, triplets: Path, extra: list[str], steps: int = 80) -> list[float]:
    torch.manual_seed(0)
    overrides = [f"data.root={shards}", f"data.options.triplets={triplets}", "logging.progress_bar=false",
                 "model.options={projection_dim: 32, hidden_dim: 64, dropout: 0.0}", *extra]
    config = load_config(overrides=overrides, base=get_recipe("combiner").config("tiny"))
    parts = get_recipe("combiner").build(config)
    items = [parts.dataset[i] for i in range(len(parts.dataset))]
    batch = {k: torch.stack([item[k] for item in items]) for k in items[0]}
    optimiser = torch.optim.AdamW([p for p in parts.module.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for _ in range(steps):
        loss = parts.module(batch)["loss"]
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    return losses


@pytest.mark.parametrize(
    "extra",
    [[], ["loss.options={temperature: 0.05, distractors: true}", "data.options.finetune_backbone=true"]],
    ids=["frozen-features", "finetuned-backbone-with-distractors"],
)
def test_loss_falls_on_tiny_triplets(tiny_triplets: tuple[Path, Path], extra: list[str]) -> None:
    losses = _losses(*tiny_triplets, extra)
    assert losses[-1] < 0.7 * losses[0], losses


def test_finetuning_trains_the_backbone_and_freezing_does_not(tiny_triplets: tuple[Path, Path]) -> None:
    shards, triplets = tiny_triplets
    base = get_recipe("combiner").config("tiny")
    for extra, trainable in (([], False), (["data.options.finetune_backbone=true"], True)):
        overrides = [f"data.root={shards}", f"data.options.triplets={triplets}", "logging.progress_bar=false", *extra]
        module = get_recipe("combiner").build(load_config(overrides=overrides, base=base)).module
        names = {n for n, p in module.named_parameters() if p.requires_grad}
        assert any(n.startswith("backbone.clip.") for n in names) is trainable
        assert any(n.startswith("head.") for n in names)


def test_loss_masks_a_repeated_target_and_counts_distractors() -> None:
    # rows 0 and 1 share their target image (id 7): row 1's target must not count as a negative for row 0.
    query = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [1.0, 0.0]]), dim=-1)
    target = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    distractor = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    batch = {"target": target, "target_id": torch.tensor([7, 7]), "distractor": distractor,
             "distractor_id": torch.tensor([3, 4])}
    out = combiner_loss(query, batch, temperature=1.0, distractors=True)
    # each row: logits [1 (own target), -inf (masked twin), 0, 0] -> CE = log(e + 2) - 1
    expected = torch.log(torch.tensor(torch.e + 2.0)) - 1.0
    assert torch.allclose(out["loss"], expected)
    assert float(out["batch_r1"]) == 1.0
