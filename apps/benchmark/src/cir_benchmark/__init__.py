"""The `cir-benchmark` command: a trained model on every benchmark whose data is present."""

__version__ = "0.1.0"
__all__ = ["__version__"]
