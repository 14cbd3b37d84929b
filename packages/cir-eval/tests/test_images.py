"""Image paths stay inside the data root, also when their resolution is remembered between calls."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cir_eval.errors import BenchmarkDataError
from cir_eval.images import file_image, forget_resolved_paths, resolve_inside


def test_same_reference_twice_gives_the_same_path_and_key(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.jpg").write_bytes(b"")
    first = file_image(tmp_path, "a/x.jpg", "entry 0")
    second = file_image(tmp_path, "a/x.jpg", "entry 1")
    assert first.path == second.path == (tmp_path / "a" / "x.jpg").resolve()
    assert first.key == second.key and first.origin != second.origin


@pytest.mark.parametrize("relative", ["../outside.jpg", "a/../../outside.jpg", "/etc/passwd"])
def test_escaping_paths_are_refused_every_time(tmp_path: Path, relative: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    for origin in ("entry 0", "entry 1"):  # the second call is answered from the remembered resolution
        with pytest.raises(BenchmarkDataError, match=f"{origin}: image path .* outside the data root"):
            resolve_inside(root, relative, origin)


def test_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.jpg").write_bytes(b"")
    (root / "link.jpg").symlink_to(tmp_path / "secret.jpg")
    with pytest.raises(BenchmarkDataError, match="outside the data root"):
        resolve_inside(root, "link.jpg", "entry 3")


def test_relative_root_follows_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("one", "two"):
        (tmp_path / name / "data").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "one")
    assert resolve_inside(Path("data"), "x.jpg", "e") == (tmp_path / "one" / "data" / "x.jpg").resolve()
    monkeypatch.chdir(tmp_path / "two")
    assert resolve_inside(Path("data"), "x.jpg", "e") == (tmp_path / "two" / "data" / "x.jpg").resolve()


def test_forget_resolved_paths_sees_a_moved_symlink(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "v1").mkdir(parents=True)
    (root / "v2").mkdir()
    (root / "current").symlink_to(root / "v1")
    assert resolve_inside(root, "current/x.jpg", "e") == (root / "v1" / "x.jpg").resolve()
    os.remove(root / "current")
    (root / "current").symlink_to(root / "v2")
    forget_resolved_paths()
    assert resolve_inside(root, "current/x.jpg", "e") == (root / "v2" / "x.jpg").resolve()
