"""The recipe registry: name -> (config function, parts builder, optional phase splitter)."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from torch import nn

from cir_train.config import TrainConfig

__all__ = ["PhaseSplitter", "Recipe", "Scale", "TrainParts", "get_recipe", "list_recipes", "register_recipe"]

Scale = Literal["tiny", "full"]


@dataclass(frozen=True)
class TrainParts:
    """What a recipe builds from its config: the trained module, a map-style dataset, a collate function."""

    module: nn.Module
    dataset: Any
    collate_fn: Callable[[list[Any]], Any] | None = None


PhaseSplitter = Callable[[TrainConfig], tuple[TrainConfig, ...]]


@dataclass(frozen=True)
class Recipe:
    """A registered recipe: ``config(scale)``, ``build(config)`` and, for multi-phase recipes, ``phases``."""

    name: str
    config: Callable[[Scale], TrainConfig]
    build: Callable[[TrainConfig], TrainParts]
    phases: PhaseSplitter | None = None

    def runs(self, config: TrainConfig) -> tuple[TrainConfig, ...]:
        """The training runs of a whole-run ``config``, in order: its phases, or the config itself.

        A config that already names its phase (``model.options.phase``) is one run of its own.
        """
        if self.phases is None or "phase" in config.model.options:
            return (config,)
        return self.phases(config)


_RECIPES: dict[str, Recipe] = {}


def register_recipe(
    name: str, build: Callable[[TrainConfig], TrainParts], phases: PhaseSplitter | None = None
) -> Callable[[Callable[[Scale], TrainConfig]], Callable[[Scale], TrainConfig]]:
    """Register the decorated config function under ``name`` with its parts builder (and phase splitter).

    Names are unique.
    """

    def decorate(config: Callable[[Scale], TrainConfig]) -> Callable[[Scale], TrainConfig]:
        if name in _RECIPES:
            raise ValueError(f"recipe {name!r} is already registered")
        _RECIPES[name] = Recipe(name, config, build, phases)
        return config

    return decorate


def list_recipes() -> list[str]:
    """Sorted names of the registered recipes."""
    return sorted(_RECIPES)


def get_recipe(name: str) -> Recipe:
    """The recipe registered under ``name``; an unknown name lists the close matches."""
    if name not in _RECIPES:
        close = difflib.get_close_matches(name, list(_RECIPES), n=3)
        raise KeyError(f"unknown recipe {name!r}; did you mean {close}? registered: {list_recipes()}")
    return _RECIPES[name]
