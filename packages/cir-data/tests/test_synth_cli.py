"""``cir-data synth``: the same seed gives byte-identical annotation files and images."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cir_data.cli import COMMANDS, main


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(tmp_path):
    exports = "genecis,cirr,fashioniq,circo,lrvsf,uned"
    args = ["synth", "--images", "12", "--samples-per-shard", "5", "--queries", "4", "--export", exports]
    args += ["--no-progress", "--processes", "1"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    stats = {name for name in a if name.endswith("_stats.json")}  # they hold wall-clock durations
    assert stats == {"shards/00000_stats.json", "shards/00001_stats.json", "shards/00002_stats.json"}
    assert {k: v for k, v in a.items() if k not in stats} == {k: v for k, v in b.items() if k not in stats}
    assert any(name.endswith(".jpg") for name in a) and any(name.endswith(".parquet") for name in a)
    for folder in ("genecis", "cirr", "fashioniq", "CIRCO", "lrvsf", "uned"):
        manifest = json.loads(a[f"{folder}/manifest.json"])
        assert manifest["seed"] == 0 and manifest["image_size"] == 64


def test_different_seed_different_annotations(tmp_path):
    common = ["synth", "--images", "0", "--queries", "4", "--export", "genecis", "--no-progress"]
    main([*common, "--out", str(tmp_path / "a"), "--seed", "1"])
    main([*common, "--out", str(tmp_path / "b"), "--seed", "2"])
    assert (tmp_path / "a/genecis/focus_object.json").read_bytes() != (
        tmp_path / "b/genecis/focus_object.json"
    ).read_bytes()


def test_registry_and_unknown_export(tmp_path):
    assert "synth" in COMMANDS
    with pytest.raises(SystemExit):
        main(["synth", "--out", str(tmp_path), "--images", "0", "--export", "nope"])


def test_synth_never_imports_torch():
    code = "import sys, cir_data.synth, cir_data.cli; sys.exit(int(bool({'torch', 'open_clip'} & set(sys.modules))))"
    # The child inherits this interpreter and environment, so it imports the same cir_data.
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
