"""Recipes: named functions that return a full :class:`~cir_train.TrainConfig`, plus the builder of its parts.

``get_recipe(name).config(scale)`` gives the config at ``"tiny"`` (CPU, synthetic world) or
``"full"`` (the spec's setting); ``get_recipe(name).build(config)`` returns the module, the
dataset and the collate function the :class:`~cir_train.Trainer` takes.
"""

from __future__ import annotations

from cir_train.recipes import clip as _clip  # noqa: F401  (registers "clip")
from cir_train.recipes import combiner as _combiner  # noqa: F401  (registers "combiner")
from cir_train.recipes import condvit as _condvit  # noqa: F401  (registers "condvit")
from cir_train.recipes import lincir as _lincir  # noqa: F401  (registers "lincir")
from cir_train.recipes import meru as _meru  # noqa: F401  (registers "meru")
from cir_train.recipes import universal as _universal  # noqa: F401  (registers "universal")
from cir_train.recipes.registry import Recipe, TrainParts, get_recipe, list_recipes, register_recipe

__all__ = ["Recipe", "TrainParts", "get_recipe", "list_recipes", "register_recipe"]
