"""Architecture registry: open_clip's configs plus the JSON files in ``cir_models/model_configs``.

Our JSON files use open_clip's schema (``embed_dim``, ``vision_cfg``, ``text_cfg``), so they are
registered with open_clip itself (its ``add_model_config``) and built by its factory; adding an
architecture means adding a file. Importing this module registers the bundled folder once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import open_clip

__all__ = ["MODEL_CONFIG_DIR", "add_model_config", "get_model_config", "list_models"]

MODEL_CONFIG_DIR = Path(__file__).parent / "model_configs"
REQUIRED_KEYS = ("embed_dim", "vision_cfg", "text_cfg")


def _check_config_file(path: Path) -> None:
    """Fail loudly on a config open_clip would skip silently (it ignores files missing a key)."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    for file in files:
        try:
            cfg = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{file}: not valid JSON ({err})") from None
        missing = [k for k in REQUIRED_KEYS if k not in cfg]
        if missing:
            raise ValueError(f"{file}: model config lacks {missing} (needs {list(REQUIRED_KEYS)})")


def add_model_config(path: str | Path) -> None:
    """Register one architecture JSON file, or every ``*.json`` in a folder, under its file stem."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model config path not found: {path}")
    _check_config_file(path)
    open_clip.add_model_config(path)


def list_models() -> list[str]:
    """Every architecture name ``create_backbone`` accepts (open_clip's and ours)."""
    return list(open_clip.list_models())


def get_model_config(name: str) -> dict[str, Any]:
    """Return a copy of the architecture config registered under ``name``."""
    cfg = open_clip.get_model_config(name)
    if cfg is None:
        raise KeyError(f"unknown architecture {name!r}; see cir_models.list_models() or add_model_config()")
    return dict(cfg)


add_model_config(MODEL_CONFIG_DIR)
