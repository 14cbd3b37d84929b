"""The `cir-train` command: help, a recipe run with overrides, and a reduced default run end to end."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cir_data.synth import ExportSettings, iter_items, run_export, write_shards
from cir_trainer.cli import main
from cir_trainer.evaluation import GENECIS_TASKS


def test_help_describes_the_default_run(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for words in ("synthetic world", "baselines", "Combiner", "STAGE.KEY=VALUE", "cir-tiny", "another seed"):
        assert words in out


def test_a_bad_default_run_override_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lr=1"]) == 2
    assert "STAGE.KEY=VALUE" in capsys.readouterr().err


def test_clip_recipe_with_overrides(tmp_path: Path) -> None:
    write_shards(iter_items(0, range(24)), tmp_path / "shards", total=24, seed=0, progress=False)
    run_dir = tmp_path / "run"
    argv = ["clip", "optim.lr=3e-4", "max_steps=3", "data.micro_batch_size=8", f"data.root={tmp_path / 'shards'}",
            f"run_dir={run_dir}", "logging.tensorboard=false", "--no-progress"]
    assert main(argv) == 0
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["optim"]["lr"] == 3e-4 and config["max_steps"] == 3
    steps = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [s["step"] for s in steps] == [1, 2, 3]
    assert (run_dir / "checkpoints" / "step_00000003" / "model.safetensors").is_file()
    assert (run_dir / "backbone.safetensors").is_file()  # exported for cir_models' pretrained=


@pytest.mark.slow
def test_the_default_run_beats_every_baseline_and_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The default settings themselves (about 5 minutes on 2 cores): every reduced setting tried was not stably
    # ahead across world seeds (2,000 images, 150 CLIP + 1,000 or 2,000 Combiner steps: +6 to +7 points over
    # the best baseline on world seed 0 but -1.2 and +0.3 on seed 2), while the default run is ahead on both
    # (+10.3 and +4.5, apps/trainer/README.md).
    monkeypatch.setenv("CIR_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    argv = [f"out={out}", "--no-progress"]
    assert main(argv) == 0
    table = json.loads((out / "results" / "table.json").read_text())
    assert set(table) == {"image_only", "text_only", "image_plus_text", "combiner"}
    for name, row in table.items():
        tasks = [row[task] for task in GENECIS_TASKS]
        assert all(0.0 <= value <= 100.0 for value in tasks), (name, row)
        assert row["average"] == pytest.approx(sum(tasks) / len(tasks)), (name, row)
    best_baseline = max(table[name]["average"] for name in ("image_only", "text_only", "image_plus_text"))
    assert table["combiner"]["average"] >= best_baseline + MARGIN, table
    assert (out / "results" / "genecis_average_combiner.json").is_file()
    assert "| combiner |" in capsys.readouterr().out
    # a second run with the same settings reuses every stage: no new folders, no new checkpoints, same table
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("step_*"))
    assert main(argv) == 0
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("step_*")) == before
    assert json.loads((out / "results" / "table.json").read_text()) == table


# Points of average R@1 the Combiner must lead the best baseline by (measured on this world: 7.6 to 10.3).
MARGIN = 3.0


def test_the_deepspeed_launchers_local_rank_flag_is_accepted() -> None:
    from cir_trainer.cli import build_parser

    args = build_parser().parse_args(["clip", "max_steps=3", "--local_rank=1"])
    assert (args.recipe, args.overrides, args.local_rank) == ("clip", ["max_steps=3"], 1)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("recipe", "options", "benchmark"),
    [("condvit", "model.options.warmup_phase_steps=3", "lrvsf"), ("universal", "model.options.frozen_steps=3", "uned")],
)
def test_two_phase_recipe_trains_both_phases_on_its_synthetic_export(
    recipe: str, options: str, benchmark: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIR_CACHE_DIR", str(tmp_path / "cache"))
    run_dir = tmp_path / recipe
    argv = [recipe, "max_steps=6", options, f"run_dir={run_dir}", "logging.tensorboard=false", "--no-progress"]
    assert main(argv) == 0
    # the warm-up's 3 steps, then the main phase's 3 from the warm-up's final weights
    for phase in ("warmup", "main"):
        steps = [json.loads(line)["step"] for line in (run_dir / phase / "metrics.jsonl").read_text().splitlines()]
        assert steps == [1, 2, 3], phase
    main_config = yaml.safe_load((run_dir / "main" / "config.yaml").read_text())
    assert main_config["model"]["options"]["init_from"].endswith("step_00000003/model.safetensors")
    # trained on the cached synthetic export, evaluated on it through the exported weights
    assert Path(yaml.safe_load((run_dir / "main" / "config.yaml").read_text())["data"]["root"]).name == benchmark
    results = sorted((run_dir / "results").rglob("*.json"))
    assert results, "no result JSON written"
    for path in results:
        record = json.loads(path.read_text())
        assert record["benchmark"] == benchmark
        assert all(0.0 <= value <= 100.0 for key, value in record["metrics"].items() if key.startswith("recall@"))
    # a second run trains nothing more
    before = sorted(str(p.relative_to(tmp_path)) for p in run_dir.rglob("step_*"))
    assert main(argv) == 0
    assert sorted(str(p.relative_to(tmp_path)) for p in run_dir.rglob("step_*")) == before


@pytest.mark.slow
def test_the_deepspeed_launcher_runs_a_recipe_on_two_cpu_processes(tmp_path: Path) -> None:
    launcher = Path(sys.executable).parent / "deepspeed"
    if not launcher.is_file():
        pytest.skip(f"no deepspeed launcher next to {sys.executable}")
    world = tmp_path / "world"  # shards to train on and a GeneCIS export beside them, as the synthetic world has
    write_shards(iter_items(0, range(32)), world / "shards", total=32, seed=0, progress=False)
    run_export("genecis", ExportSettings(world, seed=0, queries=10, progress=False))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run_dir = tmp_path / "run"
    command = [str(launcher), "--num_gpus", "2", "--master_port", str(port), "--module", "cir_trainer.cli", "clip",
               "max_steps=2", "data.micro_batch_size=4", f"data.root={world / 'shards'}", f"run_dir={run_dir}",
               "logging.tensorboard=false", "--no-progress"]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_PORT")}
    result = subprocess.run(command, env={**env, "DS_ACCELERATOR": "cpu"}, capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert json.loads((run_dir / "environment.json").read_text())["world_size"] == 2
    assert [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()] == [1, 2]
    assert (run_dir / "backbone.safetensors").is_file()
    assert result.stdout.count("cir-train: done") == 2  # both ranks ran to the end, rank 0 alone evaluated
    assert result.stdout.count("| image_only |") == 1
    assert len(list((run_dir / "results").glob("*.json"))) == 3 * 5  # 3 baselines x (4 tasks + average)
