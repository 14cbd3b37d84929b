"""One call to evaluate an encoder on a benchmark: ``evaluate(benchmark, encoder, root, **options)``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cir_eval.context import EvalContext, EvalOptions
from cir_eval.embedding import Embedder
from cir_eval.protocol import get_similarity
from cir_eval.registry import TaskResult, get_benchmark

__all__ = ["evaluate", "model_identity", "run_benchmark"]


def model_identity(encoder: Any) -> str | None:
    """Return the encoder's identity for the disk cache (``cache_id`` attribute), if it declares one."""
    value = getattr(encoder, "cache_id", None)
    return str(value) if value else None


def _split_options(
    benchmark_defaults: dict[str, Any], options: dict[str, Any], name: str
) -> tuple[EvalOptions, dict[str, Any]]:
    common = {k: v for k, v in options.items() if k in EvalOptions.names()}
    specific = {k: v for k, v in options.items() if k not in EvalOptions.names()}
    unknown = sorted(set(specific) - set(benchmark_defaults))
    if unknown:
        valid = sorted(EvalOptions.names() | set(benchmark_defaults))
        raise TypeError(f"unknown option(s) {unknown} for benchmark {name!r}; valid: {valid}")
    return EvalOptions(**common), {**benchmark_defaults, **specific}


def run_benchmark(
    benchmark: str,
    encoder: Any,
    root: str | Path,
    *,
    tasks: list[str] | tuple[str, ...] | None = None,
    embedder: Embedder | None = None,
    **options: Any,
) -> dict[str, TaskResult]:
    """Return ``{task: TaskResult}`` for ``tasks`` (default: the benchmark's default tasks).

    Options: the shared ones of :class:`~cir_eval.context.EvalOptions` plus the benchmark's own
    (``cir-eval list`` shows them). Passing an ``embedder`` shares encoded images across calls.
    """
    info = get_benchmark(benchmark)
    chosen = tuple(tasks) if tasks else info.default_tasks
    bad = [t for t in chosen if t not in info.tasks]
    if bad:
        raise ValueError(f"unknown task(s) {bad} for {benchmark!r}; tasks: {list(info.tasks)}")
    run_options, specific = _split_options(dict(info.options), options, benchmark)
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"benchmark root {root} is not a directory")
    similarity = get_similarity(encoder)
    if embedder is None:
        embedder = Embedder(
            encoder,
            similarity,
            batch_size=run_options.batch_size,
            num_workers=run_options.num_workers,
            device=run_options.device,
            cache_dir=run_options.cache_dir,
            model_id=run_options.model_id or model_identity(encoder),
            progress=run_options.progress,
        )
    context = EvalContext(encoder, root, similarity, embedder, run_options, specific)
    return info.evaluate(context, chosen)


def evaluate(
    benchmark: str, encoder: Any, root: str | Path, *, task: str | None = None, **options: Any
) -> dict[str, float]:
    """Return flat metrics of ``encoder`` on ``benchmark`` read from ``root`` (percentages).

    With ``task`` (or a single-task benchmark) the keys are plain (``recall@1``); otherwise they are
    ``"{task}/{metric}"`` and include summary tasks such as GeneCIS's ``average/recall@1``.

    Example::

        scores = cir_eval.evaluate("genecis", encoder, "/data/genecis", task="change_object")
        scores["recall@1"]
    """
    results = run_benchmark(benchmark, encoder, root, tasks=[task] if task else None, **options)
    if len(results) == 1:
        return dict(next(iter(results.values())).metrics)
    return {f"{name}/{key}": value for name, result in results.items() for key, value in result.metrics.items()}
