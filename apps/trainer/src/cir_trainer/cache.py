"""Content-addressed stage folders: a stage's output lives under a name derived from its settings.

A stage is written into a ``.tmp-`` sibling (one per process) and renamed into place when complete,
so a crash never leaves a half-written folder that a later run would trust; a re-run with the same
settings finds the folder and reuses it, and of two processes building the same stage, the first
rename wins and the other's copy is dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["cache_root", "settings_digest", "stage_folder"]

CACHE_ENV = "CIR_CACHE_DIR"


def cache_root() -> Path:
    """``$CIR_CACHE_DIR``, else ``~/.cache/cir``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "cir")


def settings_digest(settings: dict[str, Any]) -> str:
    """A short, stable hash of JSON-ready ``settings``."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def stage_folder(parent: Path, name: str, settings: dict[str, Any], build: Callable[[Path], None]) -> Path:
    """``parent/<name>-<digest>``, built by ``build(tmp_folder)`` unless a complete one exists."""
    final = parent / f"{name}-{settings_digest(settings)}"
    if (final / "settings.json").is_file():
        return final
    tmp = parent / f".tmp-{final.name}-{os.getpid()}"  # per process: ranks of a launcher may build at once
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    build(tmp)
    (tmp / "settings.json").write_text(json.dumps(settings, indent=2, sort_keys=True, default=str))
    try:
        os.replace(tmp, final)
    except OSError:  # another process renamed its identical build into place first
        if not (final / "settings.json").is_file():
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    return final
