"""cir-train: DeepSpeed training for conditional image similarity — trainer, typed configs, losses, checkpoints."""

from cir_train.config import (
    CheckpointConfig,
    ConfigError,
    DataConfig,
    DeepSpeedConfig,
    LoggingConfig,
    LossConfig,
    ModelConfig,
    OptimConfig,
    TrainConfig,
    apply_overrides,
    config_from_dict,
    load_config,
)
from cir_train.distributed import DistributedEnv, gather_with_grad
from cir_train.engine import build_deepspeed_config
from cir_train.trainer import NonFiniteLossError, Trainer

__version__ = "0.1.0"
__all__ = [
    "CheckpointConfig",
    "ConfigError",
    "DataConfig",
    "DeepSpeedConfig",
    "DistributedEnv",
    "LoggingConfig",
    "LossConfig",
    "ModelConfig",
    "NonFiniteLossError",
    "OptimConfig",
    "TrainConfig",
    "Trainer",
    "__version__",
    "apply_overrides",
    "build_deepspeed_config",
    "config_from_dict",
    "gather_with_grad",
    "load_config",
]
