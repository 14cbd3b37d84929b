"""Typed training configuration: a tree of dataclasses, loaded from YAML with dotted overrides.

``TrainConfig`` is the one object a run is described by. Its ``to_dict()`` is what the run
folder records, and the DeepSpeed dict is derived from it (``cir_train.engine``), never written
by hand. Every error names the dotted field that is wrong (``optim.lr: expected float, got 'x'``).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

import yaml

__all__ = [
    "CheckpointConfig",
    "ConfigError",
    "DataConfig",
    "DeepSpeedConfig",
    "LoggingConfig",
    "LossConfig",
    "ModelConfig",
    "OptimConfig",
    "TrainConfig",
    "apply_overrides",
    "config_from_dict",
    "load_config",
]


class ConfigError(ValueError):
    """A configuration value or key is wrong; the message names the dotted field (and the file)."""


def _check(condition: bool, name: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{name}: {message}")


@dataclass(kw_only=True)
class DataConfig:
    """What the data loader feeds each rank."""

    root: str = ""  # data folder of the recipe (shards, triplets); "" = the recipe's default
    micro_batch_size: int = 8  # samples per rank per forward pass
    num_workers: int = 0  # DataLoader worker processes per rank
    shuffle: bool = True
    options: dict[str, Any] = field(default_factory=dict)  # recipe-specific data options

    def __post_init__(self) -> None:
        _check(self.micro_batch_size >= 1, "data.micro_batch_size", f"must be >= 1, got {self.micro_batch_size}")
        _check(self.num_workers >= 0, "data.num_workers", f"must be >= 0, got {self.num_workers}")


@dataclass(kw_only=True)
class ModelConfig:
    """Which cir-models encoder to build (``cir_models.create_encoder(encoder, model=..., ...)``)."""

    encoder: str = "image_only"
    model: str = "cir-tiny"  # open_clip architecture name or a cir-models model config
    pretrained: str | None = None  # open_clip tag or checkpoint path for the backbone
    options: dict[str, Any] = field(default_factory=dict)  # keyword overrides for the encoder factory


@dataclass(kw_only=True)
class LossConfig:
    """Which loss of ``cir_train.losses`` (or cir_hyperbolic) a recipe uses, and its settings."""

    name: str = "clip"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class OptimConfig:
    """Optimiser, learning-rate schedule, accumulation and clipping."""

    name: Literal["adamw", "adam", "sgd"] = "adamw"
    lr: float = 1e-3
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    no_decay: list[str] = field(default_factory=list)  # parameter-name substrings kept out of weight decay
    lr_multipliers: dict[str, float] = field(default_factory=dict)  # name substring -> lr factor (first match)
    schedule: Literal["cosine", "constant"] = "cosine"
    warmup_steps: int = 0
    min_lr_ratio: float = 0.0  # cosine floor as a fraction of lr
    grad_accum_steps: int = 1
    grad_clip: float = 0.0  # max global grad norm on unscaled gradients; 0 = off

    def __post_init__(self) -> None:
        _check(self.lr > 0, "optim.lr", f"must be > 0, got {self.lr}")
        _check(self.weight_decay >= 0, "optim.weight_decay", f"must be >= 0, got {self.weight_decay}")
        _check(self.warmup_steps >= 0, "optim.warmup_steps", f"must be >= 0, got {self.warmup_steps}")
        _check(0 <= self.min_lr_ratio <= 1, "optim.min_lr_ratio", f"must be in [0, 1], got {self.min_lr_ratio}")
        _check(self.grad_accum_steps >= 1, "optim.grad_accum_steps", f"must be >= 1, got {self.grad_accum_steps}")
        _check(self.grad_clip >= 0, "optim.grad_clip", f"must be >= 0, got {self.grad_clip}")


@dataclass(kw_only=True)
class CheckpointConfig:
    """When checkpoints are written and whether a run resumes from its own latest one."""

    every_steps: int = 0  # 0 = only at the end of training
    keep_last: int = 2  # complete checkpoints kept; older ones are deleted after a new one is complete
    resume: bool = True  # continue from the run folder's latest complete checkpoint, if any
    save_final: bool = True

    def __post_init__(self) -> None:
        _check(self.every_steps >= 0, "checkpoint.every_steps", f"must be >= 0, got {self.every_steps}")
        _check(self.keep_last >= 1, "checkpoint.keep_last", f"must be >= 1, got {self.keep_last}")


@dataclass(kw_only=True)
class DeepSpeedConfig:
    """The DeepSpeed engine: ZeRO stage, precision, communication backend."""

    zero_stage: int = 0
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"  # auto: bf16 (or fp16) on CUDA, fp32 on CPU
    initial_scale_power: int = 16  # fp16 dynamic loss scale starts at 2**this
    backend: Literal["auto", "nccl", "gloo"] = "auto"  # auto: nccl on CUDA, gloo on CPU
    timeout_s: int = 1800  # collective timeout; a hung rank fails the run instead of blocking it

    def __post_init__(self) -> None:
        _check(self.zero_stage in (0, 1, 2, 3), "deepspeed.zero_stage", f"must be 0..3, got {self.zero_stage}")
        _check(self.timeout_s > 0, "deepspeed.timeout_s", f"must be > 0, got {self.timeout_s}")


@dataclass(kw_only=True)
class LoggingConfig:
    """Where metrics go: TensorBoard by default, W&B when asked, a JSONL file, a progress bar."""

    every_steps: int = 1
    tensorboard: bool = True
    wandb: bool = False
    wandb_project: str = "cir"
    jsonl: bool = True  # run_dir/metrics.jsonl, one line per logged step
    progress_bar: bool = True

    def __post_init__(self) -> None:
        _check(self.every_steps >= 1, "logging.every_steps", f"must be >= 1, got {self.every_steps}")


@dataclass(kw_only=True)
class TrainConfig:
    """A whole training run; the sections are the components' own configs."""

    recipe: str = ""
    run_dir: str = "runs/default"
    seed: int = 0  # each rank seeds with seed + rank
    max_steps: int = 100  # optimiser steps
    on_nonfinite: Literal["stop", "skip"] = "stop"  # what a NaN/inf loss does
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    deepspeed: DeepSpeedConfig = field(default_factory=DeepSpeedConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)

    def __post_init__(self) -> None:
        _check(self.max_steps >= 1, "max_steps", f"must be >= 1, got {self.max_steps}")
        _check(bool(self.run_dir), "run_dir", "must not be empty")

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (tuples as lists), as written to the run folder's ``config.yaml``."""
        return _plain(dataclasses.asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


T = TypeVar("T")


def config_from_dict(data: dict[str, Any], cls: type[T] = TrainConfig, prefix: str = "") -> T:  # type: ignore[assignment]
    """Build config class ``cls`` from a nested dict, checking every key and type."""
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix or '<root>'}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"; did you mean {prefix + close[0]!r}?" if close else f"; known: {sorted(fields)}"
            raise ConfigError(f"{name}: unknown field{hint}")
        kwargs[key] = _coerce(value, hints[key], name)
    try:
        return cls(**kwargs)
    except TypeError as err:  # pragma: no cover - every field has a default
        raise ConfigError(f"{prefix or '<root>'}: {err}") from None


