"""LRVS-F records of both protocols aggregate side by side: labelled rows, R@1-vs-distractors curves."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cir_eval.registry import TaskResult
from cir_eval.results import aggregate, write_result


def test_lrvsf_protocols_stay_separate_rows(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    full = TaskResult({"recall@1|0": 90.0, "recall@1|1000": 80.0})
    bootstrap = TaskResult({"recall@1|10000": 70.0, "recall_std@1|10000": 1.5, "recall@1|100000": 60.0,
                            "recall_std@1|100000": 2.0})
    write_result(tmp_path, "lrvsf", "full", "m", full)
    write_result(tmp_path, "lrvsf", "bootstrap", "m", bootstrap)
    written = aggregate(tmp_path, tmp_path / "out")
    assert tmp_path / "out" / "lrvsf.png" in written
    with (tmp_path / "out" / "results.csv").open(encoding="utf-8") as handle:
        rows = {row["task"]: row for row in csv.DictReader(handle)}
    assert rows["full"]["recall@1|1000"] == "80.0" and rows["full"]["recall@1|10000"] == ""
    assert rows["bootstrap"]["recall_std@1|10000"] == "1.5" and rows["bootstrap"]["recall@1|0"] == ""
