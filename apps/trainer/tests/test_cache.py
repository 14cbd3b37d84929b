"""Content-addressed stage folders: built once, reused, and safe when two processes build the same stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cir_trainer.cache import stage_folder


def test_a_stage_is_built_once_then_reused(tmp_path: Path) -> None:
    calls = []

    def build(out: Path) -> None:
        calls.append(out.name)
        (out / "data.txt").write_text("built")

    first = stage_folder(tmp_path, "world", {"images": 3}, build)
    again = stage_folder(tmp_path, "world", {"images": 3}, build)
    other = stage_folder(tmp_path, "world", {"images": 4}, build)
    assert first == again != other and len(calls) == 2
    assert (first / "data.txt").read_text() == "built"
    assert json.loads((first / "settings.json").read_text()) == {"images": 3}
    assert not list(tmp_path.glob(".tmp-*"))


def test_when_another_process_finishes_first_its_stage_is_kept(tmp_path: Path) -> None:
    def build(out: Path) -> None:
        # while this process builds, another one (another rank) completes the same stage
        winner = tmp_path / out.name.removeprefix(".tmp-").rsplit("-", 1)[0]
        winner.mkdir()
        (winner / "data.txt").write_text("the other process")
        (winner / "settings.json").write_text(json.dumps({"images": 3}))
        (out / "data.txt").write_text("this process")

    final = stage_folder(tmp_path, "world", {"images": 3}, build)
    assert (final / "data.txt").read_text() == "the other process"
    assert not list(tmp_path.glob(".tmp-*"))


def test_a_failed_build_leaves_no_stage(tmp_path: Path) -> None:
    def build(out: Path) -> None:
        (out / "half.txt").write_text("half")
        raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        stage_folder(tmp_path, "world", {"images": 3}, build)
    assert not [p for p in tmp_path.iterdir() if not p.name.startswith(".tmp-")]
