"""cir-models: open_clip backbones and conditional encoders behind cir-eval's encoder protocol.

Example::

    import cir_models

    encoder, transforms = cir_models.create_encoder("combiner", model="cir-tiny")
    queries = encoder.encode_query(images, ["red"])
"""

from cir_models import baselines, combiner, condvit, meru, phi, universal  # noqa: F401  (register encoders)
from cir_models.architectures import add_model_config, get_model_config, list_models
from cir_models.backbone import Backbone, create_backbone
from cir_models.checkpoint import UnsafeCheckpointError, load_state_dict, save_state_dict, strip_prefix
from cir_models.encoder import ConditionalEncoder
from cir_models.pretrained import PretrainedUnavailableError, list_pretrained_tags
from cir_models.registry import create_encoder, get_encoder_factory, list_encoders, register_encoder
from cir_models.transforms import ImageTransforms, build_transforms, list_transform_kinds

__version__ = "0.1.0"

__all__ = [
    "Backbone",
    "ConditionalEncoder",
    "ImageTransforms",
    "PretrainedUnavailableError",
    "UnsafeCheckpointError",
    "__version__",
    "add_model_config",
    "build_transforms",
    "create_backbone",
    "create_encoder",
    "get_encoder_factory",
    "get_model_config",
    "list_encoders",
    "list_models",
    "list_pretrained_tags",
    "list_transform_kinds",
    "load_state_dict",
    "register_encoder",
    "save_state_dict",
    "strip_prefix",
]