def _coerce(value: Any, annotation: Any, name: str) -> Any:
    """Check ``value`` against ``annotation``, converting where YAML is loose (int for float, list for tuple)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if dataclasses.is_dataclass(annotation):
        return config_from_dict(value, annotation, prefix=f"{name}.")  # type: ignore[arg-type]
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, option, name)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{name}: {value!r} fits none of {args}")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{name}: must be one of {list(args)}, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(f"{name}: expected a list of {len(args)} values, got {value!r}")
        return tuple(_coerce(item, arg, f"{name}[{i}]") for i, (item, arg) in enumerate(zip(value, args, strict=True)))
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name}: expected a list, got {value!r}")
        return [_coerce(item, args[0], f"{name}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{name}: expected a mapping, got {value!r}")
        return {key: _coerce(item, args[1], f"{name}.{key}") for key, item in value.items()}
    if annotation is Any:
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{name}: expected float, got {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name}: expected int, got {value!r}")
        return value
    if annotation in (bool, str):
        if not isinstance(value, annotation):
            raise ConfigError(f"{name}: expected {annotation.__name__}, got {value!r}")
        return value
    raise ConfigError(f"{name}: unsupported annotation {annotation!r}")  # pragma: no cover


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of nested ``data`` with ``section.key=value`` overrides applied (values parsed as YAML)."""
    result = _plain(data)
    for override in overrides:
        key, sep, raw = override.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {override!r}: expected KEY=VALUE, e.g. optim.lr=1e-4")
        *parents, leaf = key.split(".")
        node = result
        for i, part in enumerate(parents):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{'.'.join(parents[: i + 1])}: is a value, not a section (override {override!r})")
            node = child
        node[leaf] = _parse_value(raw)
    return result


def _parse_value(raw: str) -> Any:
    # YAML 1.1 reads "1e-4" as a string; numbers in that form are what people type for learning rates.
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def load_config(
    path: str | os.PathLike[str] | None = None,
    overrides: list[str] | None = None,
    base: TrainConfig | None = None,
) -> TrainConfig:
    """Return ``base`` (or the defaults) updated by the YAML file at ``path`` and then the dotted ``overrides``."""
    data = base.to_dict() if base is not None else TrainConfig().to_dict()
    if path is not None:
        text = Path(path).read_text(encoding="utf-8")
        loaded = yaml.safe_load(text) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a YAML mapping at the top level")
        data = _merge(data, loaded)
    data = apply_overrides(data, overrides or [])
    try:
        return config_from_dict(data)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}" if path is not None else str(err)) from None


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
