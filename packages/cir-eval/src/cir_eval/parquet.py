"""Images stored as bytes in parquet files (LRVS-F): lazy pyarrow, checked columns, :class:`ImageRef` s.

pyarrow is the optional extra ``lrvsf`` (``pip install 'cir-eval[lrvsf]'``), imported only here and
only when a parquet benchmark runs, so cir-eval installs and imports without it.
"""

from __future__ import annotations

import io
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image

from cir_eval.errors import AnnotationError, BenchmarkDataError
from cir_eval.images import ImageRef

__all__ = ["bytes_image", "image_bytes", "read_columns"]


def _parquet() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError as err:
        raise ImportError("reading parquet benchmarks (LRVS-F) needs pyarrow: pip install 'cir-eval[lrvsf]'") from err
    return pq


def read_columns(path: Path, columns: list[str]) -> dict[str, list[Any]]:
    """Return ``{column: values}`` of a parquet file; a missing file or column raises naming it."""
    if not path.is_file():
        raise FileNotFoundError(f"missing parquet file {path}")
    pq = _parquet()
    try:
        schema_names = pq.read_schema(path).names
        missing = [c for c in columns if c not in schema_names]
        if missing:
            raise AnnotationError(path, None, missing[0], f"column missing (the file has {schema_names})")
        table = pq.read_table(path, columns=columns)
    except OSError as err:
        raise BenchmarkDataError(f"cannot read parquet file {path}: {err}") from err
    return {column: table.column(column).to_pylist() for column in columns}


def image_bytes(value: Any, path: Path, row: int, column: str) -> bytes:
    """Return the encoded image of one cell: raw bytes, or the ``bytes`` of a Hugging Face image struct."""
    if isinstance(value, dict):
        value = value.get("bytes")
    if not isinstance(value, (bytes, bytearray)) or not value:
        raise AnnotationError(path, row, column, f"expected encoded image bytes, got {type(value).__name__}")
    return bytes(value)


def _decode(data: bytes, origin: str) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.convert("RGB")
    except OSError as err:
        raise BenchmarkDataError(f"cannot decode image {origin}: {err}") from err


def bytes_image(path: Path, row: int, column: str, data: bytes) -> ImageRef:
    """Return a reference to the image in ``path`` at ``row`` / ``column`` (keyed by file, row and column)."""
    origin = f"{path}, row {row}, column {column!r}"
    return ImageRef(key=f"{path.resolve()}::{column}[{row}]", load=partial(_decode, data, origin), origin=origin,
                    path=path)
