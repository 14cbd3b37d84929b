"""Finding encoders: the ``cir_eval.encoders`` entry-point group, or an import path ``module:factory``.

cir-eval imports no model package. A model package declares, in its ``pyproject.toml``::

    [project.entry-points."cir_eval.encoders"]
    combiner = "cir_models.combiner:create_combiner_encoder"

and ``load_encoder("combiner", **kwargs)`` calls that factory. A user's own model needs no
registration: ``load_encoder("my_pkg.models:build")`` imports ``my_pkg.models`` and calls ``build``.
"""

from __future__ import annotations

import difflib
import importlib
from importlib.metadata import EntryPoint, entry_points
from typing import Any

ENTRY_POINT_GROUP = "cir_eval.encoders"

__all__ = ["ENTRY_POINT_GROUP", "list_encoders", "load_encoder"]


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def list_encoders() -> list[str]:
    """Return the sorted names registered under the ``cir_eval.encoders`` entry-point group."""
    return sorted(_entry_points())


def _import_factory(path: str) -> Any:
    module_name, _, attr_path = path.partition(":")
    if not module_name or not attr_path:
        raise ValueError(f"an encoder import path must look like 'module:factory', got {path!r}")
    target: Any = importlib.import_module(module_name)
    for part in attr_path.split("."):
        try:
            target = getattr(target, part)
        except AttributeError as err:
            raise ValueError(f"{module_name!r} has no attribute {attr_path!r} (from {path!r})") from err
    return target


def load_encoder(name_or_path: str, **kwargs: Any) -> Any:
    """Build an encoder from a registered name or ``module:factory``; ``kwargs`` go to the factory.

    Example: ``load_encoder("my_pkg.models:build", dim=64)``.
    Raises ``ValueError`` with the closest registered names for an unknown name.
    """
    if ":" in name_or_path:
        factory = _import_factory(name_or_path)
    else:
        registered = _entry_points()
        if name_or_path not in registered:
            close = difflib.get_close_matches(name_or_path, list(registered), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            known = ", ".join(sorted(registered)) or "none installed"
            raise ValueError(f"unknown encoder {name_or_path!r}{hint} (registered: {known}; or pass 'module:factory')")
        factory = registered[name_or_path].load()
    if not callable(factory):
        raise TypeError(f"encoder factory {name_or_path!r} is not callable")
    return factory(**kwargs)
