"""Built-in benchmarks; importing this package registers each one (one module per benchmark)."""

from cir_eval.benchmarks import (
    circo,
    cirr,
    fashioniq,
    genecis,
    lrvsf,
    uned,
    zeroshot_classification,
    zeroshot_retrieval,
)

__all__ = [
    "circo",
    "cirr",
    "fashioniq",
    "genecis",
    "lrvsf",
    "uned",
    "zeroshot_classification",
    "zeroshot_retrieval",
]
