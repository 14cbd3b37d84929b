"""The benchmark registry: each benchmark module registers its reader, tasks and metric keys together."""

from __future__ import annotations

import difflib
import fnmatch
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cir_eval.context import EvalContext

__all__ = ["BenchmarkInfo", "TaskResult", "get_benchmark", "list_benchmarks", "register_benchmark"]


@dataclass(frozen=True)
class TaskResult:
    """One task's flat metrics (percentages), facts about the run (split, sizes), and files written."""

    metrics: dict[str, float]
    info: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


EvaluateFn = Callable[["EvalContext", tuple[str, ...]], dict[str, TaskResult]]


@dataclass(frozen=True)
class BenchmarkInfo:
    """A registered benchmark: its tasks (and those run by default), metric keys, options and evaluator."""

    name: str
    tasks: tuple[str, ...]
    default_tasks: tuple[str, ...]
    metric_keys: tuple[str, ...]
    options: Mapping[str, Any]
    evaluate: EvaluateFn
    description: str


_BENCHMARKS: dict[str, BenchmarkInfo] = {}


def register_benchmark(
    name: str,
    *,
    tasks: tuple[str, ...],
    metric_keys: tuple[str, ...],
    options: Mapping[str, Any] | None = None,
    default_tasks: tuple[str, ...] | None = None,
) -> Callable[[EvaluateFn], EvaluateFn]:
    """Register ``fn(context, tasks) -> {task: TaskResult}`` as benchmark ``name`` (twice is an error).

    ``options`` maps each benchmark-specific option to its default; the function's docstring is the
    description shown by ``cir-eval list``.
    """

    def decorate(fn: EvaluateFn) -> EvaluateFn:
        if name in _BENCHMARKS:
            raise ValueError(f"benchmark {name!r} is already registered")
        _BENCHMARKS[name] = BenchmarkInfo(
            name=name,
            tasks=tasks,
            default_tasks=default_tasks if default_tasks is not None else tasks,
            metric_keys=metric_keys,
            options=dict(options or {}),
            evaluate=fn,
            description=(fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "",
        )
        return fn

    return decorate


def _load_builtin() -> None:
    importlib.import_module("cir_eval.benchmarks")


def list_benchmarks(pattern: str = "*") -> list[str]:
    """Return the sorted registered benchmark names matching a shell wildcard (``"c*"``)."""
    _load_builtin()
    return sorted(name for name in _BENCHMARKS if fnmatch.fnmatch(name, pattern))


def get_benchmark(name: str) -> BenchmarkInfo:
    """Return the registered benchmark ``name``; an unknown name raises with the close matches."""
    _load_builtin()
    if name not in _BENCHMARKS:
        close = difflib.get_close_matches(name, list(_BENCHMARKS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown benchmark {name!r}{hint} (known: {', '.join(sorted(_BENCHMARKS))})")
    return _BENCHMARKS[name]
