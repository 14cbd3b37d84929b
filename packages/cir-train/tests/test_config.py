"""Typed configs: YAML + dotted overrides, and errors that name the bad field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cir_train import ConfigError, TrainConfig, apply_overrides, config_from_dict, load_config


def test_defaults_round_trip_through_to_dict() -> None:
    config = TrainConfig()
    assert config_from_dict(config.to_dict()) == config
    assert config.to_dict()["optim"]["betas"] == [0.9, 0.999]


def test_yaml_then_overrides_in_that_order(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({"max_steps": 50, "optim": {"lr": 0.1, "betas": [0.8, 0.9]}}))
    config = load_config(path, ["optim.lr=1e-4", "deepspeed.zero_stage=2", "model.options.dim=4"])
    assert config.max_steps == 50
    assert config.optim.lr == 1e-4  # YAML 1.1 would have read "1e-4" as a string
    assert config.optim.betas == (0.8, 0.9)
    assert config.deepspeed.zero_stage == 2
    assert config.model.options == {"dim": 4}


def test_base_config_is_updated_not_replaced() -> None:
    base = load_config(overrides=["optim.weight_decay=0.2", "recipe=clip"])
    config = load_config(overrides=["optim.lr=0.5"], base=base)
    assert (config.recipe, config.optim.weight_decay, config.optim.lr) == ("clip", 0.2, 0.5)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["optim.lrr=1"], "optim.lrr: unknown field; did you mean 'optim.lr'?"),
        (["optim.lr=abc"], "optim.lr: expected float, got 'abc'"),
        (["optim.lr=-1"], "optim.lr: must be > 0"),
        (["deepspeed.zero_stage=4"], "deepspeed.zero_stage: must be 0..3"),
        (["deepspeed.precision=fp8"], "deepspeed.precision: must be one of"),
        (["data.micro_batch_size=1.5"], "data.micro_batch_size: expected int"),
        (["optim.betas=[0.9]"], "optim.betas: expected a list of 2 values"),
        (["optim.lr.x=1"], "optim.lr: is a value, not a section"),
        (["max_steps"], "expected KEY=VALUE"),
    ],
)
def test_errors_name_the_field(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("?", r"\?").replace("[", r"\[")):
        load_config(overrides=overrides)


def test_yaml_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("checkpoint:\n  keep_last: 0\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: checkpoint\.keep_last: must be >= 1"):
        load_config(path)


def test_apply_overrides_leaves_the_input_alone() -> None:
    data = {"optim": {"lr": 1.0}}
    assert apply_overrides(data, ["optim.lr=2"]) == {"optim": {"lr": 2}}
    assert data == {"optim": {"lr": 1.0}}
