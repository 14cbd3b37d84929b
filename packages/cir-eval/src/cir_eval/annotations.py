"""Reading annotation files with errors that name the file, the entry index and the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cir_eval.errors import AnnotationError, BenchmarkDataError

__all__ = ["load_json", "require_field", "resolve_dir"]


def load_json(path: Path, expect: type | tuple[type, ...]) -> Any:
    """Return the JSON at ``path``, which must hold a ``list`` or ``dict`` (or either) as ``expect`` says."""
    if not path.is_file():
        raise FileNotFoundError(f"missing annotation file {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise AnnotationError(path, None, "<file>", f"not valid JSON ({err})") from err
    if not isinstance(data, expect):
        names = expect.__name__ if isinstance(expect, type) else " or ".join(t.__name__ for t in expect)
        raise AnnotationError(path, None, "<file>", f"expected a JSON {names}, got {type(data).__name__}")
    return data


def require_field(entry: Any, field: str, kinds: type | tuple[type, ...], path: Path, index: int | str) -> Any:
    """Return ``entry[field]`` if it exists and has one of ``kinds``, else raise :class:`AnnotationError`."""
    if not isinstance(entry, dict):
        raise AnnotationError(path, index, field, f"entry is a {type(entry).__name__}, not an object")
    if field not in entry:
        raise AnnotationError(path, index, field, "missing")
    value = entry[field]
    if isinstance(value, bool) or not isinstance(value, kinds):
        names = kinds.__name__ if isinstance(kinds, type) else " or ".join(k.__name__ for k in kinds)
        raise AnnotationError(path, index, field, f"expected {names}, got {type(value).__name__} {value!r}")
    return value


def resolve_dir(root: Path, value: str) -> Path:
    """Return an image folder option: relative to the benchmark root, or absolute as the user gave it."""
    path = Path(value)
    path = path if path.is_absolute() else root / path
    if not path.is_dir():
        raise BenchmarkDataError(f"image folder {path} does not exist")
    return path
