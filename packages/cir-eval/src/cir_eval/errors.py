"""Errors that name the file, the entry and the field at fault."""

from __future__ import annotations

from pathlib import Path

__all__ = ["AnnotationError", "BenchmarkDataError"]


class BenchmarkDataError(ValueError):
    """Benchmark data that cannot be evaluated honestly (empty gallery, target missing from it, ...)."""


class AnnotationError(BenchmarkDataError):
    """A malformed annotation: names the file, the entry index and the field."""

    def __init__(self, path: str | Path, index: int | str | None, field: str, problem: str) -> None:
        where = f"{path}" if index is None else f"{path}, entry {index}"
        super().__init__(f"{where}, field {field!r}: {problem}")
        self.path = Path(path)
        self.index = index
        self.field = field
