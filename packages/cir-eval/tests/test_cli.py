"""The cir-eval command: list, run (one benchmark and all), aggregate, and error exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cir_eval.cli import main

ENCODER_MODULE = """
import numpy as np
import torch

class Mean:
    cache_id = "mean-colour-v1"
    def encode_gallery(self, images):
        x = torch.stack([torch.from_numpy(np.asarray(i, dtype=np.float32).reshape(-1, 3).mean(0)) for i in images])
        return torch.nn.functional.normalize(x + 1.0, dim=1)
    def encode_query(self, images, texts):
        return self.encode_gallery(images)

def build():
    return Mean()
"""


@pytest.fixture
def encoder_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = "cir_eval_cli_encoder_" + tmp_path.name.replace("-", "_")
    (tmp_path / f"{name}.py").write_text(ENCODER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield f"{name}:build"
    sys.modules.pop(name, None)


def _genecis(root: Path, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    for i, color in enumerate([(255, 0, 0), (250, 5, 0), (0, 0, 255)], start=1):
        make_image(root / "val2017" / f"{i:012d}.jpg", color)
    template = {
        "reference": {"val_image_id": 1},
        "condition": "c",
        "target": {"val_image_id": 2},
        "gallery": [{"val_image_id": 3}],
    }
    make_json(root / "focus_object.json", [template])


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    names = ("genecis", "cirr", "fashioniq", "circo", "lrvsf", "uned", "zeroshot_classification", "zeroshot_retrieval")
    for name in names:
        assert f"{name}:" in out


def test_help_explains(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "module:factory" in capsys.readouterr().out


def test_run_aggregate_and_cache(tmp_path: Path, encoder_path: str, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    _genecis(data / "genecis", make_image, make_json)
    out = tmp_path / "results"
    args = ["--encoder", encoder_path, "--out", str(out), "--model-name", "mean", "--no-progress"]
    assert (
        main(
            [
                "run",
                "genecis",
                "--root",
                str(data / "genecis"),
                "--task",
                "focus_object",
                "--cache-dir",
                str(tmp_path / "cache"),
                *args,
            ]
        )
        == 0
    )
    record = json.loads((out / "genecis_focus_object_mean.json").read_text())
    assert record["metrics"] == {"recall@1": 100.0, "recall@2": 100.0, "recall@3": 100.0}
    assert record["info"]["num_queries"] == 1 and "torch" in record["versions"] and record["date"]
    assert list((tmp_path / "cache").glob("*/shard-*.pt"))
    # 'run all' finds the genecis folder, skips the others; the whole GeneCIS needs 4 files -> error code
    assert main(["run", "all", "--root", str(data), *args]) == 2
    assert main(["aggregate", str(out), "--no-plots"]) == 0
    assert "| mean | focus_object | 100.00 | 100.00 | 100.00 |" in (out / "results.md").read_text()
    assert (out / "results.csv").read_text().splitlines()[0] == "benchmark,task,model,recall@1,recall@2,recall@3"


def test_plots(tmp_path: Path, encoder_path: str, make_image, make_json) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("matplotlib")
    _genecis(tmp_path / "g", make_image, make_json)
    out = tmp_path / "r"
    assert (
        main(
            [
                "run",
                "genecis",
                "--root",
                str(tmp_path / "g"),
                "--task",
                "focus_object",
                "--encoder",
                encoder_path,
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    assert main(["aggregate", str(out)]) == 0
    assert (out / "genecis.png").stat().st_size > 0


def test_bad_input_exit_code(tmp_path: Path, encoder_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "genecis", "--root", str(tmp_path / "nope"), "--encoder", encoder_path]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert main(["run", "nosuch", "--root", str(tmp_path), "--encoder", encoder_path]) == 2
