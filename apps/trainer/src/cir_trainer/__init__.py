"""The `cir-train` command: wires cir-data, cir-models, cir-train and cir-eval into one run."""

__version__ = "0.1.0"
__all__ = ["__version__"]
