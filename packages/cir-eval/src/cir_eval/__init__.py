"""cir-eval: exact, fast evaluation of conditional and composed image retrieval.

``evaluate(benchmark, encoder, root, **options)`` returns flat metrics; encoders meet cir-eval through
the protocol in :mod:`cir_eval.protocol` and are found via the ``cir_eval.encoders`` entry points.
"""

from cir_eval.conformance import check_encoder
from cir_eval.encoders import ENTRY_POINT_GROUP, list_encoders, load_encoder
from cir_eval.errors import AnnotationError, BenchmarkDataError
from cir_eval.evaluate import evaluate, run_benchmark
from cir_eval.protocol import Encoder, SharedFeatureEncoder, TextEncoder
from cir_eval.registry import BenchmarkInfo, TaskResult, get_benchmark, list_benchmarks, register_benchmark

# static on purpose (no importlib.metadata at import); a test checks it against the installed distribution
__version__ = "0.1.0"

__all__ = [
    "ENTRY_POINT_GROUP",
    "AnnotationError",
    "BenchmarkDataError",
    "BenchmarkInfo",
    "Encoder",
    "SharedFeatureEncoder",
    "TaskResult",
    "TextEncoder",
    "__version__",
    "check_encoder",
    "evaluate",
    "get_benchmark",
    "list_benchmarks",
    "list_encoders",
    "load_encoder",
    "register_benchmark",
    "run_benchmark",
]
