"""Result records (one JSON per model × benchmark × task) and their aggregation into tables and plots.

Evaluation never formats tables; ``aggregate`` reads any set of records and writes Markdown, CSV
and (with the ``plots`` extra, matplotlib imported lazily) per-task bars and LRVS-F R@1 curves.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import platform
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy
import PIL
import torch

from cir_eval.registry import TaskResult

__all__ = ["aggregate", "load_results", "result_path", "write_result"]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", name).strip("-") or "model"


def result_path(out_dir: str | Path, benchmark: str, task: str, model: str) -> Path:
    """Return ``out_dir/{benchmark}_{task}_{model}.json`` (the model name made file-safe)."""
    return Path(out_dir) / f"{benchmark}_{task}_{_safe(model)}.json"


def _versions() -> dict[str, str]:
    from cir_eval import __version__

    return {
        "cir-eval": __version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "pillow": PIL.__version__,
        "python": platform.python_version(),
    }


def write_result(
    out_dir: str | Path,
    benchmark: str,
    task: str,
    model: str,
    result: TaskResult,
    *,
    encoder: str = "",
    options: Mapping[str, Any] | None = None,
) -> Path:
    """Write one result record (flat ``metrics`` plus run metadata) and return its path."""
    path = result_path(out_dir, benchmark, task, model)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": benchmark,
        "task": task,
        "model": model,
        "encoder": encoder,
        "metrics": result.metrics,
        "info": result.info,
        "files": result.files,
        "options": {k: v for k, v in (options or {}).items() if _jsonable(v)},
        "versions": _versions(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    path.write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
    return path


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except TypeError:
        return False
    return True


def load_results(results_dir: str | Path) -> list[dict[str, Any]]:
    """Return every result record (a JSON with ``benchmark``, ``task``, ``model``, ``metrics``) in a folder."""
    records = []
    for path in sorted(Path(results_dir).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and {"benchmark", "task", "model", "metrics"} <= set(data):
            records.append(data)
    return records


def _metric_order(records: list[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for record in records:
        keys.update(dict.fromkeys(record["metrics"]))
    return list(keys)


def _write_csv(records: list[dict[str, Any]], path: Path) -> None:
    keys = _metric_order(records)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["benchmark", "task", "model", *keys])
        for r in records:
            writer.writerow([r["benchmark"], r["task"], r["model"], *(r["metrics"].get(k, "") for k in keys)])


def _write_markdown(records: list[dict[str, Any]], path: Path) -> None:
    lines = ["# cir-eval results", ""]
    for benchmark in sorted({r["benchmark"] for r in records}):
        rows = [r for r in records if r["benchmark"] == benchmark]
        keys = _metric_order(rows)
        lines += [f"## {benchmark}", "", "| model | task | " + " | ".join(keys) + " |"]
        lines.append("|" + " --- |" * (len(keys) + 2))
        for r in sorted(rows, key=lambda r: (r["model"], r["task"])):
            cells = [f"{r['metrics'][k]:.2f}" if isinstance(r["metrics"].get(k), (int, float)) else "" for k in keys]
            lines.append(f"| {r['model']} | {r['task']} | " + " | ".join(cells) + " |")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


_DISTRACTOR_KEY = re.compile(r"^recall@1\|(\d+)$")


def _plot(records: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for benchmark in sorted({r["benchmark"] for r in records}):
        rows = [r for r in records if r["benchmark"] == benchmark and r["metrics"]]
        if not rows:
            continue
        curves = [r for r in rows if any(_DISTRACTOR_KEY.match(k) for k in r["metrics"])]
        fig, ax = plt.subplots(figsize=(6, 4))
        if curves:
            for r in curves:
                points = sorted(
                    (int(m.group(1)), v) for k, v in r["metrics"].items() if (m := _DISTRACTOR_KEY.match(k))
                )
                # bootstrap records carry their spread as recall_std@1|N: drawn as error bars
                spread = [r["metrics"].get(f"recall_std@1|{n}", 0.0) for n, _ in points]
                ax.errorbar(
                    [p[0] for p in points], [p[1] for p in points], yerr=spread if any(spread) else None,
                    marker="o", capsize=3, label=f"{r['model']} ({r['task']})",
                )
            ax.set_xscale("symlog")
            ax.set_xlabel("distractors")
            ax.set_ylabel("R@1 (%)")
        else:
            key = _metric_order(rows)[0]
            labels = [f"{r['model']}\n{r['task']}" for r in rows]
            ax.bar(range(len(rows)), [r["metrics"].get(key, 0.0) for r in rows])
            ax.set_xticks(range(len(rows)), labels, rotation=45, ha="right", fontsize=7)
            ax.set_ylabel(f"{key} (%)")
        ax.set_title(benchmark)
        if curves:
            ax.legend(fontsize=7)
        fig.tight_layout()
        path = out_dir / f"{benchmark}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written


def aggregate(results_dir: str | Path, out_dir: str | Path | None = None, *, plots: bool = True) -> list[Path]:
    """Write ``results.md``, ``results.csv`` and (if ``plots``) one PNG per benchmark; return the paths."""
    records = load_results(results_dir)
    if not records:
        raise FileNotFoundError(f"no result records (*.json with benchmark/task/model/metrics) in {results_dir}")
    out = Path(out_dir) if out_dir is not None else Path(results_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "results.csv", out / "results.md"]
    _write_csv(records, written[0])
    _write_markdown(records, written[1])
    if plots:
        written += _plot(records, out)
    return written
