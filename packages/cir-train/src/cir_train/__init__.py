"""cir-train: DeepSpeed training for conditional image similarity (trainer arrives with issue #8)."""

__version__ = "0.1.0"
__all__ = ["__version__"]
