"""`cir-benchmark` on a checkpoint made by a short cir-train run, over the synthetic GeneCIS export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from cir_benchmark.checkpoint import build_encoders, resolve_run
from cir_benchmark.cli import main
from cir_data.mining import write_triplets
from cir_data.synth import ExportSettings, iter_items, run_export, write_shards
from cir_eval import evaluate
from cir_eval.results import result_path
from cir_models import create_encoder
from cir_train import Trainer, load_config
from cir_train.recipes import get_recipe

TASKS = ("focus_attribute", "change_attribute", "focus_object", "change_object", "average")


def _train(recipe: str, run_dir: Path, overrides: list[str]) -> Path:
    config = load_config(
        overrides=[f"run_dir={run_dir}", "max_steps=2", "logging.progress_bar=false", "logging.tensorboard=false",
                   *overrides],
        base=get_recipe(recipe).config("tiny"),
    )
    parts = get_recipe(recipe).build(config)
    trainer = Trainer(config, parts.module, parts.dataset, collate_fn=parts.collate_fn)
    try:
        trainer.train()
    finally:
        trainer.close()
    return run_dir


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("world")
    write_shards(iter_items(0, range(32)), root / "shards", total=32, seed=0, progress=False)
    run_export("genecis", ExportSettings(root, seed=0, queries=4, progress=False))
    return root


@pytest.fixture(scope="module")
def clip_run(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "clip"
    return _train("clip", run_dir, [f"data.root={world / 'shards'}", "data.micro_batch_size=8"])


def test_checkpoint_is_required() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2


def test_missing_checkpoint_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--checkpoint", str(tmp_path / "nope"), "--root", str(tmp_path)]) == 2
    assert "neither a cir-train run folder" in capsys.readouterr().err


def test_clip_run_is_evaluated_as_the_three_baselines(world: Path, clip_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    assert main(["--checkpoint", str(clip_run), "--root", str(world), "--out", str(out), "--no-progress"]) == 0
    for model in ("image_only", "text_only", "image_plus_text"):
        for task in TASKS:
            assert result_path(out, "genecis", task, model).is_file()
    assert "## genecis" in (out / "results.md").read_text()
    # the written score is the trained weights' score, not a fresh model's
    weights = load_file(str(resolve_run(clip_run).checkpoint / "model.safetensors"))
    torch.manual_seed(0)
    encoder, _ = create_encoder("image_only", model="cir-tiny")
    prefix = "backbone.clip."
    encoder.backbone.clip.load_state_dict({k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)})
    expected = evaluate("genecis", encoder, world / "genecis", task="change_object", progress=False)
    record = json.loads(result_path(out, "genecis", "change_object", "image_only").read_text())
    assert record["metrics"]["recall@1"] == pytest.approx(expected["recall@1"])


def test_a_checkpoint_folder_and_a_combiner_head(world: Path, clip_run: Path, tmp_path: Path) -> None:
    weights = load_file(str(resolve_run(clip_run).checkpoint / "model.safetensors"))
    torch.save({k[len("backbone.clip."):]: v for k, v in weights.items() if k.startswith("backbone.clip.")},
               tmp_path / "backbone.pt")
    keys = [f"{i:09d}" for i in range(4)]  # the first shard's keys: 000000000, 000000001, ...
    table = {
        "reference_key": keys,
        "target_key": keys[::-1],
        "distractor_key": keys[1:] + keys[:1],
        "condition": ["red", "blue", "above circle", "color"],
    }
    triplets = write_triplets(table, tmp_path / "triplets.parquet")
    run_dir = _train("combiner", tmp_path / "combiner", [
        f"data.root={world / 'shards'}", f"data.options.triplets={triplets}",
        f"model.pretrained={tmp_path / 'backbone.pt'}",
        "data.micro_batch_size=4", "model.options={projection_dim: 16, hidden_dim: 32, dropout: 0.0}",
    ])
    step = resolve_run(run_dir).checkpoint
    assert step.parent.name == "checkpoints"
    encoders = build_encoders(resolve_run(step))
    assert list(encoders) == ["combiner"]
    head = load_file(str(step / "model.safetensors"))
    assert torch.equal(encoders["combiner"].head.output_layer.weight, head["head.output_layer.weight"])
    out = tmp_path / "results"
    assert main(["--checkpoint", str(step), "--root", str(world), "--out", str(out), "--no-progress",
                 "--benchmarks", "genecis"]) == 0
    assert (out / "genecis_average_combiner.json").is_file()
