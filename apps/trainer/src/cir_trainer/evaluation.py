"""Hand trained models to cir-eval: the GeneCIS baselines on the trained backbone and the trained Combiner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from cir_eval import TaskResult, run_benchmark
from cir_eval.results import write_result
from cir_models import create_encoder

__all__ = ["BASELINES", "GENECIS_TASKS", "evaluate_genecis", "evaluate_model", "format_table"]

BASELINES = ("image_only", "text_only", "image_plus_text")
GENECIS_TASKS = ("focus_attribute", "change_attribute", "focus_object", "change_object")


def evaluate_model(
    benchmark: str, name: str, kwargs: dict[str, Any], root: Path, out_dir: Path, progress: bool = True
) -> dict[str, TaskResult]:
    """Evaluate the encoder ``create_encoder(**kwargs)`` on ``benchmark``; writes one result JSON per task."""
    torch.manual_seed(0)
    encoder, _ = create_encoder(**kwargs)
    results = run_benchmark(benchmark, encoder, root, batch_size=256, num_workers=2, progress=progress)
    options = {k: str(v) for k, v in kwargs.items()}
    for task, result in results.items():
        write_result(out_dir, benchmark, task, name, result, encoder=kwargs["name"], options=options)
    return results


def evaluate_genecis(
    models: dict[str, dict[str, Any]], root: Path, out_dir: Path, progress: bool = True
) -> dict[str, dict[str, float]]:
    """R@1 per task and average for each ``name -> create_encoder kwargs``; writes one result JSON per task."""
    table = {}
    for name, kwargs in models.items():
        results = evaluate_model("genecis", name, kwargs, root, out_dir, progress)
        table[name] = {task: results[task].metrics["recall@1"] for task in (*GENECIS_TASKS, "average")}
    return table


def format_table(table: dict[str, dict[str, float]]) -> str:
    """A Markdown table of GeneCIS R@1 (%) per model."""
    header = ["model", *GENECIS_TASKS, "average"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for name, row in table.items():
        lines.append(f"| {name} | " + " | ".join(f"{row[c]:.1f}" for c in header[1:]) + " |")
    return "\n".join(lines)
