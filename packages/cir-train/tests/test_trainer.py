"""The Trainer in one process: a step, falling loss, ZeRO stages, resume, clipping, non-finite losses."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest
import torch
import yaml

from cir_train import ConfigError, NonFiniteLossError, Trainer, config_from_dict


def _params(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in trainer.module.state_dict().items()}


def test_one_train_step_updates_every_parameter(tiny: ModuleType, tmp_path: Path) -> None:
    trainer = tiny.build_trainer(tiny.make_config(tmp_path))
    before = _params(trainer)
    metrics = trainer.train_step()
    trainer.close()
    after = _params(trainer)
    assert trainer.step == 1 and trainer.consumed == 1
    assert set(metrics) == {"train/loss", "train/logit_scale", "train/lr"}
    assert torch.isfinite(torch.tensor(metrics["train/loss"]))
    assert metrics["train/lr"] == pytest.approx(0.05 * 0.5)  # warmup_steps=2: first step at half the lr
    assert all(not torch.equal(before[k], after[k]) for k in before)


def test_loss_falls(tiny: ModuleType, tmp_path: Path) -> None:
    trainer = tiny.build_trainer(tiny.make_config(tmp_path, ["max_steps=30", "checkpoint.save_final=false"]))
    losses = list(trainer.train().values())
    trainer.close()
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5


@pytest.mark.parametrize("stage", [0, 1, 2, 3])
def test_zero_stage_trains_and_resumes_on_the_same_trajectory(tiny: ModuleType, tmp_path: Path, stage: int) -> None:
    common = [f"deepspeed.zero_stage={stage}", "max_steps=6", "checkpoint.every_steps=3"]
    learnable = stage < 3  # ZeRO-3 refuses 0-d parameters (see test_zero3_refuses_scalar_parameters)
    straight = tiny.build_trainer(tiny.make_config(tmp_path / "straight", common), learnable)
    reference = straight.train()
    straight.close()
    assert reference[6] < reference[1]

    first = tiny.build_trainer(tiny.make_config(tmp_path / "split", common), learnable)
    for _ in range(3):
        first.train_step()
    first.save_checkpoint()  # as train() does at step 3; then the process "stops"
    first.close()
    second = tiny.build_trainer(tiny.make_config(tmp_path / "split", common), learnable)
    assert second.step == 3 and second.consumed == 3  # resumed from the step-3 checkpoint
    resumed = second.train()
    second.close()
    assert list(resumed) == [4, 5, 6]
    for step in resumed:
        assert resumed[step] == pytest.approx(reference[step], rel=1e-5, abs=1e-6)
    for key, value in _params(straight).items():
        assert torch.allclose(value, _params(second)[key], rtol=1e-5, atol=1e-6), key


def test_zero3_refuses_scalar_parameters(tiny: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"deepspeed.zero_stage: ZeRO-3 cannot partition 0-d parameters \(loss"):
        tiny.build_trainer(tiny.make_config(tmp_path, ["deepspeed.zero_stage=3"]))


def test_gradient_accumulation_consumes_micro_batches(tiny: ModuleType, tmp_path: Path) -> None:
    trainer = tiny.build_trainer(tiny.make_config(tmp_path, ["optim.grad_accum_steps=3", "data.micro_batch_size=4"]))
    assert trainer.ds_config["train_batch_size"] == 12
    trainer.train_step()
    trainer.train_step()
    trainer.close()
    assert (trainer.step, trainer.consumed) == (2, 6)
    assert trainer.engine.global_steps == 2


@pytest.mark.parametrize("stage", [0, 2])  # the Trainer clips at stage 0, DeepSpeed at stage 2
def test_clipping_bounds_the_first_sgd_update(tiny: ModuleType, tmp_path: Path, stage: int) -> None:
    # SGD's first step moves the parameters by lr * g; with the norm clipped to c the move has norm lr * c.
    overrides = ["optim.name=sgd", "optim.lr=1.0", "optim.warmup_steps=0", "optim.grad_clip=0.001"]
    overrides.append(f"deepspeed.zero_stage={stage}")
    trainer = tiny.build_trainer(tiny.make_config(tmp_path, overrides))
    before = _params(trainer)
    trainer.train_step()
    trainer.close()
    moved = torch.cat([(v - before[k]).flatten() for k, v in _params(trainer).items()])
    assert moved.norm().item() == pytest.approx(0.001, rel=1e-3)


class _Exploding(torch.nn.Module):
    """Finite loss for two steps, then NaN."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(2))
        self.calls = 0

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        self.calls += 1
        loss = (self.weight * batch["image"][:, :2]).pow(2).mean()
        return loss * float("nan") if self.calls == 3 else loss


def test_a_nan_loss_stops_the_run_naming_the_step(tiny: ModuleType, tmp_path: Path) -> None:
    trainer = Trainer(tiny.make_config(tmp_path), _Exploding(), tiny.PairDataset())
    trainer.train_step()
    trainer.train_step()
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss \(nan\) at step 3 \(micro-batch 1\)"):
        trainer.train_step()
    trainer.close()


def test_a_nan_loss_is_skipped_when_configured(tiny: ModuleType, tmp_path: Path) -> None:
    trainer = Trainer(tiny.make_config(tmp_path, ["on_nonfinite=skip"]), _Exploding(), tiny.PairDataset())
    trainer.train_step()
    trainer.train_step()
    before = trainer.module.weight.detach().clone()
    metrics = trainer.train_step()
    trainer.close()
    assert metrics["train/skipped"] == 1.0
    assert torch.isfinite(trainer.module.weight).all()
    assert trainer.step == 3
    assert not torch.isnan(before).any()


def test_run_folder_describes_itself(tiny: ModuleType, tmp_path: Path) -> None:
    config = tiny.make_config(tmp_path, ["max_steps=2", "logging.tensorboard=true"])
    trainer = tiny.build_trainer(config)
    trainer.train()
    trainer.close()
    assert config_from_dict(yaml.safe_load((tmp_path / "config.yaml").read_text())) == config
    environment = json.loads((tmp_path / "environment.json").read_text())
    assert environment["packages"]["torch"] == torch.__version__.split("+")[0] or environment["packages"]["torch"]
    assert environment["deepspeed_config"]["train_micro_batch_size_per_gpu"] == 8
    assert "commit" in environment["git"]
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [1, 2]
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert (tmp_path / "checkpoints" / "step_00000002" / "model.safetensors").is_file()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize(("precision", "stage"), [("bf16", 0), ("bf16", 2), ("fp16", 0), ("fp16", 2)])
def test_mixed_precision_on_gpu(tiny: ModuleType, tmp_path: Path, precision: str, stage: int) -> None:
    overrides = [f"deepspeed.precision={precision}", f"deepspeed.zero_stage={stage}", "max_steps=20",
                 "optim.grad_clip=1.0", "deepspeed.backend=nccl"]
    trainer = tiny.build_trainer(tiny.make_config(tmp_path, overrides))
    losses = list(trainer.train().values())
    trainer.close()
    assert all(torch.isfinite(torch.tensor(losses)))
    assert sum(losses[-5:]) < sum(losses[:5])
